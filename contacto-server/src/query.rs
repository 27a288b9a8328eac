//! Query strings, parsed and checked: a bad parameter is a 400 that names it.

use contacto_core::api::TransactionKind;
use contacto_core::{Error, FieldError, FieldErrors, HistoryQuery};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The raw parameters of `GET /api/v1/wallets/{id}/transactions`.
#[derive(Debug, Default, Deserialize)]
struct RawHistory {
    cursor: Option<String>,
    limit: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Parses a history page's query string.
///
/// # Errors
///
/// [`Error::Validation`] naming each bad parameter.
pub fn history(query: Option<&str>) -> Result<HistoryQuery, Error> {
    let raw: RawHistory = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|err| Error::invalid("query", "invalid_format", err.to_string()))?;
    let mut errors = FieldErrors::new();
    let limit = raw.limit.as_deref().and_then(|text| {
        errors.check(
            text.parse::<i64>()
                .map_err(|_| FieldError::new("limit", "invalid_type", "a whole number")),
        )
    });
    let kind = raw.kind.as_deref().and_then(|name| {
        errors.check(
            TransactionKind::from_name(name)
                .ok_or_else(|| FieldError::new("type", "invalid_value", "not a transaction kind")),
        )
    });
    let mut time = |field: &str, text: Option<&str>| {
        text.and_then(|text| {
            errors.check(
                OffsetDateTime::parse(text, &Rfc3339)
                    .map_err(|_| FieldError::new(field, "invalid_format", "an RFC 3339 date-time")),
            )
        })
    };
    let from = time("from", raw.from.as_deref());
    let to = time("to", raw.to.as_deref());
    errors.into_result()?;
    Ok(HistoryQuery {
        cursor: raw.cursor,
        limit,
        kind,
        from,
        to,
    })
}

#[derive(Debug, Default, Deserialize)]
struct RawAt {
    at: Option<String>,
}

/// Parses `?at=<RFC 3339>`, which is required.
///
/// # Errors
///
/// [`Error::Validation`] naming `at`.
pub fn at(query: Option<&str>) -> Result<OffsetDateTime, Error> {
    let raw: RawAt = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|err| Error::invalid("query", "invalid_format", err.to_string()))?;
    let text = raw
        .at
        .ok_or_else(|| Error::invalid("at", "required", "an RFC 3339 date-time"))?;
    OffsetDateTime::parse(&text, &Rfc3339)
        .map_err(|_| Error::invalid("at", "invalid_format", "an RFC 3339 date-time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_query_is_parsed() {
        let query = history(Some(
            "cursor=12&limit=5&type=transfer&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00%2B01:00",
        ))
        .unwrap();
        assert_eq!(query.cursor.as_deref(), Some("12"));
        assert_eq!(query.limit, Some(5));
        assert_eq!(query.kind, Some(TransactionKind::Transfer));
        assert!(query.from.is_some() && query.to.is_some());
        assert!(history(None).unwrap().limit.is_none());
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            ("limit=ten", "limit"),
            ("type=gift", "type"),
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
        ];
        for (query, field) in cases {
            let err = history(Some(query)).unwrap_err();
            assert_eq!(err.field_errors().unwrap()[0].field, field, "{query}");
        }
    }
}
