//! Query strings, parsed and checked: a bad parameter is a 400 that names it. So is a parameter the
//! operation does not take, and one given twice: a typo (`wilya=16`) must not silently widen a
//! search or a history page.

use std::collections::HashMap;

use contacto_core::api::{HistoryStatus, ReviewSort, SearchQuery, SearchSort, TransactionKind};
use contacto_core::{Error, FieldError, FieldErrors, HistoryQuery};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest parameter name echoed back in an error: names come from the caller.
const MAX_ECHOED_NAME_CHARS: usize = 64;

/// The values of a query string's parameters, by name, and the errors found so far.
struct Parameters {
    values: HashMap<&'static str, String>,
    errors: FieldErrors,
}

impl Parameters {
    /// Splits `query` into the parameters an operation takes (`known`); every other name, and
    /// every repeated one, is an error naming it.
    fn parse(query: Option<&str>, known: &[&'static str]) -> Result<Self, Error> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|err| Error::invalid("query", "invalid_format", err.to_string()))?;
        let mut values = HashMap::new();
        let mut errors = FieldErrors::new();
        for (name, value) in pairs {
            match known.iter().find(|known| **known == name) {
                Some(known) => {
                    if values.insert(*known, value).is_some() {
                        errors.push(FieldError::new(known, "duplicate", "given more than once"));
                    }
                }
                None => {
                    let name: String = name.chars().take(MAX_ECHOED_NAME_CHARS).collect();
                    errors.push(FieldError::new(
                        &name,
                        "unknown",
                        format!("not a parameter here; these are: {}", known.join(", ")),
                    ));
                }
            }
        }
        Ok(Self { values, errors })
    }

    fn text(&mut self, name: &'static str) -> Option<String> {
        self.values.remove(name)
    }

    /// A parameter parsed by `parse`, or an error naming it that says what was expected.
    fn typed<T>(
        &mut self,
        name: &'static str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.values.remove(name)?;
        let value = parse(&text);
        if value.is_none() {
            self.errors
                .push(FieldError::new(name, "invalid_type", expected.to_owned()));
        }
        value
    }

    fn integer(&mut self, name: &'static str) -> Option<i64> {
        self.typed(name, "a whole number", |text| text.parse().ok())
    }

    /// A finite decimal number: `NaN` and `inf` parse as `f64` but mean nothing here.
    fn number(&mut self, name: &'static str) -> Option<f64> {
        self.typed(name, "a decimal number", |text| {
            text.parse::<f64>().ok().filter(|n| n.is_finite())
        })
    }

    fn boolean(&mut self, name: &'static str) -> Option<bool> {
        self.typed(name, "true or false", |text| match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    fn time(&mut self, name: &'static str) -> Option<OffsetDateTime> {
        let text = self.values.remove(name)?;
        let time = OffsetDateTime::parse(&text, &Rfc3339).ok();
        if time.is_none() {
            self.errors.push(FieldError::new(
                name,
                "invalid_format",
                "an RFC 3339 date-time",
            ));
        }
        time
    }

    /// Every error found, or none.
    fn finish(self) -> Result<(), Error> {
        self.errors.into_result()
    }
}

/// Parses a history page's query string.
///
/// # Errors
///
/// [`Error::Validation`] naming each bad parameter.
pub fn history(query: Option<&str>) -> Result<HistoryQuery, Error> {
    let mut params =
        Parameters::parse(query, &["cursor", "limit", "type", "status", "from", "to"])?;
    let cursor = params.text("cursor");
    let limit = params.integer("limit");
    let kind = params.typed("type", "a transaction kind", TransactionKind::from_name);
    let status = params.typed(
        "status",
        "posted, pending, failed, voided or all",
        HistoryStatus::from_name,
    );
    let from = params.time("from");
    let to = params.time("to");
    params.finish()?;
    Ok(HistoryQuery {
        cursor,
        limit,
        kind,
        status: status.unwrap_or_default(),
        from,
        to,
    })
}

/// Parses `?at=<RFC 3339>`, which is required.
///
/// # Errors
///
/// [`Error::Validation`] naming `at`.
pub fn at(query: Option<&str>) -> Result<OffsetDateTime, Error> {
    let mut params = Parameters::parse(query, &["at"])?;
    let present = params.values.contains_key("at");
    let at = params.time("at");
    if !present {
        params
            .errors
            .push(FieldError::new("at", "required", "an RFC 3339 date-time"));
    }
    params.finish()?;
    at.ok_or_else(|| Error::internal("parsing at", "checked above"))
}

/// The parameters of `GET /api/v1/professionals`, by name.
pub const SEARCH_PARAMETERS: &[&str] = &[
    "q",
    "category",
    "wilaya",
    "commune",
    "min_rating",
    "verified",
    "open_now",
    "language",
    "lat",
    "lng",
    "radius_km",
    "sort",
    "page",
    "limit",
];

/// Parses a search's query string. Types are checked here; what the values mean (ranges, a
/// category that exists, `lat` with `lng`) is core's to check.
///
/// # Errors
///
/// [`Error::Validation`] naming each bad parameter.
pub fn search(query: Option<&str>) -> Result<SearchQuery, Error> {
    let mut params = Parameters::parse(query, SEARCH_PARAMETERS)?;
    // An HTML GET form sends every field, one left empty as `name=`: here that means absent,
    // for every parameter, as it always did for `q` and `commune`. Blank counts as empty, as it
    // does for those two. A name given twice or not known was refused above, empty or not.
    params.values.retain(|_, value| !value.trim().is_empty());
    let search = SearchQuery {
        q: params.text("q"),
        category: params.text("category"),
        wilaya: params.text("wilaya"),
        commune: params.text("commune"),
        min_rating: params.number("min_rating"),
        verified: params.boolean("verified"),
        open_now: params.boolean("open_now"),
        language: params.text("language"),
        lat: params.number("lat"),
        lng: params.number("lng"),
        radius_km: params.number("radius_km"),
        sort: params.typed(
            "sort",
            "relevance, distance, -rating or newest",
            SearchSort::from_name,
        ),
        page: params.integer("page"),
        limit: params.integer("limit"),
    };
    params.finish()?;
    Ok(search)
}

/// The parameters of `GET /api/v1/professionals/{id_or_slug}/reviews`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReviewListQuery {
    /// The order (newest first by default).
    pub sort: ReviewSort,
    /// The page, from 1.
    pub page: Option<i64>,
    /// The page size.
    pub limit: Option<i64>,
}

/// Parses a review list's query string.
///
/// # Errors
///
/// [`Error::Validation`] naming each bad parameter.
pub fn reviews(query: Option<&str>) -> Result<ReviewListQuery, Error> {
    let mut params = Parameters::parse(query, &["sort", "page", "limit"])?;
    let sort = params.typed("sort", "newest, highest or lowest", ReviewSort::from_name);
    let page = params.integer("page");
    let limit = params.integer("limit");
    params.finish()?;
    Ok(ReviewListQuery {
        sort: sort.unwrap_or_default(),
        page,
        limit,
    })
}

/// Parses `?limit=<n>` of the statements report; the range is core's to check.
///
/// # Errors
///
/// [`Error::Validation`] naming each bad parameter.
pub fn statements(query: Option<&str>) -> Result<Option<i64>, Error> {
    let mut params = Parameters::parse(query, &["limit"])?;
    let limit = params.integer("limit");
    params.finish()?;
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: &Error) -> Vec<&str> {
        err.field_errors()
            .unwrap()
            .iter()
            .map(|e| e.field.as_str())
            .collect()
    }

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
            ("kind=transfer", "kind"),
            ("limit=5&limit=6", "limit"),
        ];
        for (query, field) in cases {
            let err = history(Some(query)).unwrap_err();
            assert_eq!(fields(&err), [field], "{query}");
        }
    }

    #[test]
    fn the_moment_is_required_and_alone() {
        assert!(at(Some("at=2026-11-01T00:00:00Z")).is_ok());
        for query in [
            None,
            Some(""),
            Some("at=now"),
            Some("when=2026-11-01T00:00:00Z"),
        ] {
            let err = at(query).unwrap_err();
            assert!(!fields(&err).is_empty(), "{query:?}");
        }
        let err = at(Some("when=2026-11-01T00:00:00Z")).unwrap_err();
        assert_eq!(fields(&err), ["when", "at"]);
    }

    #[test]
    fn a_full_search_is_parsed() {
        let query = search(Some(
            "q=plombier%20bab&category=plombier&wilaya=16&commune=Bab+Ezzouar&min_rating=4.5\
             &verified=true&open_now=false&language=ar&lat=36.72&lng=3.18&radius_km=10\
             &sort=-rating&page=2&limit=50",
        ))
        .unwrap();
        assert_eq!(
            query,
            SearchQuery {
                q: Some("plombier bab".into()),
                category: Some("plombier".into()),
                wilaya: Some("16".into()),
                commune: Some("Bab Ezzouar".into()),
                min_rating: Some(4.5),
                verified: Some(true),
                open_now: Some(false),
                language: Some("ar".into()),
                lat: Some(36.72),
                lng: Some(3.18),
                radius_km: Some(10.0),
                sort: Some(SearchSort::Rating),
                page: Some(2),
                limit: Some(50),
            }
        );
        assert_eq!(search(None).unwrap(), SearchQuery::default());
    }

    #[test]
    fn search_parameters_of_the_wrong_type_are_named_all_at_once() {
        let cases = [
            ("lat=abc", vec!["lat"]),
            ("lng=NaN", vec!["lng"]),
            ("radius_km=inf", vec!["radius_km"]),
            ("min_rating=high", vec!["min_rating"]),
            ("verified=maybe", vec!["verified"]),
            ("open_now=1", vec!["open_now"]),
            ("sort=foo", vec!["sort"]),
            ("sort=rating", vec!["sort"]),
            ("page=two&limit=1.5", vec!["page", "limit"]),
            ("wilya=16", vec!["wilya"]),
            ("q=a&q=b", vec!["q"]),
        ];
        for (query, expected) in cases {
            let err = search(Some(query)).unwrap_err();
            assert_eq!(err.code(), "VALIDATION_FAILED", "{query}");
            assert_eq!(fields(&err), expected, "{query}");
        }
    }

    #[test]
    fn empty_search_parameters_are_absent() {
        let every_field_empty = SEARCH_PARAMETERS
            .iter()
            .map(|name| format!("{name}="))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            search(Some(&every_field_empty)).unwrap(),
            SearchQuery::default()
        );
        let query = search(Some(
            "q=plombier&category=&wilaya=+&sort=&page=&limit=&lat=36.7&lng=",
        ))
        .unwrap();
        assert_eq!(
            query,
            SearchQuery {
                q: Some("plombier".into()),
                lat: Some(36.7),
                ..SearchQuery::default()
            },
            "core then names lng, required with lat"
        );
        let cases = [
            ("q=&q=", vec!["q"]),
            ("category=&category=plombier", vec!["category"]),
            ("wilya=", vec!["wilya"]),
            ("page=&limit=x", vec!["limit"]),
        ];
        for (query, expected) in cases {
            let err = search(Some(query)).unwrap_err();
            assert_eq!(fields(&err), expected, "{query}");
        }
    }

    #[test]
    fn an_unknown_name_is_echoed_but_capped() {
        let name = "x".repeat(500);
        let err = search(Some(&format!("{name}=1"))).unwrap_err();
        assert_eq!(fields(&err), ["x".repeat(MAX_ECHOED_NAME_CHARS).as_str()]);
    }

    #[test]
    fn review_lists_default_to_newest_first() {
        assert_eq!(reviews(None).unwrap(), ReviewListQuery::default());
        let query = reviews(Some("sort=lowest&page=3&limit=10")).unwrap();
        assert_eq!(
            (query.sort, query.page, query.limit),
            (ReviewSort::Lowest, Some(3), Some(10))
        );
        for (query, field) in [
            ("sort=best", "sort"),
            ("page=x", "page"),
            ("order=newest", "order"),
        ] {
            let err = reviews(Some(query)).unwrap_err();
            assert_eq!(fields(&err), [field], "{query}");
        }
    }
}
