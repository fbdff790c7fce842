//! What Send test message takes: a recipient number and a short text.

/// The longest test message.
pub const TEST_TEXT_MAX: usize = 1024;

/// The Recipient Number, in international form (as the Phone Number of a channel).
pub fn parse_recipient(input: &str) -> Result<String, String> {
    super::channel::parse_phone(input).map_err(|_| {
        "Enter the Recipient Number as 6 to 15 digits, optionally starting with '+'.".to_string()
    })
}

/// The Message text: 1–1024 characters, line breaks allowed, no other control characters.
pub fn parse_test_text(input: &str) -> Result<String, String> {
    let v = input.trim();
    if v.is_empty() {
        return Err("Enter the Message text.".into());
    }
    if v.chars().count() > TEST_TEXT_MAX {
        return Err(format!(
            "The Message text can have at most {TEST_TEXT_MAX} characters."
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err("The Message text cannot contain control characters.".into());
    }
    Ok(v.to_owned())
}

/// A new Webhook Password: 24 characters of `A–Z a–z 0–9` (142 bits), which every provider
/// portal accepts, from `random` bytes (the browser's `crypto.getRandomValues`).
pub fn webhook_password_from(random: &[u8; 32]) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // rejection sampling: bytes >= 248 (= 4 × 62) are skipped, so every character is uniform
    let mut out = String::with_capacity(24);
    let mut pool = random.iter().copied().filter(|b| *b < 248).peekable();
    while out.len() < 24 {
        match pool.next() {
            Some(b) => out.push(ALPHABET[usize::from(b % 62)] as char),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_and_texts() {
        assert_eq!(
            parse_recipient("+49 151 1234 5678").unwrap(),
            "+4915112345678"
        );
        assert!(
            parse_recipient("12ab")
                .unwrap_err()
                .contains("Recipient Number")
        );
        assert_eq!(parse_test_text("  Hello\nthere ").unwrap(), "Hello\nthere");
        assert!(parse_test_text(" ").is_err());
        assert!(
            parse_test_text(&"x".repeat(1025))
                .unwrap_err()
                .contains("1024")
        );
        assert!(parse_test_text("a\u{0}b").is_err());
    }

    #[test]
    fn generated_webhook_passwords_are_long_and_plain() {
        let p = webhook_password_from(&[7u8; 32]);
        assert_eq!(p.len(), 24);
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric()));
        let mut other = [7u8; 32];
        other[0] = 8;
        assert_ne!(webhook_password_from(&other), p);
        // bytes past the uniform range are skipped, not folded
        let mut high = [255u8; 32];
        high[..24].copy_from_slice(&[0u8; 24]);
        assert_eq!(webhook_password_from(&high), "A".repeat(24));
    }
}
