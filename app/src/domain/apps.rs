//! APP Management (the reference's Configuration Center > Expansion and Integration > API
//! Management > APP Service > APP Management): an app is bound to one tenant space and
//! subscribes to APIs of a catalogue; it proves itself with its app key and app secret to get
//! a short-lived token, and calls the APIs with it. Pure rules, shared by the pages and the
//! server: names, the catalogue, the secret's overlap, token lifetimes and the send API's
//! request.

use serde::{Deserialize, Serialize};

/// The longest app name.
pub const MAX_NAME: usize = 64;
/// Apps one tenant space may have.
pub const MAX_APPS_PER_TENANT: u64 = 50;
/// The overlap offered when a secret is reset: the previous secret keeps working this long.
pub const DEFAULT_OVERLAP_HOURS: u32 = 24;
/// The longest overlap (30 days).
pub const MAX_OVERLAP_HOURS: u32 = 720;
/// A token's lifetime when the caller does not ask (the reference's example answers 600).
pub const DEFAULT_TOKEN_SECONDS: u32 = 600;
/// The longest lifetime `X-Token-Expire` may ask for.
pub const MAX_TOKEN_SECONDS: u32 = 3600;
/// Tokens of one app kept (live, or expired less than a day ago); issuing another retires
/// the oldest.
pub const MAX_LIVE_TOKENS: u64 = 100;
/// The longest text the send API takes (WhatsApp's own limit for a text message).
pub const MAX_TEXT: usize = 4096;
/// The longest client reference.
pub const MAX_CLIENT_REFERENCE: usize = 64;

/// An API an app may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Api {
    SendWhatsappMessage,
}

impl Api {
    /// The catalogue, in the order the page lists it.
    pub const ALL: [Self; 1] = [Self::SendWhatsappMessage];

    /// As stored and as a token's scope names it.
    pub fn code(self) -> &'static str {
        match self {
            Self::SendWhatsappMessage => "sendWhatsappMessage",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// What it does, as the page describes it.
    pub fn description(self) -> &'static str {
        match self {
            Self::SendWhatsappMessage => {
                "Send a WhatsApp text message through a channel of the tenant space, and read its status."
            }
        }
    }
}

/// The subscriptions as stored (codes, comma-separated, in catalogue order).
pub fn apis_to_string(apis: &[Api]) -> String {
    Api::ALL
        .into_iter()
        .filter(|a| apis.contains(a))
        .map(Api::code)
        .collect::<Vec<_>>()
        .join(",")
}

/// The subscriptions of a stored string; unknown codes are skipped.
pub fn apis_from_string(s: &str) -> Vec<Api> {
    s.split(',').filter_map(|c| Api::parse(c.trim())).collect()
}

/// The subscriptions a form sends (the codes of the ticked boxes), each known. None is allowed:
/// such an app gets tokens, but every API answers it "not subscribed".
pub fn parse_apis(codes: &[String]) -> Result<Vec<Api>, String> {
    let mut apis = Vec::new();
    for code in codes {
        match Api::parse(code.trim()) {
            Some(a) if !apis.contains(&a) => apis.push(a),
            Some(_) => {}
            None => {
                let shown: String = code.chars().take(40).collect();
                return Err(format!(
                    "\u{201c}{shown}\u{201d} is not an API of the catalogue."
                ));
            }
        }
    }
    Ok(apis)
}

/// An app's name: 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Enter a name for the app.".into());
        }
        if name.chars().count() > MAX_NAME {
            return Err(format!("The name must be at most {MAX_NAME} characters."));
        }
        if name.chars().any(char::is_control) {
            return Err("The name may not contain control characters.".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long the previous secret keeps working after a reset, in hours (0 ends it at once).
pub fn parse_overlap_hours(input: &str) -> Result<u32, String> {
    let t = input.trim();
    if t.is_empty() {
        return Ok(DEFAULT_OVERLAP_HOURS);
    }
    match t.parse::<u32>() {
        Ok(h) if h <= MAX_OVERLAP_HOURS => Ok(h),
        _ => Err(format!(
            "Enter the overlap in whole hours, from 0 to {MAX_OVERLAP_HOURS} (30 days)."
        )),
    }
}

/// The lifetime `X-Token-Expire` asks for (absent: the default), in seconds.
pub fn parse_token_expire(header: Option<&str>) -> Result<u32, String> {
    let Some(v) = header else {
        return Ok(DEFAULT_TOKEN_SECONDS);
    };
    match v.trim().parse::<u32>() {
        Ok(s) if (1..=MAX_TOKEN_SECONDS).contains(&s) => Ok(s),
        _ => Err(format!(
            "X-Token-Expire must be a whole number of seconds from 1 to {MAX_TOKEN_SECONDS}."
        )),
    }
}

/// An app key as an app's caller presents it: Switchboard's keys are `sbak_` and 32
/// lower-case hex digits. Anything else is no key of this server (and is answered like a
/// wrong secret, never told apart).
pub fn is_app_key(key: &str) -> bool {
    key.strip_prefix("sbak_").is_some_and(|h| {
        h.len() == 32
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

/// A send request of the `sendWhatsappMessage` API, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub channel_id: i64,
    /// The recipient as digits with a leading `+` (E.164).
    pub to: String,
    pub text: String,
    pub client_reference: Option<String>,
}

/// The request as it arrives (JSON), before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendDraft {
    pub channel_id: Option<serde_json::Value>,
    pub to: Option<serde_json::Value>,
    pub text: Option<serde_json::Value>,
    pub client_reference: Option<serde_json::Value>,
}

impl SendDraft {
    /// The request, or each field's error (`field`, `message`), in field order.
    pub fn check(&self) -> Result<SendRequest, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let channel_id = match &self.channel_id {
            Some(serde_json::Value::Number(n)) => n.as_i64().filter(|i| *i > 0),
            Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok().filter(|i| *i > 0),
            _ => None,
        };
        if channel_id.is_none() {
            errors.push((
                "channelId",
                "Give the id of one of the tenant space's channels (a positive whole number)."
                    .into(),
            ));
        }
        let to = match &self.to {
            Some(serde_json::Value::String(s)) => parse_recipient(s),
            _ => Err(
                "Give the recipient's number in international format, such as +8613800000000."
                    .into(),
            ),
        };
        let to = to.map_err(|e| errors.push(("to", e))).ok();
        let text = match &self.text {
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => {
                Err("Give the text to send.".to_string())
            }
            Some(serde_json::Value::String(s)) if s.chars().count() > MAX_TEXT => {
                Err(format!("The text must be at most {MAX_TEXT} characters."))
            }
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err("Give the text to send.".to_string()),
        };
        let text = text.map_err(|e| errors.push(("text", e))).ok();
        let client_reference = match &self.client_reference {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => {
                let r = s.trim();
                if r.is_empty() {
                    Ok(None)
                } else if r.chars().count() > MAX_CLIENT_REFERENCE
                    || !r.chars().all(|c| c.is_ascii_graphic())
                {
                    Err(format!(
                        "The client reference must be 1 to {MAX_CLIENT_REFERENCE} printable ASCII characters without spaces."
                    ))
                } else {
                    Ok(Some(r.to_owned()))
                }
            }
            _ => Err("The client reference must be a string.".to_string()),
        };
        let client_reference = client_reference
            .map_err(|e| errors.push(("clientReference", e)))
            .ok();
        match (channel_id, to, text, client_reference) {
            (Some(channel_id), Some(to), Some(text), Some(client_reference))
                if errors.is_empty() =>
            {
                Ok(SendRequest {
                    channel_id,
                    to,
                    text,
                    client_reference,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A recipient number: an optional `+`, then 8 to 15 digits (spaces, dashes and brackets
/// between them are dropped); answered as `+digits`.
pub fn parse_recipient(input: &str) -> Result<String, String> {
    let t = input.trim();
    let rest = t.strip_prefix('+').unwrap_or(t);
    if rest
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')')))
    {
        return Err("The recipient's number may contain only digits, after an optional +.".into());
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(
            "Give the recipient's number in international format: country code and number, 8 to 15 digits, such as +8613800000000."
                .into(),
        );
    }
    Ok(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert_eq!(AppName::parse("  CRM  ").unwrap().as_str(), "CRM");
        assert!(AppName::parse(" ").is_err());
        assert!(AppName::parse(&"x".repeat(MAX_NAME)).is_ok());
        assert!(AppName::parse(&"x".repeat(MAX_NAME + 1)).is_err());
        assert!(AppName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn catalogue() {
        let apis =
            parse_apis(&["sendWhatsappMessage".into(), "sendWhatsappMessage".into()]).unwrap();
        assert_eq!(apis, vec![Api::SendWhatsappMessage]);
        assert_eq!(apis_to_string(&apis), "sendWhatsappMessage");
        assert_eq!(apis_from_string("sendWhatsappMessage,gone"), apis);
        assert_eq!(parse_apis(&[]), Ok(vec![]));
        assert!(
            parse_apis(&["deleteEverything".into()])
                .unwrap_err()
                .contains("not an API")
        );
    }

    #[test]
    fn overlap() {
        assert_eq!(parse_overlap_hours(""), Ok(24));
        assert_eq!(parse_overlap_hours("0"), Ok(0));
        assert_eq!(parse_overlap_hours("720"), Ok(720));
        assert!(parse_overlap_hours("721").is_err());
        assert!(parse_overlap_hours("-1").is_err());
        assert!(parse_overlap_hours("1.5").is_err());
    }

    #[test]
    fn token_lifetime() {
        assert_eq!(parse_token_expire(None), Ok(600));
        assert_eq!(parse_token_expire(Some("3600")), Ok(3600));
        assert_eq!(parse_token_expire(Some(" 1 ")), Ok(1));
        for bad in ["0", "3601", "-5", "abc", "", "99999999999"] {
            assert!(parse_token_expire(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys() {
        assert!(is_app_key("sbak_0123456789abcdef0123456789abcdef"));
        assert!(!is_app_key("sbak_0123456789ABCDEF0123456789abcdef"));
        assert!(!is_app_key("sbak_0123"));
        assert!(!is_app_key("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn recipients() {
        assert_eq!(
            parse_recipient("+86 138-0000-0000").unwrap(),
            "+8613800000000"
        );
        assert_eq!(parse_recipient("4915112345678").unwrap(), "+4915112345678");
        assert!(parse_recipient("+1234567").is_err());
        assert!(parse_recipient("+1234567890123456").is_err());
        assert!(parse_recipient("+0123456789").is_err());
        assert!(parse_recipient("+49abc").is_err());
    }

    fn draft(v: serde_json::Value) -> SendDraft {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn send_requests() {
        let ok = draft(json!({"channelId": 7, "to": "+8613800000000", "text": "Hi", "clientReference": "order-1"}))
            .check()
            .unwrap();
        assert_eq!(ok.channel_id, 7);
        assert_eq!(ok.client_reference.as_deref(), Some("order-1"));
        let also = draft(json!({"channelId": "7", "to": "8613800000000", "text": "Hi"}))
            .check()
            .unwrap();
        assert_eq!(also.client_reference, None);
        let errors = draft(json!({"channelId": -1, "to": 5, "text": "", "clientReference": "a b"}))
            .check()
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["channelId", "to", "text", "clientReference"]);
        let long = draft(
            json!({"channelId": 1, "to": "+8613800000000", "text": "x".repeat(MAX_TEXT + 1)}),
        )
        .check()
        .unwrap_err();
        assert_eq!(long[0].0, "text");
        assert!(
            draft(json!({"channelId": 1, "to": "+8613800000000", "text": "x".repeat(MAX_TEXT)}))
                .check()
                .is_ok()
        );
        let reference = draft(json!({"channelId": 1, "to": "+8613800000000", "text": "x", "clientReference": "r".repeat(MAX_CLIENT_REFERENCE + 1)}))
            .check()
            .unwrap_err();
        assert_eq!(reference[0].0, "clientReference");
    }
}
