//! Pure rules for identity values: no I/O, unit-tested in place.

use crate::error::FieldError;

/// Longest email address SMTP allows (RFC 5321 4.5.3.1.3, path minus the angle brackets).
pub(crate) const EMAIL_MAX_CHARS: usize = 254;
/// Longest local part (RFC 5321 4.5.3.1.1).
const EMAIL_LOCAL_MAX_CHARS: usize = 64;
/// Shortest password: long passphrases beat complexity rules (NIST SP 800-63B asks at least 8).
pub(crate) const PASSWORD_MIN_CHARS: usize = 10;
/// Longest password: bounds the hashing work an attacker can ask for.
pub(crate) const PASSWORD_MAX_CHARS: usize = 128;
/// Longest full name, generous for names written in two scripts.
const FULL_NAME_MAX_CHARS: usize = 200;
/// Longest API key name.
const API_KEY_NAME_MAX_CHARS: usize = 100;
/// The region national phone numbers are read in.
const DEFAULT_PHONE_REGION: phonenumber::country::Id = phonenumber::country::Id::DZ;

/// A normalised email: trimmed and lower-cased, so uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    pub(crate) fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = |message: &str| FieldError::new("email", "invalid_format", message);
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(FieldError::new(
                "email",
                "too_long",
                format!("at most {EMAIL_MAX_CHARS} characters"),
            ));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("an email address needs an @"));
        };
        let labels_ok = domain.split('.').count() >= 2
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty()
            || local.chars().count() > EMAIL_LOCAL_MAX_CHARS
            || domain.contains('@')
            || !labels_ok
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("not a valid email address"));
        }
        Ok(Self(email))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password's length, counted in characters.
pub(crate) fn check_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            "password",
            "too_long",
            format!("at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A trimmed, non-empty text of bounded length without control characters.
fn bounded_text(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("at most {max_chars} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid_format",
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A person's or business's name as shown to others.
pub(crate) fn parse_full_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("full_name", raw, FULL_NAME_MAX_CHARS)
}

/// An API key's label.
pub(crate) fn parse_api_key_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("name", raw, API_KEY_NAME_MAX_CHARS)
}

/// A phone number in E.164 form (`+213550123456`); national Algerian forms are accepted.
pub(crate) fn parse_phone(raw: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new("phone", "invalid_format", "not a valid phone number");
    let number =
        phonenumber::parse(Some(DEFAULT_PHONE_REGION), raw.trim()).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Amina.B@Example.DZ ").unwrap();
        assert_eq!(email.as_str(), "amina.b@example.dz");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        let cases = [
            ("", "empty"),
            ("amina", "no @"),
            ("@example.dz", "empty local part"),
            ("amina@", "empty domain"),
            ("amina@localhost", "single-label domain"),
            ("amina@example..dz", "empty label"),
            ("a mina@example.dz", "whitespace"),
            ("amina@@example.dz", "two @"),
        ];
        for (raw, why) in cases {
            assert!(
                Email::parse(raw).is_err(),
                "{raw:?} should be rejected: {why}"
            );
        }
        let long = format!("{}@example.dz", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert_eq!(check_password("123456789").unwrap_err().code, "too_short");
        assert!(
            check_password("كلمة سر طويلة").is_ok(),
            "13 Arabic characters"
        );
        assert!(check_password(&"x".repeat(128)).is_ok());
        assert_eq!(
            check_password(&"x".repeat(129)).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn algerian_phone_numbers_are_stored_as_e164() {
        let cases = [
            ("0550 12 34 56", "+213550123456"),
            ("0661-23-45-67", "+213661234567"),
            ("+213 770 12 34 56", "+213770123456"),
            ("00213550123456", "+213550123456"),
            ("+33 6 12 34 56 78", "+33612345678"),
        ];
        for (raw, e164) in cases {
            assert_eq!(parse_phone(raw).unwrap(), e164, "{raw}");
        }
    }

    #[test]
    fn invalid_phone_numbers_are_rejected() {
        for raw in ["", "12", "0550 12 34", "phone", "+213 1 23"] {
            assert!(parse_phone(raw).is_err(), "{raw:?} should be rejected");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_full_name("  Karim Benali ").unwrap(), "Karim Benali");
        assert_eq!(parse_full_name("   ").unwrap_err().code, "required");
        assert_eq!(
            parse_full_name(&"n".repeat(201)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            parse_full_name("a\u{0}b").unwrap_err().code,
            "invalid_format"
        );
    }
}
