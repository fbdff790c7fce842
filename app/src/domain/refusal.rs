//! Why a provider's delivery to a Channel Integration URL was refused, in plain words, and
//! what fixes it. Stored by code; the words live here so the page and the tests agree.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// The channel has no Webhook Password stored (infobip, other, twilio).
    NoWebhookPassword,
    AccountKeyMissing,
    AccountKeyMismatch,
    BasicMissing,
    BasicUserMismatch,
    BasicPasswordMismatch,
    /// The channel has no APP Secret stored (cloud-api).
    NoAppSecret,
    SignatureMissing,
    SignatureMismatch,
    VerifyModeWrong,
    VerifyTokenMismatch,
    ChallengeMissing,
    /// The body is not the provider's format (the parser's reason is kept beside it).
    Malformed,
    TooManyEvents,
    BodyTooLarge,
    /// A credential changed with an overlap, after the overlap: the previous value was used
    /// (the detail is when it was retired).
    PreviousWebhookPassword,
    PreviousAppSecret,
    PreviousVerificationCode,
    /// twilio with an Auth Token: the signature is missing or wrong.
    TwilioSignatureMissing,
    TwilioSignatureMismatch,
    /// twilio, a JSON body: the URL's `bodySHA256` is not the SHA-256 of the body.
    TwilioBodyHashMismatch,
    /// twilio, a JSON body whose URL has no `bodySHA256`: its signature would not cover it.
    TwilioBodyHashMissing,
}

impl Refusal {
    pub const ALL: [Self; 22] = [
        Self::NoWebhookPassword,
        Self::AccountKeyMissing,
        Self::AccountKeyMismatch,
        Self::BasicMissing,
        Self::BasicUserMismatch,
        Self::BasicPasswordMismatch,
        Self::NoAppSecret,
        Self::SignatureMissing,
        Self::SignatureMismatch,
        Self::VerifyModeWrong,
        Self::VerifyTokenMismatch,
        Self::ChallengeMissing,
        Self::Malformed,
        Self::TooManyEvents,
        Self::BodyTooLarge,
        Self::PreviousWebhookPassword,
        Self::PreviousAppSecret,
        Self::PreviousVerificationCode,
        Self::TwilioSignatureMissing,
        Self::TwilioSignatureMismatch,
        Self::TwilioBodyHashMismatch,
        Self::TwilioBodyHashMissing,
    ];

    /// The refusal for a retired previous value of `credential`.
    pub fn previous(credential: crate::domain::rotation::WebhookCredential) -> Self {
        use crate::domain::rotation::WebhookCredential as C;
        match credential {
            C::WebhookPassword => Self::PreviousWebhookPassword,
            C::AppSecret => Self::PreviousAppSecret,
            C::VerificationCode => Self::PreviousVerificationCode,
        }
    }

    /// The reason with the detail kept beside it: the parser's reason, or when a previous
    /// credential was retired.
    pub fn describe(self, detail: Option<&str>) -> String {
        let retired = |what: &str, when: &str| format!("{what}, retired on {when}");
        match (self, detail) {
            (Self::PreviousWebhookPassword, Some(when)) => {
                retired("The previous Webhook Password", when)
            }
            (Self::PreviousAppSecret, Some(when)) => {
                retired("Signed with the previous APP Secret", when)
            }
            (Self::PreviousVerificationCode, Some(when)) => {
                retired("The previous Verification Code", when)
            }
            (_, Some(detail)) => format!("{}: {detail}", self.reason()),
            (_, None) => self.reason().to_owned(),
        }
    }

    /// The stored code (stable; at most 32 characters).
    pub fn code(self) -> &'static str {
        match self {
            Self::NoWebhookPassword => "no_webhook_password",
            Self::AccountKeyMissing => "account_key_missing",
            Self::AccountKeyMismatch => "account_key_mismatch",
            Self::BasicMissing => "basic_missing",
            Self::BasicUserMismatch => "basic_user_mismatch",
            Self::BasicPasswordMismatch => "basic_password_mismatch",
            Self::NoAppSecret => "no_app_secret",
            Self::SignatureMissing => "signature_missing",
            Self::SignatureMismatch => "signature_mismatch",
            Self::VerifyModeWrong => "verify_mode_wrong",
            Self::VerifyTokenMismatch => "verify_token_mismatch",
            Self::ChallengeMissing => "challenge_missing",
            Self::Malformed => "malformed",
            Self::TooManyEvents => "too_many_events",
            Self::BodyTooLarge => "body_too_large",
            Self::PreviousWebhookPassword => "previous_webhook_password",
            Self::PreviousAppSecret => "previous_app_secret",
            Self::PreviousVerificationCode => "previous_verification_code",
            Self::TwilioSignatureMissing => "twilio_signature_missing",
            Self::TwilioSignatureMismatch => "twilio_signature_mismatch",
            Self::TwilioBodyHashMismatch => "twilio_body_hash_mismatch",
            Self::TwilioBodyHashMissing => "twilio_body_hash_missing",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// What was wrong with the delivery.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NoWebhookPassword => {
                "The channel has no Webhook Password to check the delivery against"
            }
            Self::AccountKeyMissing => "AccountKey header missing",
            Self::AccountKeyMismatch => "AccountKey does not match the Webhook Password",
            Self::BasicMissing => {
                "No HTTP Basic credentials (Authorization: Basic …) in the request"
            }
            Self::BasicUserMismatch => "Basic user is not the Webhook User",
            Self::BasicPasswordMismatch => "Basic password does not match the Webhook Password",
            Self::NoAppSecret => "The channel has no APP Secret to check the signature with",
            Self::SignatureMissing => "X-Hub-Signature-256 header missing",
            Self::SignatureMismatch => {
                "X-Hub-Signature-256 does not match the body signed with the APP Secret — is the APP Secret of the same Meta app?"
            }
            Self::VerifyModeWrong => "hub.mode is not \u{201c}subscribe\u{201d}",
            Self::VerifyTokenMismatch => "verify_token does not match the Verification Code",
            Self::ChallengeMissing => "hub.challenge missing or longer than 1,024 characters",
            Self::Malformed => "The body is not in the provider's format",
            Self::TooManyEvents => "More than 1,000 events in one delivery",
            Self::BodyTooLarge => "Body over 1 MiB",
            Self::PreviousWebhookPassword => {
                "The previous Webhook Password was used after its overlap ended"
            }
            Self::PreviousAppSecret => {
                "Signed with the previous APP Secret after its overlap ended"
            }
            Self::PreviousVerificationCode => {
                "The previous Verification Code was used after its overlap ended"
            }
            Self::TwilioSignatureMissing => "X-Twilio-Signature header missing",
            Self::TwilioSignatureMismatch => {
                "X-Twilio-Signature does not match: is the Auth Token of this Twilio account?"
            }
            Self::TwilioBodyHashMismatch => "The URL's bodySHA256 is not the SHA-256 of the body",
            Self::TwilioBodyHashMissing => {
                "A JSON body without bodySHA256 in the URL: the signature would not cover the body"
            }
        }
    }

    /// What the administrator does about it.
    pub fn fix(self) -> &'static str {
        match self {
            Self::NoWebhookPassword => {
                "Set a Webhook Password on Edit and enter the same value in the provider's portal."
            }
            Self::AccountKeyMissing => {
                "Configure the provider to send the Webhook Password in an AccountKey header."
            }
            Self::AccountKeyMismatch | Self::BasicPasswordMismatch => {
                "Enter the channel's Webhook Password in the provider's portal again (or generate a new one on Edit and copy it there)."
            }
            Self::BasicMissing => {
                "Put the Webhook User and Webhook Password into the callback URL's credentials in the provider's console."
            }
            Self::BasicUserMismatch => {
                "Use the channel's Webhook User as the user name in the provider's console."
            }
            Self::NoAppSecret => "Enter the APP Secret of the Meta app on Edit.",
            Self::SignatureMissing => {
                "Deliveries must come from Meta directly: a proxy in between may drop the header."
            }
            Self::SignatureMismatch => {
                "Enter on Edit the APP Secret of the Meta app whose webhook points here, and make sure no proxy changes the body."
            }
            Self::VerifyModeWrong | Self::ChallengeMissing => {
                "Start the verification from Meta for Developers (Webhooks → Verify and save)."
            }
            Self::VerifyTokenMismatch => {
                "Copy the channel's Verification Code into the Verify token field in Meta for Developers."
            }
            Self::Malformed => {
                "Check that the provider posts to the URL of its kind (message or report) in its own format, and that no proxy rewrites the body."
            }
            Self::TooManyEvents => {
                "Configure the provider to send at most 1,000 events per request."
            }
            Self::BodyTooLarge => {
                "Configure the provider to send smaller deliveries (at most 1 MiB each), and check that no proxy adds to the body."
            }
            Self::PreviousWebhookPassword => {
                "Enter the channel's current Webhook Password in the provider's portal (change it again on Channel Integration with an overlap if you need more time)."
            }
            Self::PreviousAppSecret => {
                "Meta still signs with the APP Secret you replaced: enter the APP Secret Meta for Developers shows now, or change it again with an overlap."
            }
            Self::PreviousVerificationCode => {
                "Copy the channel's current Verification Code into the Verify token field in Meta for Developers."
            }
            Self::TwilioSignatureMissing => {
                "Deliveries must come from Twilio directly: a proxy in between may drop the header. Remove the Auth Token on Edit to stop checking signatures."
            }
            Self::TwilioSignatureMismatch => {
                "Enter on Edit the Auth Token of the Twilio account that sends here (Console → Account Info), and make sure SWITCHBOARD_PUBLIC_URL is the address entered in Twilio: the signature covers the URL."
            }
            Self::TwilioBodyHashMismatch => {
                "Make sure no proxy changes the body between Twilio and Switchboard."
            }
            Self::TwilioBodyHashMissing => {
                "Twilio adds bodySHA256 to the URL of every JSON delivery it signs: check that no proxy strips the query string."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fit_their_column() {
        for r in Refusal::ALL {
            assert_eq!(Refusal::parse(r.code()), Some(r));
            assert!(r.code().len() <= 32);
            assert!(!r.reason().is_empty() && r.fix().ends_with('.'));
        }
        assert_eq!(Refusal::parse("nope"), None);
        assert_eq!(
            Refusal::PreviousWebhookPassword.describe(Some("2026-12-06 10:00 UTC")),
            "The previous Webhook Password, retired on 2026-12-06 10:00 UTC"
        );
        assert_eq!(
            Refusal::Malformed.describe(Some("MessageSid is missing")),
            "The body is not in the provider's format: MessageSid is missing"
        );
        assert_eq!(
            Refusal::previous(crate::domain::rotation::WebhookCredential::AppSecret),
            Refusal::PreviousAppSecret
        );
        let mut codes: Vec<_> = Refusal::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Refusal::ALL.len());
    }
}
