//! Provider payloads into events. Only called on bodies that passed authentication.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Report,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Report => "report",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub provider_message_id: String,
    pub sender: String,
    pub recipient: String,
    pub text: Option<String>,
    pub status: Option<String>,
}

/// Statuses only move forward: accepted < sent < delivered < read; a failure is final.
pub fn status_rank(status: &str) -> i32 {
    match status.to_ascii_lowercase().as_str() {
        "accepted" | "queued" | "pending" | "pending_enroute" | "sending" => 1,
        "sent" | "pending_accepted" => 2,
        "delivered" | "delivered_to_handset" => 3,
        "read" | "seen" => 4,
        "failed" | "undelivered" | "undeliverable" | "rejected" | "expired" => 5,
        _ => 0,
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// infobip and other: `{"results":[…]}`.
pub fn infobip(kind: Kind, body: &[u8]) -> Result<Vec<Event>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or("expected {\"results\": [...]}")?;
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = text(r, &["messageId"]).ok_or(format!("results[{i}].messageId is missing"))?;
            Ok(match kind {
                Kind::Message => Event {
                    kind,
                    provider_message_id: id,
                    sender: text(r, &["from"]).unwrap_or_default(),
                    recipient: text(r, &["to"]).unwrap_or_default(),
                    text: text(r, &["message", "text"]).or_else(|| text(r, &["text"])),
                    status: None,
                },
                Kind::Report => Event {
                    kind,
                    provider_message_id: id,
                    sender: text(r, &["from"]).unwrap_or_default(),
                    recipient: text(r, &["to"]).unwrap_or_default(),
                    text: None,
                    status: Some(
                        text(r, &["status", "groupName"])
                            .or_else(|| text(r, &["status", "name"]))
                            .or_else(|| text(r, &["status"]))
                            .ok_or(format!("results[{i}].status is missing"))?
                            .to_ascii_lowercase(),
                    ),
                },
            })
        })
        .collect()
}

/// twilio: form-encoded.
pub fn twilio(kind: Kind, body: &[u8]) -> Result<Vec<Event>, String> {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let id = get("MessageSid").ok_or("MessageSid is missing")?;
    Ok(vec![match kind {
        Kind::Message => Event {
            kind,
            provider_message_id: id,
            sender: get("From").unwrap_or_default(),
            recipient: get("To").unwrap_or_default(),
            text: Some(get("Body").unwrap_or_default()),
            status: None,
        },
        Kind::Report => Event {
            kind,
            provider_message_id: id,
            sender: get("From").unwrap_or_default(),
            recipient: get("To").unwrap_or_default(),
            text: get("ErrorCode")
                .filter(|c| !c.is_empty())
                .map(|c| format!("error {c}")),
            status: Some(
                get("MessageStatus")
                    .ok_or("MessageStatus is missing")?
                    .to_ascii_lowercase(),
            ),
        },
    }])
}

/// cloud-api: Meta's `whatsapp_business_account` payload (messages and statuses).
pub fn cloud_api(body: &[u8]) -> Result<Vec<Event>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    if v.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Err("expected \"object\": \"whatsapp_business_account\"".into());
    }
    let entries = v
        .get("entry")
        .and_then(Value::as_array)
        .ok_or("entry is missing")?;
    let mut out = Vec::new();
    for entry in entries {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let value = change.get("value").ok_or("changes[].value is missing")?;
            let own = text(value, &["metadata", "display_phone_number"]).unwrap_or_default();
            for m in value
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.push(Event {
                    kind: Kind::Message,
                    provider_message_id: text(m, &["id"]).ok_or("messages[].id is missing")?,
                    sender: text(m, &["from"]).unwrap_or_default(),
                    recipient: own.clone(),
                    text: text(m, &["text", "body"]),
                    status: None,
                });
            }
            for s in value
                .get("statuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.push(Event {
                    kind: Kind::Report,
                    provider_message_id: text(s, &["id"]).ok_or("statuses[].id is missing")?,
                    sender: own.clone(),
                    recipient: text(s, &["recipient_id"]).unwrap_or_default(),
                    text: None,
                    status: Some(
                        text(s, &["status"])
                            .ok_or("statuses[].status is missing")?
                            .to_ascii_lowercase(),
                    ),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infobip_messages_and_reports() {
        let m = infobip(
            Kind::Message,
            br#"{"results":[{"messageId":"ib-1","from":"4915112345678","to":"4930901820","message":{"type":"TEXT","text":"Hello"}}]}"#,
        )
        .unwrap();
        assert_eq!(m[0].provider_message_id, "ib-1");
        assert_eq!(m[0].text.as_deref(), Some("Hello"));
        let r = infobip(Kind::Report, br#"{"results":[{"messageId":"ib-1","to":"49151","status":{"groupName":"DELIVERED","name":"DELIVERED_TO_HANDSET"}}]}"#).unwrap();
        assert_eq!(r[0].status.as_deref(), Some("delivered"));
        assert!(
            infobip(Kind::Message, b"nope")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            infobip(Kind::Message, br#"{"results":[{}]}"#)
                .unwrap_err()
                .contains("messageId")
        );
        assert!(infobip(Kind::Message, br#"{"x":1}"#).is_err());
    }

    #[test]
    fn twilio_forms() {
        let m = twilio(Kind::Message, b"MessageSid=SM1&From=whatsapp%3A%2B4915&To=whatsapp%3A%2B1415&Body=Hi+there&NumMedia=0&ProfileName=Ann").unwrap();
        assert_eq!(
            (m[0].sender.as_str(), m[0].text.as_deref()),
            ("whatsapp:+4915", Some("Hi there"))
        );
        let r = twilio(Kind::Report, b"MessageSid=SM1&MessageStatus=read").unwrap();
        assert_eq!(r[0].status.as_deref(), Some("read"));
        assert!(twilio(Kind::Report, b"MessageSid=SM1").is_err());
        assert!(twilio(Kind::Message, b"Body=x").is_err());
    }

    #[test]
    fn cloud_api_payloads() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"1"},"messages":[{"from":"4915","id":"wamid.1","timestamp":"1","type":"text","text":{"body":"Hallo"}}],"statuses":[{"id":"wamid.0","status":"read","timestamp":"1","recipient_id":"4915"}]}}]}]}"#;
        let e = cloud_api(body).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].kind, e[0].text.as_deref()),
            (Kind::Message, Some("Hallo"))
        );
        assert_eq!(
            (e[1].kind, e[1].status.as_deref()),
            (Kind::Report, Some("read"))
        );
        assert!(cloud_api(br#"{"object":"page","entry":[]}"#).is_err());
        assert_eq!(
            cloud_api(br#"{"object":"whatsapp_business_account","entry":[]}"#).unwrap(),
            vec![]
        );
    }

    #[test]
    fn statuses_only_move_forward() {
        assert!(status_rank("read") > status_rank("delivered"));
        assert!(status_rank("delivered") > status_rank("sent"));
        assert!(status_rank("SENT") > status_rank("queued"));
        assert!(status_rank("failed") > status_rank("read"));
    }
}
