use super::*;
use proptest::prelude::*;

fn trust() -> Vec<TrustPrefix> {
    vec![
        TrustPrefix::parse("https://api.infobip.com").unwrap(),
        TrustPrefix::parse("https://graph.facebook.com").unwrap(),
        TrustPrefix::parse("https://api.twilio.com").unwrap(),
        TrustPrefix::parse("https://bsp.itau.example").unwrap(),
        TrustPrefix::parse("https://aicc.example.com:8443").unwrap(),
    ]
}

fn ctx() -> ValidationContext {
    ValidationContext {
        trust: trust(),
        configured: vec![],
        today: "2026-11-25".into(),
        saved_for: None,
        apps: vec![],
    }
}

fn basic_part() -> ChannelDraft {
    ChannelDraft {
        name: "wa_support_1".into(),
        skill_queue_id: "7".into(),
        workday: vec![SegmentInput::new("09:00", "18:00")],
        non_workday: vec![SegmentInput::new("10:00", "16:00")],
        ..ChannelDraft::default()
    }
}

pub fn infobip() -> ChannelDraft {
    ChannelDraft {
        provider: "infobip".into(),
        phone_number: "+4915112345678".into(),
        username: "acme".into(),
        password: "infobip-pass".into(),
        base_url: "https://api.infobip.com/whatsapp".into(),
        account_key: "acc-key".into(),
        webhook_password: "hook-secret-1".into(),
        ..basic_part()
    }
}

fn other_basic() -> ChannelDraft {
    ChannelDraft {
        provider: "other".into(),
        verification_method: "basic".into(),
        phone_number: "5511987654321".into(),
        username: "itau".into(),
        password: "p".into(),
        base_url: "https://bsp.itau.example/api".into(),
        authentication_key: "auth-key".into(),
        webhook_password: "hook-secret-2".into(),
        ..basic_part()
    }
}

fn other_oauth() -> ChannelDraft {
    ChannelDraft {
        provider: "other".into(),
        verification_method: "oAuth".into(),
        username: "app-key-123".into(),
        password: "app-secret".into(),
        base_url: "https://aicc.example.com:8443/apiaccess/rest/ccmessaging".into(),
        webhook_password: "hook-secret-3".into(),
        ..basic_part()
    }
}

fn cloud_api() -> ChannelDraft {
    ChannelDraft {
        provider: "cloud-api".into(),
        app_key: "1234567890".into(),
        app_secret: "app_secret_123".into(),
        phone_number: "15550001111".into(),
        base_url: "https://graph.facebook.com/v19.0".into(),
        access_token: "EAAB-token".into(),
        token_valid_until: "2027-01-31".into(),
        ..basic_part()
    }
}

fn twilio() -> ChannelDraft {
    ChannelDraft {
        provider: "twilio".into(),
        phone_number: "+14155238886".into(),
        api_key_sid: format!("SK{}", "a1".repeat(16)),
        api_key_secret: "twilio-secret".into(),
        base_url: "https://api.twilio.com/2010-04-01".into(),
        account_sid: format!("AC{}", "0f".repeat(16)),
        webhook_user: "aicc_hook".into(),
        webhook_password: "S3cret!pass".into(),
        ..basic_part()
    }
}

fn fields(e: &FieldErrors) -> Vec<&str> {
    e.0.iter().map(|f| f.field.as_str()).collect()
}

fn error_of(d: &ChannelDraft, field: &str) -> String {
    let e = d.validate(&ctx()).expect_err("should be refused");
    e.get(field)
        .unwrap_or_else(|| panic!("no error for {field}: {e:?}"))
        .to_owned()
}

#[test]
fn channel_name_rules() {
    assert!(ChannelName::parse(&"a".repeat(64)).is_ok());
    assert!(
        ChannelName::parse(&"a".repeat(65))
            .unwrap_err()
            .contains("at most 64")
    );
    assert!(ChannelName::parse("_private").is_ok());
    assert!(ChannelName::parse("A1_b2").is_ok());
    assert!(
        ChannelName::parse("1abc")
            .unwrap_err()
            .contains("start with a letter or '_'")
    );
    assert!(
        ChannelName::parse("wa-support")
            .unwrap_err()
            .contains("found '-'")
    );
    assert!(
        ChannelName::parse("wa support")
            .unwrap_err()
            .contains("found ' '")
    );
    assert!(
        ChannelName::parse("café")
            .unwrap_err()
            .contains("found 'é'")
    );
    assert_eq!(
        ChannelName::parse("  ").unwrap_err(),
        "Enter a channel name."
    );
    assert_eq!(ChannelName::parse(" ok_1 ").unwrap().as_str(), "ok_1");
}

#[test]
fn a_complete_form_is_valid_for_each_provider() {
    for (draft, provider) in [
        (infobip(), ProviderKind::Infobip),
        (other_basic(), ProviderKind::Other),
        (other_oauth(), ProviderKind::Other),
        (cloud_api(), ProviderKind::CloudApi),
        (twilio(), ProviderKind::Twilio),
    ] {
        let valid = draft
            .validate(&ctx())
            .unwrap_or_else(|e| panic!("{provider:?}: {e:?}"));
        assert_eq!(valid.credentials.provider(), provider);
        assert_eq!(valid.name.as_str(), "wa_support_1");
        assert_eq!(valid.basic.workday.describe(), "09:00-18:00");
    }
    assert!(matches!(
        other_oauth().validate(&ctx()).unwrap().credentials,
        Credentials::OtherOAuth { .. }
    ));
}

#[test]
fn provider_fields_are_required_per_provider() {
    let empty = |provider: &str, method: &str| ChannelDraft {
        provider: provider.into(),
        verification_method: method.into(),
        ..basic_part()
    };
    let e = empty("infobip", "").validate(&ctx()).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "phone_number",
            "username",
            "password",
            "base_url",
            "account_key",
            "webhook_password"
        ]
    );
    let e = empty("other", "basic").validate(&ctx()).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "phone_number",
            "username",
            "password",
            "base_url",
            "authentication_key",
            "webhook_password"
        ]
    );
    // oAuth asks no phone number, authentication key or identity certificate
    let e = empty("other", "oAuth").validate(&ctx()).unwrap_err();
    assert_eq!(
        fields(&e),
        ["username", "password", "base_url", "webhook_password"]
    );
    let e = empty("cloud-api", "").validate(&ctx()).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "app_key",
            "app_secret",
            "phone_number",
            "base_url",
            "access_token",
            "token_valid_until"
        ]
    );
    let e = empty("twilio", "").validate(&ctx()).unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "phone_number",
            "api_key_sid",
            "api_key_secret",
            "base_url",
            "account_sid",
            "webhook_user",
            "webhook_password"
        ]
    );
    assert_eq!(
        error_of(&empty("", ""), "provider"),
        "Choose a Business Solution Provider."
    );
    assert_eq!(
        error_of(&empty("other", ""), "verification_method"),
        "Choose a Verification Method."
    );
}

#[test]
fn base_url_must_be_https_and_on_the_trustlist() {
    let mut d = infobip();
    d.base_url = "https://api.infobip.com.evil.test/x".into();
    assert!(error_of(&d, "base_url").contains("not on the address trustlist"));
    d.base_url = "http://api.infobip.com".into();
    assert!(error_of(&d, "base_url").contains("https://"));
    d.base_url = "api.infobip.com".into();
    assert!(error_of(&d, "base_url").contains("complete URL"));
    d.base_url = "https://user:pw@api.infobip.com".into();
    assert!(error_of(&d, "base_url").contains("cannot contain @"));
    // a prefix for another tenant is not passed in: nothing allowed without the trustlist
    let none = ValidationContext {
        trust: vec![],
        ..ctx()
    };
    assert!(
        infobip()
            .validate(&none)
            .unwrap_err()
            .get("base_url")
            .is_some()
    );
}

#[test]
fn base_url_is_stored_as_the_check_read_it() {
    let trust = trust();
    assert_eq!(
        parse_base_url(" https://API.Infobip.com:443/whatsapp/ ", &trust).unwrap(),
        "https://api.infobip.com/whatsapp"
    );
    assert_eq!(
        parse_base_url("https://aicc.example.com:8443/x", &trust).unwrap(),
        "https://aicc.example.com:8443/x"
    );
    // what two parsers could read as different hosts or paths is refused, with the reason
    for (bad, reason) in [
        ("https://api.infobip.com\\@evil.test", "cannot contain \\"),
        ("https://api.infobip.com@evil.test", "cannot contain @"),
        (
            "https://api.infobip.com/a b",
            "spaces or control characters",
        ),
        (
            "https://api.infobip.com/\tx",
            "spaces or control characters",
        ),
        (
            "https://api.infobip.com/%2F..%2Fadmin",
            "encoded separators",
        ),
        ("https://api.infobip.com%2Eevil.test", "encoded separators"),
        ("https://api.infobip.com/%5cx", "encoded separators"),
        ("https://api.infobip.com/v1/../admin", "'..' path segments"),
        ("https://api.infobip.com/./x", "'..' path segments"),
        ("https://api.infobip.com/x?y=1", "'?' or '#'"),
        ("https://api.infobip.com/x#y", "'?' or '#'"),
        ("https:api.infobip.com/x", "must start with https://"),
        ("https:aé.example", "https://"),
        ("https:/é.example", "https://"),
        ("HTTPS://", "complete URL"),
    ] {
        let got = parse_base_url(bad, &trust).unwrap_err();
        assert!(got.contains(reason), "{bad}: {got}");
    }
    // the oAuth form keeps its port, also the default one, so an edit validates again
    let oauth = parse_oauth_base_url(
        "https://aicc.example.com:8443/apiaccess/rest/ccmessaging/",
        &trust,
    )
    .unwrap();
    assert_eq!(
        oauth,
        "https://aicc.example.com:8443/apiaccess/rest/ccmessaging"
    );
    assert_eq!(parse_oauth_base_url(&oauth, &trust).unwrap(), oauth);
    let default_port = vec![TrustPrefix::parse("https://aicc.example.com").unwrap()];
    let stored = parse_oauth_base_url(
        "https://aicc.example.com:443/apiaccess/rest/ccmessaging",
        &default_port,
    )
    .unwrap();
    assert_eq!(
        stored,
        "https://aicc.example.com:443/apiaccess/rest/ccmessaging"
    );
    assert_eq!(
        parse_oauth_base_url(&stored, &default_port).unwrap(),
        stored
    );
}

#[test]
fn free_text_refuses_control_characters_but_keeps_line_breaks() {
    let mut d = infobip();
    d.non_working_notification = "Closed.\nBack at 9.".into();
    assert!(d.validate(&ctx()).is_ok());
    for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}[31m"] {
        d.non_working_notification = bad.into();
        assert_eq!(
            error_of(&d, "non_working_notification"),
            "The notification cannot contain control characters."
        );
    }
    let mut d = infobip();
    d.keywords = "agent,hu\u{0}man".into();
    assert_eq!(
        error_of(&d, "keywords"),
        "Keywords cannot contain control characters."
    );
    let mut d = infobip();
    d.username = "acme\u{0}".into();
    assert!(error_of(&d, "username").contains("control characters"));
}

#[test]
fn debug_output_never_shows_a_secret() {
    let mut d = infobip();
    d.password = "pw-canary-1".into();
    d.account_key = "ak-canary-2".into();
    d.webhook_password = "hook-canary-3".into();
    d.app_secret = "as-canary-4".into();
    d.access_token = "at-canary-5".into();
    d.api_key_secret = "aks-canary-6".into();
    d.authentication_key = "auk-canary-7".into();
    let printed = format!("{d:?} {:?}", d.validate(&ctx()));
    assert!(!printed.contains("canary"), "{printed}");
    assert!(printed.contains("wa_support_1"));
}

#[test]
fn oauth_base_url_form() {
    let mut d = other_oauth();
    for bad in [
        "https://aicc.example.com/apiaccess/rest/ccmessaging", // no port
        "https://aicc.example.com:8443/apiaccess/rest",        // wrong path
        "http://aicc.example.com:8443/apiaccess/rest/ccmessaging",
        "https://aicc.example.com:8443/apiaccess/rest/ccmessaging?x=1",
    ] {
        d.base_url = bad.into();
        assert!(
            error_of(&d, "base_url").contains("must be https://{host}:{port}"),
            "{bad}"
        );
    }
    d.base_url = "https://aicc.example.com:8443/apiaccess/rest/ccmessaging/".into();
    assert!(d.validate(&ctx()).is_ok());
    d.base_url = "https://other.example.com:8443/apiaccess/rest/ccmessaging".into();
    assert!(error_of(&d, "base_url").contains("trustlist"));
}

#[test]
fn secrets_are_required_on_create_and_kept_when_empty_on_edit() {
    let mut d = twilio();
    d.api_key_secret.clear();
    d.webhook_password.clear();
    assert_eq!(error_of(&d, "api_key_secret"), "Enter the API Key Secret.");
    let edit = ValidationContext {
        configured: vec![SecretField::ApiKeySecret, SecretField::WebhookPassword],
        ..ctx()
    };
    let valid = d.validate(&edit).unwrap();
    let Credentials::Twilio {
        api_key_secret,
        webhook_password,
        ..
    } = valid.credentials
    else {
        panic!("twilio");
    };
    assert_eq!(api_key_secret, SecretValue::Keep);
    assert_eq!(webhook_password, SecretValue::Keep);
    assert_eq!(format!("{:?}", SecretValue::Set("x".into())), "Set(****)");

    let mut d = infobip();
    d.webhook_password = "short".into();
    assert!(error_of(&d, "webhook_password").contains("at least 8"));
    assert_eq!(
        SecretField::required_by(ProviderKind::Other, Some(VerificationMethod::OAuth)),
        &[SecretField::Password, SecretField::WebhookPassword]
    );
}

#[test]
fn phone_numbers_and_identifiers() {
    assert_eq!(parse_phone("+49 151-1234 5678").unwrap(), "+4915112345678");
    assert!(parse_phone("12345").is_err());
    assert!(parse_phone("123456").is_ok());
    assert!(parse_phone(&"1".repeat(15)).is_ok());
    assert!(parse_phone(&"1".repeat(16)).is_err());
    assert!(parse_phone("+1555abc1234").is_err());
    let mut d = twilio();
    d.api_key_sid = "AC".to_string() + &"a".repeat(32);
    assert!(error_of(&d, "api_key_sid").contains("starts with SK"));
    d = twilio();
    d.account_sid = "AC123".into();
    assert!(error_of(&d, "account_sid").contains("32 hexadecimal"));
    d = twilio();
    d.webhook_user = "a:b".into();
    assert!(error_of(&d, "webhook_user").contains("':'"));
    let mut d = cloud_api();
    d.app_key = "app-1".into();
    assert!(error_of(&d, "app_key").contains("digits only"));
}

#[test]
fn token_validity_dates() {
    assert!(parse_expiry_date("2028-02-29", "2026-11-25").is_ok());
    assert!(parse_expiry_date("2027-02-29", "2026-11-25").is_err());
    assert!(parse_expiry_date("2026-13-01", "2026-11-25").is_err());
    assert!(parse_expiry_date("26-1-1", "2026-11-25").is_err());
    assert!(parse_expiry_date("2026-11-25", "2026-11-25").is_ok());
    assert!(
        parse_expiry_date("2026-11-24", "2026-11-25")
            .unwrap_err()
            .contains("expired")
    );
}

#[test]
fn keywords_only_required_with_the_robot_on() {
    let mut d = infobip();
    assert!(d.validate(&ctx()).is_ok(), "robot off: no keyword needed");
    d.robot = true;
    d.robot_access_code = "bot-42".into();
    assert!(error_of(&d, "keywords").contains("at least one keyword"));
    d.keywords = "agent, human\nperson".into();
    let v = d.validate(&ctx()).unwrap();
    assert_eq!(v.basic.keywords, ["agent", "human", "person"]);
    assert_eq!(v.robot.access_code.as_deref(), Some("bot-42"));
    d.robot_access_code = " ".into();
    assert!(error_of(&d, "robot_access_code").contains("access code"));
}

#[test]
fn keyword_limits() {
    let ten = (1..=10)
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(parse_keywords(&ten).unwrap().len(), 10);
    let eleven = (1..=11)
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(parse_keywords(&eleven).unwrap_err().contains("At most 10"));
    assert!(parse_keywords(&"x".repeat(50)).is_ok());
    assert!(
        parse_keywords(&"x".repeat(51))
            .unwrap_err()
            .contains("at most 50")
    );
    assert!(
        parse_keywords("Agent, agent")
            .unwrap_err()
            .contains("twice")
    );
    assert_eq!(parse_keywords(" , ,").unwrap(), Vec::<String>::new());
}

#[test]
fn work_time_errors_name_their_segment() {
    let mut d = infobip();
    d.workday = vec![
        SegmentInput::new("09:00", "12:00"),
        SegmentInput::new("11:00", "13:00"),
    ];
    d.non_workday = vec![];
    let e = d.validate(&ctx()).unwrap_err();
    assert!(e.get("workday.1").unwrap().contains("overlaps segment 1"));
    assert!(e.get("non_workday").unwrap().contains("at least one"));
    d.workday = vec![
        SegmentInput::new("09:00", "12:00"),
        SegmentInput::new("12:00", "24:00"),
    ];
    d.non_workday = vec![SegmentInput::new("00:00", "24:00")];
    assert!(d.validate(&ctx()).is_ok());
}

#[test]
fn switches_and_their_numbers() {
    let check = |f: &dyn Fn(&mut ChannelDraft), field: &str, ok: bool| {
        let mut d = infobip();
        f(&mut d);
        let r = d.validate(&ctx());
        assert_eq!(r.is_ok(), ok, "{field}: {r:?}");
        if !ok {
            assert!(r.unwrap_err().get(field).is_some(), "{field}");
        }
    };
    for (days, ok) in [
        ("0", false),
        ("1", true),
        ("30", true),
        ("31", false),
        ("", false),
        ("x", false),
    ] {
        check(
            &|d| {
                d.last_agent_mode = true;
                d.last_agent_days = days.into();
            },
            "last_agent_days",
            ok,
        );
    }
    // a switch that is off ignores its values
    check(
        &|d| {
            d.last_agent_mode = false;
            d.last_agent_days = "99".into();
        },
        "last_agent_days",
        true,
    );
    for (m, ok) in [("0", false), ("1", true), ("1440", true), ("1441", false)] {
        check(
            &|d| {
                d.no_reply_end = true;
                d.no_reply_minutes = m.into();
            },
            "no_reply_minutes",
            ok,
        );
    }
    check(
        &|d| {
            d.no_reply_end = true;
            d.no_reply_minutes = "5".into();
            d.no_reply_message = "x".repeat(257);
        },
        "no_reply_message",
        false,
    );
    for (s, ok) in [("9", false), ("10", true), ("3600", true), ("3601", false)] {
        check(
            &|d| {
                d.no_agent_transfer = true;
                d.no_agent_seconds = s.into();
                d.no_agent_queue_id = "3".into();
            },
            "no_agent_seconds",
            ok,
        );
    }
    check(
        &|d| {
            d.no_agent_transfer = true;
            d.no_agent_seconds = "30".into();
        },
        "no_agent_queue_id",
        false,
    );
    for (m, ok) in [("0", false), ("1", true), ("60", true), ("61", false)] {
        check(
            &|d| {
                d.offline_messages = true;
                d.offline_limit_minutes = m.into();
            },
            "offline_limit_minutes",
            ok,
        );
    }
    for (p, ok) in [
        ("We are away", true),
        ("a;b", false),
        ("<b>", false),
        ("it's", false),
        ("a/b", false),
        ("a\\b", false),
        ("\"q\"", false),
    ] {
        check(
            &|d| {
                d.offline_messages = true;
                d.offline_prompt = p.into();
            },
            "offline_prompt",
            ok,
        );
    }
    check(
        &|d| {
            d.non_working_notification = "x".repeat(256);
        },
        "non_working_notification",
        true,
    );
    check(
        &|d| {
            d.non_working_notification = "x".repeat(257);
        },
        "non_working_notification",
        false,
    );

    let mut d = infobip();
    d.offline_messages = true;
    assert_eq!(
        d.validate(&ctx()).unwrap().basic.offline_messages,
        Some((String::new(), 30))
    );
}

#[test]
fn skill_queue_required_ou_optional() {
    let mut d = infobip();
    d.skill_queue_id.clear();
    assert_eq!(error_of(&d, "skill_queue_id"), "Choose a skill queue.");
    let mut d = infobip();
    d.ou_id = "x".into();
    assert_eq!(error_of(&d, "ou_id"), "Choose a OU.");
    let mut d = infobip();
    d.ou_id = "12".into();
    assert_eq!(d.validate(&ctx()).unwrap().basic.ou_id, Some(12));
}

proptest! {
    #[test]
    fn accepted_channel_names_follow_the_rule(s in "\\PC{0,70}") {
        if let Ok(n) = ChannelName::parse(&s) {
            let n = n.as_str();
            prop_assert!(!n.is_empty() && n.chars().count() <= 64);
            prop_assert!(n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'));
            prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        }
    }

    #[test]
    fn every_well_formed_name_is_accepted(s in "[A-Za-z_][A-Za-z0-9_]{0,63}") {
        prop_assert_eq!(ChannelName::parse(&s).map(|n| n.as_str().to_owned()), Ok(s));
    }

    #[test]
    fn names_over_64_are_refused(s in "[A-Za-z_][A-Za-z0-9_]{64,100}") {
        prop_assert!(ChannelName::parse(&s).is_err());
    }

    /// Any draft, however hostile its text: `validate` answers (no panic), every message names
    /// a field, and what it accepts holds no control character a database would refuse.
    #[test]
    fn validate_never_panics_and_accepts_only_storable_text(
        provider in prop::sample::select(vec!["infobip", "other", "cloud-api", "twilio", "", "x"]),
        method in prop::sample::select(vec!["basic", "oAuth", ""]),
        texts in prop::collection::vec(any::<String>(), 12),
        numbers in prop::collection::vec("[0-9-]{0,6}", 6),
        base_url in prop_oneof![
            any::<String>(),
            "https://api\\.infobip\\.com[/a-z0-9%@\\\\.: ]{0,20}",
            "https://aicc\\.example\\.com:8443/apiaccess/rest/ccmessaging[/?#]{0,2}",
            "(?i:https?):/{0,3}[a-zé\\.%@\\\\]{0,12}(/[a-zé\\.]{0,6}){0,3}",
        ],
        flags in prop::collection::vec(any::<bool>(), 6),
        segments in prop::collection::vec(("[0-9:]{0,6}", "[0-9:]{0,6}"), 0..6),
    ) {
        let d = ChannelDraft {
            provider: provider.into(),
            verification_method: method.into(),
            phone_number: texts[0].clone(),
            username: texts[1].clone(),
            password: texts[2].clone(),
            base_url,
            account_key: texts[3].clone(),
            authentication_key: texts[4].clone(),
            webhook_user: texts[5].clone(),
            webhook_password: texts[6].clone(),
            app_key: numbers[0].clone(),
            app_secret: texts[7].clone(),
            access_token: texts[8].clone(),
            token_valid_until: texts[9].clone(),
            name: texts[10].clone(),
            skill_queue_id: numbers[1].clone(),
            ou_id: numbers[2].clone(),
            keywords: texts[11].clone(),
            workday: segments.iter().map(|(a, b)| SegmentInput::new(a, b)).collect(),
            non_workday: segments.iter().rev().map(|(a, b)| SegmentInput::new(a, b)).collect(),
            non_working_notification: texts[0].clone(),
            last_agent_mode: flags[0],
            last_agent_days: numbers[3].clone(),
            no_reply_end: flags[1],
            no_reply_minutes: numbers[4].clone(),
            no_reply_message: texts[1].clone(),
            no_agent_transfer: flags[2],
            no_agent_seconds: numbers[5].clone(),
            offline_messages: flags[3],
            offline_prompt: texts[2].clone(),
            robot: flags[4],
            robot_access_code: texts[3].clone(),
            robot_assistant: flags[5],
            ..ChannelDraft::default()
        };
        match d.validate(&ctx()) {
            Ok(valid) => {
                let text = format!("{:?}", valid);
                prop_assert!(!text.contains('\0'));
                let b = &valid.basic;
                for t in b.keywords.iter().chain([&b.non_working_notification]) {
                    prop_assert!(!t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors.0 {
                    prop_assert!(!e.field.is_empty() && !e.message.is_empty());
                }
            }
        }
    }
}

#[test]
fn a_kept_credential_never_follows_the_channel_to_another_server() {
    let saved = twilio();
    let edit = ValidationContext {
        configured: vec![SecretField::ApiKeySecret, SecretField::WebhookPassword],
        saved_for: Some(SavedFor::of(&saved)),
        ..ctx()
    };
    let mut d = saved.clone();
    d.api_key_secret.clear();
    d.webhook_password.clear();
    // same server, another path: kept
    assert!(d.validate(&edit).is_ok());
    // the BaseUrl moves to another server of the trustlist: the secret sent there is asked again,
    // the webhook password (which the provider sends to us) is still kept
    d.base_url = "https://aicc.example.com:8443/2010-04-01".into();
    let e = d.validate(&edit).unwrap_err();
    assert!(
        e.get("api_key_secret")
            .unwrap()
            .starts_with("Enter the API Key Secret again"),
        "{e:?}"
    );
    assert_eq!(e.get("webhook_password"), None);
    d.api_key_secret = "a-new-secret".into();
    assert!(d.validate(&edit).is_ok());

    assert_eq!(
        server_of("HTTPS://Api.Twilio.com:443/x?y"),
        Some("https://api.twilio.com".into())
    );
    assert_eq!(
        server_of("https://10.0.0.5:8443/a"),
        Some("https://10.0.0.5:8443".into())
    );
    assert_eq!(server_of("not a url"), None);
}

/// The field table says what validation asks for: an empty provider section is refused on
/// exactly its required fields, and never on a field the table does not show.
#[test]
fn the_field_table_is_what_validation_asks_for() {
    let provider_fields = [
        "phone_number",
        "username",
        "password",
        "base_url",
        "account_key",
        "authentication_key",
        "webhook_password",
        "app_key",
        "app_secret",
        "access_token",
        "token_valid_until",
        "api_key_sid",
        "api_key_secret",
        "account_sid",
        "webhook_user",
    ];
    for (provider, method) in [
        (ProviderKind::Infobip, None),
        (ProviderKind::Other, Some(VerificationMethod::Basic)),
        (ProviderKind::Other, Some(VerificationMethod::OAuth)),
        (ProviderKind::CloudApi, None),
        (ProviderKind::Twilio, None),
    ] {
        let draft = ChannelDraft {
            provider: provider.as_str().into(),
            verification_method: method.map(|m| m.as_str().to_owned()).unwrap_or_default(),
            ..basic_part()
        };
        let errors = draft
            .validate(&ctx())
            .expect_err("an empty provider section");
        let mut refused: Vec<&str> = errors
            .0
            .iter()
            .map(|e| e.field.as_str())
            .filter(|f| provider_fields.contains(f))
            .collect();
        refused.sort_unstable();
        refused.dedup();
        let mut required: Vec<&str> = provider
            .fields(method)
            .iter()
            .filter(|f| f.required())
            .map(|f| f.name())
            .collect();
        required.sort_unstable();
        assert_eq!(refused, required, "{provider:?} {method:?}");
    }
}

#[test]
fn an_oauth_channel_picks_an_app_of_its_tenant_space_and_keeps_no_secret() {
    let key = "sbak_0123456789abcdef0123456789abcdef";
    let with_apps = ValidationContext {
        apps: vec![(42, key.into())],
        ..ctx()
    };
    // picked from the list: no UserName or Password asked
    let mut d = other_oauth();
    d.username.clear();
    d.password.clear();
    d.oauth_app_id = "42".into();
    match d.validate(&with_apps).unwrap().credentials {
        Credentials::OtherOAuth {
            app_key,
            app_id,
            app_secret,
            ..
        } => {
            assert_eq!(app_key, key);
            assert_eq!(app_id, Some(42));
            assert_eq!(app_secret, None);
        }
        other => panic!("{other:?}"),
    }
    // the key of one of the space's apps typed (an import): the same app
    let mut typed = other_oauth();
    typed.username = key.into();
    typed.password.clear();
    assert!(matches!(
        typed.validate(&with_apps).unwrap().credentials,
        Credentials::OtherOAuth {
            app_id: Some(42),
            app_secret: None,
            ..
        }
    ));
    // an app of another space (or one no longer subscribed) is refused at the field
    let mut foreign = d.clone();
    foreign.oauth_app_id = "7".into();
    assert!(
        refused(&foreign, &with_apps, "oauth_app_id")
            .contains("Choose one of this tenant space's apps")
    );
    foreign.oauth_app_id = "x".into();
    assert!(refused(&foreign, &with_apps, "oauth_app_id").contains("Choose one"));
    // a key of another platform still needs its secret
    let mut other_platform = other_oauth();
    other_platform.password.clear();
    assert!(refused(&other_platform, &with_apps, "password").contains("Enter the"));
    assert!(matches!(
        other_oauth().validate(&with_apps).unwrap().credentials,
        Credentials::OtherOAuth {
            app_id: None,
            app_secret: Some(_),
            ..
        }
    ));
}

fn refused(d: &ChannelDraft, ctx: &ValidationContext, field: &str) -> String {
    d.validate(ctx)
        .expect_err("should be refused")
        .get(field)
        .unwrap_or_else(|| panic!("no error on {field}"))
        .to_owned()
}

#[test]
fn twilio_auth_token_is_optional_32_hex_and_can_be_removed() {
    let token_of = |d: &ChannelDraft, ctx: &ValidationContext| {
        let Credentials::Twilio { auth_token, .. } = d.validate(ctx).unwrap().credentials else {
            panic!("twilio");
        };
        auth_token
    };
    let mut d = twilio();
    assert_eq!(token_of(&d, &ctx()), None);
    d.auth_token = "0123456789abcdef0123456789ABCDEF".into();
    assert_eq!(
        token_of(&d, &ctx()),
        Some(SecretValue::Set("0123456789abcdef0123456789ABCDEF".into()))
    );
    d.auth_token = "0123456789abcdef".into();
    assert!(error_of(&d, "auth_token").contains("32 hexadecimal"));
    d.auth_token = "g123456789abcdef0123456789abcdef".into();
    assert!(error_of(&d, "auth_token").contains("32 hexadecimal"));
    // stored: an empty field keeps it, and removing it clears it
    let edit = ValidationContext {
        configured: vec![
            SecretField::ApiKeySecret,
            SecretField::WebhookPassword,
            SecretField::AuthToken,
        ],
        ..ctx()
    };
    d.auth_token.clear();
    assert_eq!(token_of(&d, &edit), Some(SecretValue::Keep));
    d.remove_auth_token = true;
    assert_eq!(token_of(&d, &edit), None);
    d.auth_token = "0123456789abcdef0123456789abcdef".into();
    assert!(error_of(&d, "auth_token").contains("not both"));
    assert!(
        !SecretField::required_by(ProviderKind::Twilio, None).contains(&SecretField::AuthToken)
    );
    assert!(!ProviderField::Secret(SecretField::AuthToken).required());
}
