//! A fake WhatsApp provider over HTTPS on 127.0.0.1, for the end-to-end suite
//! (`end2end/run.sh` builds it; `05-outbound.spec.ts` starts it). The same code the integration
//! tests use (`tests/common/fake_provider.rs`). Prints one JSON line — where it listens, the CA
//! that signed its certificate, the credentials it accepts — then serves until it is killed.
//! Delivery reports go where `POST /_fake/callbacks` says. With `FAKE_FRONT_TO=host:port` it
//! also serves a TLS front to the Switchboard there (`front_base`, signed by `front_ca_pem`).

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/fake_provider.rs"]
mod fake_provider;

#[tokio::main]
async fn main() {
    use std::io::Write;
    let config = fake_provider::FakeConfig::default();
    let fake = fake_provider::start(config.clone()).await;
    // with FAKE_FRONT_TO=host:port, also a TLS front to the Switchboard there (its send API
    // over https, as an oAuth BaseUrl must be)
    let front = match std::env::var("FAKE_FRONT_TO") {
        Ok(target) => Some(fake_provider::tls_front(target.parse().unwrap()).await),
        Err(_) => None,
    };
    let line = serde_json::json!({
        "front_base": front.as_ref().map(|f| f.base.clone()),
        "front_ca_pem": front.as_ref().map(|f| f.pki.ca_pem()),
        "base": fake.base,
        "ca_pem": fake.pki.ca_pem(),
        "infobip_account_key": config.infobip_account_key,
        "twilio": [config.twilio.0, config.twilio.1, config.twilio.2],
        "cloud": [config.cloud.0, config.cloud.1],
        "other": [config.other.0, config.other.1],
    });
    let mut out = std::io::stdout();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
    std::future::pending::<()>().await;
}
