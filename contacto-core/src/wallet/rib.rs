//! Algerian bank account numbers (RIB), checked before anything is held.
//!
//! A RIB is 20 digits: bank code (3), branch code (5), account number (10) and a 2-digit key.
//! The key makes the whole number a multiple of 97: `key = 97 - (first 18 digits × 100) mod 97`.

use crate::error::FieldError;

/// Digits in a RIB.
const RIB_DIGITS: usize = 20;

/// The RIB's 20 digits, spaces and dashes removed, when its structure and key are right.
pub(crate) fn parse_rib(raw: &str) -> Result<String, FieldError> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != RIB_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            "rib",
            "invalid_format",
            "a RIB is 20 digits",
        ));
    }
    let body: u128 = digits[..18]
        .parse()
        .map_err(|_| FieldError::new("rib", "invalid_format", "a RIB is 20 digits"))?;
    let key: u128 = digits[18..]
        .parse()
        .map_err(|_| FieldError::new("rib", "invalid_format", "a RIB is 20 digits"))?;
    if 97 - (body * 100) % 97 != key {
        return Err(FieldError::new(
            "rib",
            "invalid_key",
            "the RIB's key does not match its digits",
        ));
    }
    Ok(digits)
}

/// The RIB as shown back: only its last four digits.
pub(crate) fn mask(rib: &str) -> String {
    let tail = rib.get(rib.len().saturating_sub(4)..).unwrap_or("");
    format!("****************{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A RIB with a correct key for the given 18 digits.
    fn with_key(body: &str) -> String {
        let n: u128 = body.parse().unwrap();
        format!("{body}{:02}", 97 - (n * 100) % 97)
    }

    #[test]
    fn well_formed_ribs_are_accepted_in_any_layout() {
        let rib = with_key("002001234567890123");
        assert_eq!(parse_rib(&rib).unwrap(), rib);
        let spaced = format!(
            "{} {} {} {}",
            &rib[..3],
            &rib[3..8],
            &rib[8..18],
            &rib[18..]
        );
        assert_eq!(parse_rib(&spaced).unwrap(), rib);
        assert_eq!(mask(&rib), format!("****************{}", &rib[16..]));
    }

    #[test]
    fn malformed_ribs_are_refused_with_a_reason() {
        let rib = with_key("002001234567890123");
        let mut wrong_key = rib.clone();
        wrong_key.replace_range(18.., if &rib[18..] == "01" { "02" } else { "01" });
        let cases = [
            ("", "invalid_format"),
            ("1234", "invalid_format"),
            ("0020012345678901234X", "invalid_format"),
            (&rib[..19], "invalid_format"),
            (&wrong_key, "invalid_key"),
        ];
        for (raw, code) in cases {
            assert_eq!(parse_rib(raw).unwrap_err().code, code, "{raw:?}");
        }
    }
}
