//! Fake WhatsApp providers over real TLS, for the tests of Test connection and Send test
//! message (and, as the `fake_provider` example, for the end-to-end suite): one HTTPS server on
//! 127.0.0.1 with certificates made at start (rcgen), answering the calls Switchboard makes to
//! infobip, twilio, cloud-api and an `other` BSP, checking their credentials, and — like the
//! real providers — posting delivery reports back to the channel's webhook URLs.
//!
//! Nothing of Switchboard's own code is used or mocked here.

#![allow(dead_code, clippy::unwrap_used)]

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A certificate authority made at test time, and what it signs.
pub struct Pki {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub name: String,
}

/// A certificate and its private key.
pub struct Leaf {
    pub der: Vec<u8>,
    pub pem: String,
    pub key_der: Vec<u8>,
    pub key_pem: String,
}

impl Pki {
    pub fn new(name: &str) -> Self {
        Self::new_until(name, None)
    }

    /// A CA whose certificate expires at `not_after` (rcgen's default far future when `None`).
    pub fn new_until(name: &str, not_after: Option<time::OffsetDateTime>) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        if let Some(t) = not_after {
            params.not_before = t - time::Duration::days(365);
            params.not_after = t;
        }
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Fake Provider Test PKI");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self {
            issuer,
            name: name.into(),
        }
    }

    pub fn ca_der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (host names or IP addresses) and `cn`.
    pub fn leaf(&self, cn: &str, names: &[&str]) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// What the fake accepts as credentials, and how it behaves.
#[derive(Clone)]
pub struct FakeConfig {
    pub infobip_account_key: String,
    /// (Account SID, API Key SID, API Key Secret)
    pub twilio: (String, String, String),
    /// (phone number id, access token)
    pub cloud: (String, String),
    /// (user name, password) of the `other` BSP
    pub other: (String, String),
    pub behaviour: Behaviour,
    /// Require a client certificate issued by this CA (mutual TLS).
    pub client_ca: Option<Vec<u8>>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            infobip_account_key: "infobip-account-key".into(),
            twilio: (
                format!("AC{}", "0f".repeat(16)),
                format!("SK{}", "a1".repeat(16)),
                "twilio-api-secret".into(),
            ),
            cloud: ("106540352242922".into(), "meta-access-token".into()),
            other: ("bsp-user".into(), "bsp-password".into()),
            behaviour: Behaviour::Normal,
            client_ca: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// Every answer a redirect to another host.
    Redirect,
    /// Every answer after this long.
    Slow(Duration),
    /// Every answer 200 with 3 MiB of JSON whose `verified_name` comes last.
    Huge,
}

/// Where the fake posts the delivery reports of what it sent, per provider.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Callbacks {
    /// (report URL, Webhook Password sent as AccountKey)
    pub infobip: Option<(String, String)>,
    /// (report URL, Webhook User, Webhook Password)
    pub twilio: Option<(String, String, String)>,
    /// (callback URL, APP Secret to sign with)
    pub cloud: Option<(String, String)>,
}

struct Fake {
    config: FakeConfig,
    callbacks: Mutex<Callbacks>,
    next: AtomicU64,
    /// Every request's method and path, in order.
    seen: Mutex<Vec<String>>,
    /// What was posted to `/alerts`: (X-Switchboard-Signature, X-Switchboard-Alert-Id, body).
    alerts: Mutex<Vec<ReceivedAlert>>,
    /// The status `/alerts` answers (200 unless a test says otherwise).
    alert_status: std::sync::atomic::AtomicU16,
}

/// An alert the fake received on `/alerts`.
#[derive(Clone, Debug)]
pub struct ReceivedAlert {
    pub signature: String,
    pub alert_id: String,
    pub body: Vec<u8>,
}

pub struct FakeProvider {
    /// `https://127.0.0.1:PORT`
    pub base: String,
    /// The CA that signed the fake's server certificate (what a channel must trust).
    pub pki: Pki,
    state: Arc<Fake>,
}

impl FakeProvider {
    pub fn set_callbacks(&self, callbacks: Callbacks) {
        *self.state.callbacks.lock().unwrap() = callbacks;
    }

    pub fn seen(&self) -> Vec<String> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The alerts posted to `/alerts`, in order.
    pub fn alerts(&self) -> Vec<ReceivedAlert> {
        self.state.alerts.lock().unwrap().clone()
    }

    /// What `/alerts` answers from now on.
    pub fn answer_alerts_with(&self, status: u16) {
        self.state.alert_status.store(status, Ordering::SeqCst);
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn denied() -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({"message": "Authentication failed"}),
    )
}

fn basic_ok(headers: &HeaderMap, user: &str, password: &str) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

fn auth_is(headers: &HeaderMap, value: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(value)
}

/// Posts `delivered` and then `read` for `id`, as the provider's status callbacks.
fn report_back(fake: Arc<Fake>, provider: &'static str, id: String, to: String) {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        for status in ["delivered", "read"] {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let callbacks = fake.callbacks.lock().unwrap().clone();
            let sent = match provider {
                "infobip" => callbacks.infobip.map(|(url, key)| {
                    let group = if status == "read" { "SEEN" } else { "DELIVERED" };
                    http.post(url)
                        .header("AccountKey", key)
                        .json(&json!({"results": [{"messageId": id, "to": to, "status": {"groupName": group, "name": format!("{group}_TO_HANDSET")}}]}))
                }),
                "twilio" => callbacks.twilio.map(|(url, user, password)| {
                    http.post(url)
                        .basic_auth(user, Some(password))
                        .form(&[("MessageSid", id.as_str()), ("MessageStatus", status), ("To", to.as_str())])
                }),
                _ => callbacks.cloud.map(|(url, secret)| {
                    use hmac::{Hmac, Mac};
                    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111"}, "statuses": [{"id": id, "status": status, "timestamp": "1", "recipient_id": to}]}}]}]}).to_string();
                    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                    mac.update(body.as_bytes());
                    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                    http.post(url)
                        .header("X-Hub-Signature-256", signature)
                        .header("Content-Type", "application/json")
                        .body(body)
                }),
            };
            if let Some(request) = sent {
                let _ = request.send().await;
            }
        }
    });
}

async fn infobip_balance(State(f): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    if !auth_is(&headers, &format!("App {}", f.config.infobip_account_key)) {
        return denied();
    }
    reply(StatusCode::OK, json!({"balance": 42.5, "currency": "EUR"}))
}

async fn infobip_send(
    State(f): State<Arc<Fake>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if !auth_is(&headers, &format!("App {}", f.config.infobip_account_key)) {
        return denied();
    }
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    if to.is_empty() || body["content"]["text"].as_str().is_none() {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"message": "to and content.text are required"}),
        );
    }
    let id = format!("ib-{}", f.next.fetch_add(1, Ordering::Relaxed));
    report_back(f.clone(), "infobip", id.clone(), to.clone());
    reply(
        StatusCode::OK,
        json!({"to": to, "messageCount": 1, "messageId": id, "status": {"groupName": "PENDING"}}),
    )
}

async fn twilio_account(
    State(f): State<Arc<Fake>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (sid, key, secret) = &f.config.twilio;
    if !basic_ok(&headers, key, secret) {
        return denied();
    }
    if file != format!("{sid}.json") {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"message": "The requested resource was not found"}),
        );
    }
    reply(
        StatusCode::OK,
        json!({"sid": sid, "friendly_name": "Fake Twilio", "status": "active"}),
    )
}

async fn twilio_send(
    State(f): State<Arc<Fake>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let (account, key, secret) = &f.config.twilio;
    if !basic_ok(&headers, key, secret) {
        return denied();
    }
    if &sid != account {
        return reply(StatusCode::NOT_FOUND, json!({"message": "not found"}));
    }
    let to = form.get("To").cloned().unwrap_or_default();
    if !to.starts_with("whatsapp:+")
        || !form
            .get("From")
            .is_some_and(|f| f.starts_with("whatsapp:+"))
    {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"message": "From and To must be whatsapp:+number"}),
        );
    }
    let id = format!("SM{:032x}", f.next.fetch_add(1, Ordering::Relaxed));
    report_back(f.clone(), "twilio", id.clone(), to);
    reply(StatusCode::CREATED, json!({"sid": id, "status": "queued"}))
}

async fn cloud_number(
    State(f): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (phone_id, token) = &f.config.cloud;
    if !auth_is(&headers, &format!("Bearer {token}")) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "Invalid OAuth access token.", "code": 190}}),
        );
    }
    if &id != phone_id {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"error": {"message": "Unsupported get request."}}),
        );
    }
    reply(
        StatusCode::OK,
        json!({"verified_name": "Acme Support", "display_phone_number": "+1 555-000-1111", "id": id}),
    )
}

async fn cloud_send(
    State(f): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    let (phone_id, token) = &f.config.cloud;
    if !auth_is(&headers, &format!("Bearer {token}")) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "Invalid OAuth access token."}}),
        );
    }
    if &id != phone_id || body["messaging_product"] != "whatsapp" {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "bad request"}}),
        );
    }
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    let message = format!("wamid.FAKE{}", f.next.fetch_add(1, Ordering::Relaxed));
    report_back(f.clone(), "cloud", message.clone(), to.clone());
    reply(
        StatusCode::OK,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": message}]}),
    )
}

/// The token an `other` BSP's platform gives for its app key and secret (`config.other`).
pub const OAUTH_TOKEN: &str = "fake-oauth-token";

/// The platform's `tokenByAkSk`, as the Huawei CEC API reference documents it.
async fn other_token(
    State(f): State<Arc<Fake>>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    let (user, password) = &f.config.other;
    if body["app_key"].as_str() != Some(user) || body["app_secret"].as_str() != Some(password) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"message": "invalid app key or app secret"}),
        );
    }
    reply(
        StatusCode::OK,
        json!({"AccessToken": OAUTH_TOKEN, "ApplyType": "Bearer", "Expires": "60", "AppKey": user}),
    )
}

async fn other_root(State(f): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    let (user, password) = &f.config.other;
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        if bearer != OAUTH_TOKEN {
            return denied();
        }
        return reply(StatusCode::OK, json!({"message": "token accepted"}));
    }
    if !basic_ok(&headers, user, password) {
        return denied();
    }
    // a BSP's API root typically answers something other than 200 to a bare GET
    reply(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"message": "use POST"}),
    )
}

async fn receive_alert(
    State(f): State<Arc<Fake>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    f.alerts.lock().unwrap().push(ReceivedAlert {
        signature: header("x-switchboard-signature"),
        alert_id: header("x-switchboard-alert-id"),
        body: body.to_vec(),
    });
    let status =
        StatusCode::from_u16(f.alert_status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
    reply(status, json!({"received": true}))
}

async fn set_callbacks(
    State(f): State<Arc<Fake>>,
    axum::Json(callbacks): axum::Json<Callbacks>,
) -> StatusCode {
    *f.callbacks.lock().unwrap() = callbacks;
    StatusCode::NO_CONTENT
}

async fn behave(
    State(f): State<Arc<Fake>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    f.seen
        .lock()
        .unwrap()
        .push(format!("{} {}", req.method(), req.uri().path()));
    if req.uri().path().starts_with("/_fake/") {
        return next.run(req).await;
    }
    match f.config.behaviour {
        Behaviour::Normal => next.run(req).await,
        Behaviour::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, "https://elsewhere.example/login")],
        )
            .into_response(),
        Behaviour::Slow(wait) => {
            tokio::time::sleep(wait).await;
            next.run(req).await
        }
        Behaviour::Huge => reply(
            StatusCode::OK,
            serde_json::json!({"pad": "a".repeat(3 * 1024 * 1024), "verified_name": "Beyond the cut"}),
        ),
    }
}

/// Starts a fake on 127.0.0.1 (any free port) with a fresh CA and server certificate.
pub async fn start(config: FakeConfig) -> FakeProvider {
    let pki = Pki::new("Fake Provider CA");
    let server = pki.leaf("fake-provider.test", &["127.0.0.1", "localhost"]);
    let fake = Arc::new(Fake {
        config: config.clone(),
        callbacks: Mutex::new(Callbacks::default()),
        next: AtomicU64::new(1),
        seen: Mutex::new(Vec::new()),
        alerts: Mutex::new(Vec::new()),
        alert_status: std::sync::atomic::AtomicU16::new(200),
    });
    let router = Router::new()
        .route("/account/1/balance", get(infobip_balance))
        .route("/whatsapp/1/message/text", post(infobip_send))
        .route("/2010-04-01/Accounts/{file}", get(twilio_account))
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(twilio_send),
        )
        .route("/v21.0/{id}", get(cloud_number))
        .route("/v21.0/{id}/messages", post(cloud_send))
        .route("/apiaccess/rest/ccmessaging", get(other_root))
        .route("/apigovernance/api/oauth/tokenByAkSk", post(other_token))
        .route("/_fake/callbacks", post(set_callbacks))
        .route("/alerts", post(receive_alert))
        .layer(axum::middleware::from_fn_with_state(fake.clone(), behave))
        .with_state(fake.clone());

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match &config.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from(ca.clone())).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let tls = builder
        .with_single_cert(
            vec![CertificateDer::from(server.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    FakeProvider {
        base: format!("https://127.0.0.1:{port}"),
        pki,
        state: fake,
    }
}

/// A TLS front to a plain-HTTP server at `target`, with a certificate of its own (made here):
/// what a reverse proxy in front of Switchboard does, so that Switchboard can be called over
/// https (an oAuth BaseUrl must be).
pub struct TlsFront {
    /// `https://127.0.0.1:PORT`
    pub base: String,
    /// The CA that signed the front's certificate.
    pub pki: Pki,
}

/// A TLS server side that presents `leaf` (no client certificate asked).
pub fn tls_acceptor(leaf: &Leaf) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
        )
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(tls))
}

pub async fn tls_front(target: std::net::SocketAddr) -> TlsFront {
    let pki = Pki::new("Switchboard Front CA");
    let leaf = pki.leaf("switchboard-front.test", &["127.0.0.1", "localhost"]);
    let acceptor = tls_acceptor(&leaf);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    TlsFront {
        base: format!("https://127.0.0.1:{port}"),
        pki,
    }
}
