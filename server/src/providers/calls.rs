//! What Test connection and Send test message call, per provider (docs/proving-a-channel.md lists them), and
//! what the answers mean.

use super::client::{Reply, Request};
use app::domain::channel::{ProviderKind, VerificationMethod};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

/// A channel's stored settings and opened secrets, as the calls need them.
pub struct Creds {
    pub provider: ProviderKind,
    pub method: Option<VerificationMethod>,
    pub base_url: String,
    pub phone_number: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub account_key: Option<String>,
    pub api_key_sid: Option<String>,
    pub api_key_secret: Option<String>,
    pub account_sid: Option<String>,
    pub access_token: Option<String>,
    /// other + oAuth: the app of APP Management the channel picked.
    pub app_id: Option<i64>,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Creds")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn missing(what: &str) -> String {
    format!("The channel has no {what} stored: enter it on the Edit page.")
}

fn join(base: &str, path: &str) -> Result<Url, String> {
    Url::parse(&format!("{}{path}", base.trim_end_matches('/')))
        .map_err(|_| "The BaseUrl is not a valid URL: correct it on the Edit page.".to_string())
}

/// cloud-api: the Graph URL of the phone number id (Meta's API Setup shows it), without a
/// trailing `/messages`; a BaseUrl without a phone number id is a clear message, not a call.
pub fn cloud_base(base_url: &str) -> Result<String, String> {
    let base = base_url
        .trim_end_matches('/')
        .trim_end_matches("/messages")
        .trim_end_matches('/');
    let last = base.rsplit('/').next().unwrap_or_default();
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            "The BaseUrl has no phone number id: it must end with the id Meta's API Setup shows, as in https://graph.facebook.com/v21.0/106540352242922."
                .into(),
        );
    }
    Ok(base.to_owned())
}

/// A stored value the call needs, or the message that says where to enter it.
fn need(value: &Option<String>, what: &str) -> Result<String, String> {
    value.clone().ok_or_else(|| missing(what))
}

/// A request to `url` authenticated as the provider expects: infobip `App {AccountKey}`,
/// twilio Basic with the API Key SID and Secret, cloud-api a Bearer Access Token, other Basic
/// with UserName and Password.
fn authenticated(c: &Creds, method: Method, url: Url) -> Result<Request, String> {
    let mut r = Request::new(method, url);
    match c.provider {
        ProviderKind::Infobip => {
            let key = need(&c.account_key, "AccountKey")?;
            r.headers
                .push((reqwest::header::AUTHORIZATION, format!("App {key}")));
        }
        ProviderKind::Twilio => {
            r.basic = Some((
                need(&c.api_key_sid, "API Key SID")?,
                need(&c.api_key_secret, "API Key Secret")?,
            ));
        }
        ProviderKind::CloudApi => r.bearer = Some(need(&c.access_token, "Access Token")?),
        ProviderKind::Other => {
            r.basic = Some((
                need(&c.username, "UserName")?,
                need(&c.password, "Password")?,
            ));
        }
    }
    Ok(r)
}

/// The one read-only authenticated request of Test connection.
pub fn connection_request(c: &Creds) -> Result<Request, String> {
    let url = match c.provider {
        ProviderKind::Infobip => join(&c.base_url, "/account/1/balance")?,
        ProviderKind::Twilio => {
            let sid = need(&c.account_sid, "Account SID")?;
            join(&c.base_url, &format!("/Accounts/{sid}.json"))?
        }
        ProviderKind::CloudApi => join(&cloud_base(&c.base_url)?, "")?,
        ProviderKind::Other => join(&c.base_url, "")?,
    };
    authenticated(c, Method::GET, url)
}

/// A short, safe excerpt of what a provider said about an error (its own message field).
fn provider_message(reply: &Reply) -> Option<String> {
    let v = reply.json()?;
    let text = [
        v.pointer("/message"),
        v.pointer("/error/message"),
        v.pointer("/requestError/serviceException/text"),
        v.pointer("/errorMessage"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str)?;
    let clean: String = text.chars().filter(|c| !c.is_control()).take(160).collect();
    Some(clean)
}

/// An answer as a metric label: `ok` when it was taken as a success, else what `refusal`
/// says of its status, in one word.
pub fn diagnosis(success: bool, status: u16) -> &'static str {
    match status {
        _ if success => "ok",
        200..=299 => "unexpected_answer",
        401 | 403 => "credentials_rejected",
        404 => "not_found",
        500..=599 => "provider_error",
        _ => "refused",
    }
}

/// What an answer that is not a success means, in words.
pub fn refusal(reply: &Reply) -> String {
    let said = provider_message(reply)
        .map(|m| format!(" The provider said: \u{201c}{m}\u{201d}"))
        .unwrap_or_default();
    match reply.status {
        401 | 403 => format!(
            "The provider rejected the credentials (HTTP {}): check the stored credentials.{said}",
            reply.status
        ),
        404 => format!("The path was not found (HTTP 404): check the BaseUrl.{said}"),
        s if s >= 500 => format!("The provider had an error (HTTP {s}): try again later.{said}"),
        s => format!("The provider refused the request (HTTP {s}).{said}"),
    }
}

/// Connected (and what the provider said about the account), or why not.
pub fn interpret_connection(c: &Creds, reply: &Reply) -> Result<String, String> {
    let ok = match c.provider {
        // any answer but 401/403/5xx: the address, the certificates and the credentials work
        ProviderKind::Other => !matches!(reply.status, 401 | 403 | 500..=599),
        _ => (200..300).contains(&reply.status),
    };
    if !ok {
        return Err(refusal(reply));
    }
    let v = reply.json().unwrap_or(Value::Null);
    let s = |p: &str| {
        v.pointer(p).and_then(|x| {
            x.as_str()
                .map(str::to_owned)
                .or_else(|| (x.is_number()).then(|| x.to_string()))
        })
    };
    let detail = match c.provider {
        ProviderKind::Infobip => match (s("/balance"), s("/currency")) {
            (Some(b), Some(cur)) => Some(format!("account balance {b} {cur}")),
            _ => None,
        },
        ProviderKind::Twilio => s("/friendly_name").map(|n| match s("/status") {
            Some(st) => format!("account \u{201c}{n}\u{201d} ({st})"),
            None => format!("account \u{201c}{n}\u{201d}"),
        }),
        ProviderKind::CloudApi => match (s("/verified_name"), s("/display_phone_number")) {
            (Some(n), Some(p)) => Some(format!("verified name \u{201c}{n}\u{201d}, number {p}")),
            (Some(n), None) => Some(format!("verified name \u{201c}{n}\u{201d}")),
            (None, Some(p)) => Some(format!("number {p}")),
            _ => None,
        },
        ProviderKind::Other => Some(format!("the BSP answered HTTP {}", reply.status)),
    };
    let method = match (c.provider, c.method) {
        (ProviderKind::Other, Some(VerificationMethod::OAuth)) => " (oAuth)",
        _ => "",
    };
    Ok(match detail {
        Some(d) => format!("Connected{method}: {d}."),
        None => format!("Connected{method}."),
    })
}

/// How long a token Test connection gets lives: it is used once, at once.
pub const TEST_TOKEN_SECONDS: u32 = 60;

/// other + oAuth with a typed key: the token call of BaseUrl's platform,
/// `{origin}/apigovernance/api/oauth/tokenByAkSk`, with UserName and Password.
pub fn token_request(c: &Creds) -> Result<Request, String> {
    let base = Url::parse(&c.base_url)
        .map_err(|_| "The BaseUrl is not a valid URL: correct it on the Edit page.".to_string())?;
    let url = base
        .join("/apigovernance/api/oauth/tokenByAkSk")
        .map_err(|_| "The BaseUrl is not a valid URL: correct it on the Edit page.".to_string())?;
    let mut r = Request::new(Method::POST, url);
    r.headers.push((
        reqwest::header::HeaderName::from_static("x-token-expire"),
        TEST_TOKEN_SECONDS.to_string(),
    ));
    r.json = Some(json!({
        "app_key": need(&c.username, "UserName (the APP key)")?,
        "app_secret": need(&c.password, "Password (the APP secret)")?,
    }));
    Ok(r)
}

/// The token of a `tokenByAkSk` answer, or what went wrong (in words, and as a metric label).
pub fn interpret_token(url: &Url, reply: &Reply) -> Result<String, (String, &'static str)> {
    let said = provider_message(reply)
        .map(|m| format!(" It said: \u{201c}{m}\u{201d}"))
        .unwrap_or_default();
    match reply.status {
        200..=299 => reply
            .json()
            .and_then(|v| v.get("AccessToken").and_then(Value::as_str).map(str::to_owned))
            .filter(|t| !t.is_empty() && t.len() <= 4096 && !t.chars().any(char::is_control))
            .ok_or_else(|| {
                (
                    format!("The token endpoint {url} answered without an AccessToken: is BaseUrl's server the platform that issued the app?"),
                    "unexpected_answer",
                )
            }),
        401 | 403 => Err((
            format!(
                "The app key or secret was rejected by the token endpoint {url} (HTTP {}): check the UserName (APP key) and Password (APP secret).{said}",
                reply.status
            ),
            "credentials_rejected",
        )),
        404 => Err((
            format!("The token endpoint was not found at {url} (HTTP 404): is BaseUrl's server the platform that issued the app?"),
            "not_found",
        )),
        _ => Err((refusal(reply), diagnosis(false, reply.status))),
    }
}

/// other + oAuth: BaseUrl called with the token.
pub fn oauth_connection_request(c: &Creds, token: String) -> Result<Request, String> {
    let mut r = Request::new(Method::GET, join(&c.base_url, "")?);
    r.bearer = Some(token);
    Ok(r)
}

/// What BaseUrl said to the token: connected (and, from a Switchboard, which app it saw), or
/// why not.
pub fn interpret_oauth_connection(reply: &Reply) -> Result<String, String> {
    match reply.status {
        401 | 403 => {
            let said = provider_message(reply)
                .map(|m| format!(" It said: \u{201c}{m}\u{201d}"))
                .unwrap_or_default();
            Err(format!(
                "The token was refused by BaseUrl (HTTP {}): the app may not be bound to this tenant space or subscribed to its API.{said}",
                reply.status
            ))
        }
        200..=299 => {
            let v = reply.json().unwrap_or(Value::Null);
            let s = |k: &str| {
                v.get(k).and_then(Value::as_str).map(|x| {
                    x.chars()
                        .filter(|c| !c.is_control())
                        .take(80)
                        .collect::<String>()
                })
            };
            Ok(match (s("app"), s("tenantSpace")) {
                (Some(app), Some(space)) => format!(
                    "Connected (oAuth): the token of app \u{201c}{app}\u{201d} of tenant space \u{201c}{space}\u{201d} was accepted."
                ),
                _ => format!(
                    "Connected (oAuth): the BSP accepted the token (HTTP {}).",
                    reply.status
                ),
            })
        }
        _ => Err(refusal(reply)),
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The provider's send API for a text message.
pub fn send_request(c: &Creds, recipient: &str, text: &str) -> Result<Request, String> {
    let from = need(&c.phone_number, "Phone Number")?;
    let to = digits(recipient);
    match c.provider {
        ProviderKind::Infobip => {
            let url = join(&c.base_url, "/whatsapp/1/message/text")?;
            let mut r = authenticated(c, Method::POST, url)?;
            r.json = Some(json!({
                "from": digits(&from),
                "to": to,
                "content": { "text": text },
            }));
            Ok(r)
        }
        ProviderKind::Twilio => {
            let sid = need(&c.account_sid, "Account SID")?;
            let url = join(&c.base_url, &format!("/Accounts/{sid}/Messages.json"))?;
            let mut r = authenticated(c, Method::POST, url)?;
            r.form = Some(vec![
                ("From".into(), format!("whatsapp:+{}", digits(&from))),
                ("To".into(), format!("whatsapp:+{to}")),
                ("Body".into(), text.to_owned()),
            ]);
            Ok(r)
        }
        ProviderKind::CloudApi => {
            let url = join(&cloud_base(&c.base_url)?, "/messages")?;
            let mut r = authenticated(c, Method::POST, url)?;
            r.json = Some(json!({
                "messaging_product": "whatsapp",
                "to": to,
                "type": "text",
                "text": { "body": text },
            }));
            Ok(r)
        }
        ProviderKind::Other => Err(OTHER_SENDS_ITSELF.into()),
    }
}

pub const OTHER_SENDS_ITSELF: &str = "An \u{2018}other\u{2019} BSP's send API is your own system's, not a known one: send a test message from there, and watch its reports arrive on the Activity page.";

/// The provider's id of the sent message, or why it was not sent.
pub fn interpret_send(c: &Creds, reply: &Reply) -> Result<String, String> {
    if !(200..300).contains(&reply.status) {
        return Err(refusal(reply));
    }
    let v = reply.json().unwrap_or(Value::Null);
    let id = match c.provider {
        ProviderKind::Infobip => v
            .pointer("/messageId")
            .or_else(|| v.pointer("/messages/0/messageId")),
        ProviderKind::Twilio => v.pointer("/sid"),
        ProviderKind::CloudApi => v.pointer("/messages/0/id"),
        ProviderKind::Other => None,
    }
    .and_then(Value::as_str)
    .map(|s| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(256)
            .collect::<String>()
    })
    .filter(|s| !s.is_empty());
    id.ok_or_else(|| {
        "The provider accepted the request but named no message id, so its reports cannot be followed.".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(provider: ProviderKind, base: &str) -> Creds {
        Creds {
            provider,
            method: None,
            base_url: base.into(),
            phone_number: Some("+49 151 1234".into()),
            username: Some("u".into()),
            password: Some("p".into()),
            account_key: Some("key-1".into()),
            api_key_sid: Some("SK1".into()),
            api_key_secret: Some("secret".into()),
            account_sid: Some("AC1".into()),
            access_token: Some("token".into()),
            app_id: None,
        }
    }

    #[test]
    fn oauth_gets_a_token_from_the_platform_of_base_url_then_calls_base_url_with_it() {
        let mut c = creds(
            ProviderKind::Other,
            "https://10.1.2.3:18443/apiaccess/rest/ccmessaging",
        );
        c.method = Some(VerificationMethod::OAuth);
        let r = token_request(&c).unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(
            r.url.as_str(),
            "https://10.1.2.3:18443/apigovernance/api/oauth/tokenByAkSk"
        );
        assert_eq!(r.json, Some(json!({"app_key": "u", "app_secret": "p"})));
        assert!(
            r.headers
                .iter()
                .any(|(n, v)| n == "x-token-expire" && v == "60")
        );
        let url = r.url.clone();
        assert_eq!(
            interpret_token(&url, &reply(200, r#"{"AccessToken":"abc","Expires":"60"}"#)),
            Ok("abc".to_string())
        );
        let (why, code) =
            interpret_token(&url, &reply(401, r#"{"error":{"message":"nope"}}"#)).unwrap_err();
        assert!(
            why.starts_with("The app key or secret was rejected"),
            "{why}"
        );
        assert_eq!(code, "credentials_rejected");
        let (why, code) = interpret_token(&url, &reply(404, "")).unwrap_err();
        assert!(
            why.contains("token endpoint was not found at https://10.1.2.3:18443/apigovernance"),
            "{why}"
        );
        assert_eq!(code, "not_found");
        assert_eq!(
            interpret_token(&url, &reply(200, "{}")).unwrap_err().1,
            "unexpected_answer"
        );
        let call = oauth_connection_request(&c, "abc".into()).unwrap();
        assert_eq!(call.bearer.as_deref(), Some("abc"));
        assert_eq!(call.basic, None);
        assert!(
            interpret_oauth_connection(&reply(401, ""))
                .unwrap_err()
                .starts_with("The token was refused by BaseUrl")
        );
        let ok = interpret_oauth_connection(&reply(200, r#"{"app":"CRM","tenantSpace":"Acme"}"#))
            .unwrap();
        assert!(
            ok.contains("\u{201c}CRM\u{201d}") && ok.contains("Acme"),
            "{ok}"
        );
        let mut missing = c;
        missing.password = None;
        assert!(token_request(&missing).unwrap_err().contains("Password"));
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            latency: std::time::Duration::from_millis(5),
        }
    }

    #[test]
    fn each_provider_calls_what_the_readme_says() {
        let r =
            connection_request(&creds(ProviderKind::Infobip, "https://x.api.infobip.com")).unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://x.api.infobip.com/account/1/balance"
        );
        assert_eq!(r.headers[0].1, "App key-1");
        let r = connection_request(&creds(
            ProviderKind::Twilio,
            "https://api.twilio.com/2010-04-01",
        ))
        .unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1.json"
        );
        assert_eq!(r.basic, Some(("SK1".into(), "secret".into())));
        let r = connection_request(&creds(
            ProviderKind::CloudApi,
            "https://graph.facebook.com/v21.0/106540352242922/messages",
        ))
        .unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://graph.facebook.com/v21.0/106540352242922"
        );
        let e = connection_request(&creds(
            ProviderKind::CloudApi,
            "https://graph.facebook.com/v21.0",
        ))
        .unwrap_err();
        assert!(e.contains("no phone number id"), "{e}");
        let r = send_request(
            &creds(ProviderKind::CloudApi, "https://graph.facebook.com/v21.0/1"),
            "+49 170 1",
            "hi",
        )
        .unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://graph.facebook.com/v21.0/1/messages"
        );
        assert_eq!(r.json.unwrap()["to"], "491701");
        let r = send_request(
            &creds(ProviderKind::Twilio, "https://api.twilio.com/2010-04-01"),
            "4917",
            "hi",
        )
        .unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
        );
        assert_eq!(
            r.form.unwrap()[1],
            ("To".to_string(), "whatsapp:+4917".to_string())
        );
        let r = send_request(
            &creds(ProviderKind::Infobip, "https://x.api.infobip.com"),
            "+4917",
            "hi",
        )
        .unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://x.api.infobip.com/whatsapp/1/message/text"
        );
        assert_eq!(r.json.unwrap()["from"], "491511234");
        assert!(send_request(&creds(ProviderKind::Other, "https://x"), "1", "hi").is_err());
    }

    #[test]
    fn answers_in_words() {
        let c = creds(ProviderKind::CloudApi, "https://graph.facebook.com/v21.0/1");
        assert_eq!(
            interpret_connection(
                &c,
                &reply(
                    200,
                    r#"{"verified_name":"Acme","display_phone_number":"+1 555"}"#
                )
            )
            .unwrap(),
            "Connected: verified name \u{201c}Acme\u{201d}, number +1 555."
        );
        assert!(
            interpret_connection(
                &c,
                &reply(
                    401,
                    r#"{"error":{"message":"Invalid OAuth access token."}}"#
                )
            )
            .unwrap_err()
            .contains("rejected the credentials (HTTP 401)")
        );
        assert!(
            interpret_connection(&c, &reply(404, ""))
                .unwrap_err()
                .contains("check the BaseUrl")
        );
        let other = creds(
            ProviderKind::Other,
            "https://10.0.0.5:8443/apiaccess/rest/ccmessaging",
        );
        assert!(
            interpret_connection(&other, &reply(405, "")).is_ok(),
            "reachable"
        );
        assert!(interpret_connection(&other, &reply(503, "")).is_err());
        assert_eq!(
            interpret_send(&c, &reply(200, r#"{"messages":[{"id":"wamid.1"}]}"#)).unwrap(),
            "wamid.1"
        );
        assert!(interpret_send(&c, &reply(200, "{}")).is_err());
    }
}
