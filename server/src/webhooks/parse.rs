//! Provider payloads into events. Only called on bodies that passed authentication; a body of
//! any shape or bytes answers events or a `ParseError`, never a panic (see the property tests).

use super::MAX_EVENTS;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not the provider's format; the reason is shown to the provider (no input echoed).
    Malformed(String),
    /// More than `MAX_EVENTS` events in one delivery.
    TooManyEvents,
}

impl From<String> for ParseError {
    fn from(reason: String) -> Self {
        Self::Malformed(reason)
    }
}

impl From<&str> for ParseError {
    fn from(reason: &str) -> Self {
        Self::Malformed(reason.to_owned())
    }
}

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

/// The rank of a final failure.
pub const FAILED: i32 = 5;

/// Statuses only move forward: accepted < sent < delivered < read; a failure is final.
pub fn status_rank(status: &str) -> i32 {
    match status.to_ascii_lowercase().as_str() {
        "accepted" | "queued" | "pending" | "pending_enroute" | "sending" => 1,
        "sent" | "pending_accepted" => 2,
        "delivered" | "delivered_to_handset" => 3,
        "read" | "seen" => 4,
        "failed" | "undelivered" | "undeliverable" | "rejected" | "expired" => FAILED,
        _ => 0,
    }
}

/// The longest texts an event keeps (the raw body keeps everything).
pub const ID_MAX: usize = 256;
pub const PARTY_MAX: usize = 256;
pub const STATUS_MAX: usize = 64;
pub const TEXT_MAX: usize = 4096;

/// Text as a database column can take it: NUL (which PostgreSQL refuses in text) becomes
/// U+FFFD, and it is cut to `max` characters.
pub fn storable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
        .collect()
}

impl Event {
    /// An event whose every text is as its column takes it, so what waits in memory for the
    /// writer is no larger than what will be stored.
    fn new(
        kind: Kind,
        id: &str,
        sender: &str,
        recipient: &str,
        text: Option<&str>,
        status: Option<&str>,
    ) -> Self {
        Self {
            kind,
            provider_message_id: storable(id, ID_MAX),
            sender: storable(sender, PARTY_MAX),
            recipient: storable(recipient, PARTY_MAX),
            text: text.map(|t| storable(t, TEXT_MAX)),
            status: status.map(|s| storable(&s.to_ascii_lowercase(), STATUS_MAX)),
        }
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
pub fn infobip(kind: Kind, body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or("expected {\"results\": [...]}")?;
    if results.len() > MAX_EVENTS {
        return Err(ParseError::TooManyEvents);
    }
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = text(r, &["messageId"]).ok_or(format!("results[{i}].messageId is missing"))?;
            let from = text(r, &["from"]).unwrap_or_default();
            let to = text(r, &["to"]).unwrap_or_default();
            Ok(match kind {
                Kind::Message => {
                    let body = text(r, &["message", "text"]).or_else(|| text(r, &["text"]));
                    Event::new(kind, &id, &from, &to, body.as_deref(), None)
                }
                Kind::Report => {
                    let status = text(r, &["status", "groupName"])
                        .or_else(|| text(r, &["status", "name"]))
                        .or_else(|| text(r, &["status"]))
                        .ok_or(format!("results[{i}].status is missing"))?;
                    // the provider's reason, for a message that did not arrive
                    let reason = (status_rank(&status) == FAILED)
                        .then(|| {
                            text(r, &["error", "description"])
                                .or_else(|| text(r, &["status", "description"]))
                        })
                        .flatten();
                    Event::new(kind, &id, &from, &to, reason.as_deref(), Some(&status))
                }
            })
        })
        .collect::<Result<_, String>>()
        .map_err(ParseError::Malformed)
}

/// twilio: form-encoded.
pub fn twilio(kind: Kind, body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let fields = super::twilio::form(body).ok_or_else(too_many_params)?;
    twilio_fields(kind, &fields)
}

/// The refusal of a form with more than `twilio::MAX_PARAMS` parameters.
pub fn too_many_params() -> ParseError {
    const _: () = assert!(super::twilio::MAX_PARAMS == 1_000, "the words say 1,000");
    ParseError::Malformed("more than 1,000 form parameters".into())
}

/// twilio, a JSON body: its top-level fields with a string, number or boolean value (others
/// are skipped without being kept), at most `twilio::MAX_PARAMS` of them.
pub fn twilio_json(body: &[u8]) -> Result<super::twilio::Params<'static>, ParseError> {
    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;
    struct Scalar(Option<String>);
    impl<'de> serde::Deserialize<'de> for Scalar {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Scalar;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a value")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                    Ok(Scalar(Some(v.to_owned())))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                    Ok(Scalar(Some(v.to_string())))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                    Ok(Scalar(Some(v.to_string())))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                    Ok(Scalar(Some(v.to_string())))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                    Ok(Scalar(Some(v.to_string())))
                }
                fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                    Ok(Scalar(None))
                }
                fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                    while a.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(Scalar(None))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                    while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(Scalar(None))
                }
            }
            d.deserialize_any(V)
        }
    }
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = super::twilio::Params<'static>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.len() == super::twilio::MAX_PARAMS {
                    return Err(de::Error::custom("too many fields"));
                }
                if let Scalar(Some(value)) = map.next_value::<Scalar>()? {
                    out.push((Cow::Owned(key), Cow::Owned(value)));
                }
            }
            Ok(out)
        }
    }
    let mut d = serde_json::Deserializer::from_slice(body);
    let fields = d.deserialize_map(Fields).map_err(|e| {
        if e.to_string().starts_with("too many fields") {
            too_many_params()
        } else {
            ParseError::Malformed("the body is not a JSON object".into())
        }
    })?;
    d.end()
        .map_err(|_| ParseError::Malformed("the body is not a JSON object".into()))?;
    Ok(fields)
}

/// twilio: the event of a form already taken apart (`twilio::form`).
pub fn twilio_fields(
    kind: Kind,
    fields: &[(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)],
) -> Result<Vec<Event>, ParseError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_ref());
    let id = get("MessageSid").ok_or("MessageSid is missing")?;
    let from = get("From").unwrap_or_default();
    let to = get("To").unwrap_or_default();
    Ok(vec![match kind {
        Kind::Message => Event::new(
            kind,
            id,
            from,
            to,
            Some(get("Body").unwrap_or_default()),
            None,
        ),
        Kind::Report => {
            let error = get("ErrorCode")
                .filter(|c| !c.is_empty())
                .map(|c| format!("error {}", storable(c, 32)));
            let status = get("MessageStatus").ok_or("MessageStatus is missing")?;
            Event::new(kind, id, from, to, error.as_deref(), Some(status))
        }
    }])
}

/// cloud-api: Meta's `whatsapp_business_account` payload (messages and statuses).
pub fn cloud_api(body: &[u8]) -> Result<Vec<Event>, ParseError> {
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
            // cut once: every event of this change carries it
            let own = storable(
                &text(value, &["metadata", "display_phone_number"]).unwrap_or_default(),
                PARTY_MAX,
            );
            let list = |name: &str| {
                value
                    .get(name)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            };
            for m in list("messages") {
                if out.len() == MAX_EVENTS {
                    return Err(ParseError::TooManyEvents);
                }
                let id = text(m, &["id"]).ok_or("messages[].id is missing")?;
                let from = text(m, &["from"]).unwrap_or_default();
                let body = text(m, &["text", "body"]);
                out.push(Event::new(
                    Kind::Message,
                    &id,
                    &from,
                    &own,
                    body.as_deref(),
                    None,
                ));
            }
            for s in list("statuses") {
                if out.len() == MAX_EVENTS {
                    return Err(ParseError::TooManyEvents);
                }
                let id = text(s, &["id"]).ok_or("statuses[].id is missing")?;
                let to = text(s, &["recipient_id"]).unwrap_or_default();
                let status = text(s, &["status"]).ok_or("statuses[].status is missing")?;
                // the provider's reason, for a message that did not arrive
                let reason = s
                    .pointer("/errors/0/title")
                    .and_then(Value::as_str)
                    .filter(|_| status_rank(&status) == FAILED);
                out.push(Event::new(
                    Kind::Report,
                    &id,
                    &own,
                    &to,
                    reason,
                    Some(&status),
                ));
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
        let reason = |e: ParseError| match e {
            ParseError::Malformed(r) => r,
            ParseError::TooManyEvents => "too many".into(),
        };
        assert!(reason(infobip(Kind::Message, b"nope").unwrap_err()).contains("not JSON"));
        assert!(
            reason(infobip(Kind::Message, br#"{"results":[{}]}"#).unwrap_err())
                .contains("messageId")
        );
        assert!(infobip(Kind::Message, br#"{"x":1}"#).is_err());
    }

    #[test]
    fn twilio_json_bodies_are_bounded() {
        let p = twilio_json(
            br#"{"MessageSid":"SM1","MessageStatus":"read","n":3,"nested":{"a":[1,2]},"x":null}"#,
        )
        .unwrap();
        let r = twilio_fields(Kind::Report, &p).unwrap();
        assert_eq!(r[0].status.as_deref(), Some("read"));
        assert_eq!(p.len(), 3);
        let many = format!(
            "{{{}}}",
            (0..=crate::webhooks::twilio::MAX_PARAMS)
                .map(|i| format!("\"k{i}\":\"v\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(twilio_json(many.as_bytes()), Err(too_many_params()));
        assert!(twilio_json(b"[1]").is_err());
        assert!(twilio_json(b"{} x").is_err());
        assert!(twilio(Kind::Message, "a=1&".repeat(1_001).as_bytes()).is_err());
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
    fn at_most_a_thousand_events_per_delivery() {
        let results = |n: usize| {
            let items: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"messageId":"m{i}","status":{{"groupName":"SENT"}}}}"#))
                .collect();
            format!(r#"{{"results":[{}]}}"#, items.join(","))
        };
        assert_eq!(
            infobip(Kind::Report, results(1000).as_bytes())
                .unwrap()
                .len(),
            1000
        );
        assert_eq!(
            infobip(Kind::Report, results(1001).as_bytes()),
            Err(ParseError::TooManyEvents)
        );
        let statuses = |n: usize| {
            let items: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"id":"w{i}","status":"sent","recipient_id":"1"}}"#))
                .collect();
            format!(
                r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"value":{{"statuses":[{}]}}}}]}}]}}"#,
                items.join(",")
            )
        };
        assert_eq!(cloud_api(statuses(1000).as_bytes()).unwrap().len(), 1000);
        assert_eq!(
            cloud_api(statuses(1001).as_bytes()),
            Err(ParseError::TooManyEvents)
        );
    }

    #[test]
    fn storable_text_has_no_nul_and_fits_its_column() {
        assert_eq!(storable("a\0b", 10), "a\u{FFFD}b");
        assert_eq!(storable("äöü", 2), "äö");
        assert_eq!(storable("", 5), "");
    }

    #[test]
    fn one_long_field_is_not_copied_into_every_event() {
        let statuses: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"id":"w{i}","status":"sent"}}"#))
            .collect();
        let body = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"value":{{"metadata":{{"display_phone_number":"{}"}},"statuses":[{}]}}}}]}}]}}"#,
            "9".repeat(500_000),
            statuses.join(",")
        );
        let events = cloud_api(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 1000);
        let held: usize = events.iter().map(|e| e.sender.len()).sum();
        assert_eq!(
            held,
            1000 * PARTY_MAX,
            "each event holds the cut number, not 500 KB"
        );
    }

    #[test]
    fn statuses_only_move_forward() {
        assert!(status_rank("read") > status_rank("delivered"));
        assert!(status_rank("delivered") > status_rank("sent"));
        assert!(status_rank("SENT") > status_rank("queued"));
        assert!(status_rank("failed") > status_rank("read"));
    }

    use proptest::prelude::*;

    /// Any JSON value, nested up to 4 levels, with the keys the parsers look for among others.
    fn json() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "results",
            "messageId",
            "from",
            "to",
            "message",
            "text",
            "status",
            "groupName",
            "name",
            "object",
            "entry",
            "changes",
            "value",
            "messages",
            "statuses",
            "id",
            "recipient_id",
            "metadata",
            "display_phone_number",
            "body",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::String),
            Just(Value::String("whatsapp_business_account".into())),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8).prop_map(|kv| {
                    Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    fn bounded(r: Result<Vec<Event>, ParseError>) -> Result<(), TestCaseError> {
        if let Ok(events) = r {
            prop_assert!(events.len() <= MAX_EVENTS);
            for e in events {
                prop_assert!(e.provider_message_id.chars().count() <= ID_MAX);
                prop_assert!(e.sender.chars().count() <= PARTY_MAX);
                prop_assert!(e.recipient.chars().count() <= PARTY_MAX);
                prop_assert!(
                    e.text
                        .as_ref()
                        .is_none_or(|t| t.chars().count() <= TEXT_MAX)
                );
                let printed = format!("{e:?}");
                prop_assert!(!printed.contains('\0'));
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panicking(body in prop::collection::vec(any::<u8>(), 0..512)) {
            bounded(infobip(Kind::Message, &body))?;
            bounded(infobip(Kind::Report, &body))?;
            bounded(twilio(Kind::Message, &body))?;
            bounded(twilio(Kind::Report, &body))?;
            bounded(cloud_api(&body))?;
        }

        #[test]
        fn any_json_shape_parses_or_fails_without_panicking(v in json()) {
            let body = serde_json::to_vec(&v).unwrap();
            bounded(infobip(Kind::Message, &body))?;
            bounded(infobip(Kind::Report, &body))?;
            bounded(cloud_api(&body))?;
            let wrapped = serde_json::to_vec(&serde_json::json!({"results": [v.clone()]})).unwrap();
            bounded(infobip(Kind::Report, &wrapped))?;
            let meta = serde_json::to_vec(&serde_json::json!({
                "object": "whatsapp_business_account",
                "entry": [{"changes": [{"value": v}]}]
            })).unwrap();
            bounded(cloud_api(&meta))?;
        }

        #[test]
        fn any_form_parses_or_fails_without_panicking(
            fields in prop::collection::vec(
                (prop::sample::select(vec!["MessageSid", "MessageStatus", "From", "To", "Body", "ErrorCode", "x"]), ".{0,16}"),
                0..10,
            )
        ) {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            bounded(twilio(Kind::Message, body.as_bytes()))?;
            bounded(twilio(Kind::Report, body.as_bytes()))?;
        }
    }
}
