//! The directory's pure rules: validation of profiles, services and reviews, opening hours as
//! minutes of the week, and points on the Earth. No I/O.

use time::OffsetDateTime;

use crate::api::{OpeningHours, ProfessionalRequest, ReviewRequest, ServiceRequest, TimeRange};
use crate::error::{FieldError, FieldErrors};

/// Minutes in a week: opening hours are ranges of minutes since Monday 00:00.
pub(crate) const MINUTES_PER_WEEK: i32 = 7 * 24 * 60;

/// Ranges per day: a split day (morning, afternoon, evening) needs three; ten is generous.
const MAX_RANGES_PER_DAY: usize = 10;

/// Languages one profile may list.
const MAX_LANGUAGES: usize = 10;

/// Services one profile may offer: enough for a price list, small enough to show on one page.
pub(crate) const MAX_SERVICES: i64 = 50;

/// Longest review text and reply: a few paragraphs.
pub(crate) const MAX_REVIEW_CHARS: usize = 2000;

/// Longest biography, per language.
const MAX_BIO_CHARS: usize = 4000;

/// The Earth's mean radius, in km.
pub(crate) const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Africa/Algiers is UTC+01:00 all year: Algeria has not observed daylight saving time since
/// 1981 (IANA tz database), so a fixed offset is exact.
const ALGIERS_OFFSET_MINUTES: i64 = 60;

/// Checks a text that is stored and shown to others (names, biographies, addresses, services,
/// reviews and replies): as [`check_search_text`], without bidirectional controls
/// ([`is_bidi_control`]), and with at least `min` visible characters ([`is_invisible`]); `min` 0
/// means optional. The maximum counts every character: it is what the column's check counts.
pub(crate) fn check_len(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) {
    if value.chars().any(is_bidi_control) {
        errors.push(FieldError::new(
            field,
            "invalid_characters",
            "bidirectional embedding, override and isolate controls (U+202A to U+202E, U+2066 \
             to U+2069) are not allowed",
        ));
    } else if let Some(error) = characters_and_length(field, value, max) {
        errors.push(error);
    } else if value.chars().filter(|c| !is_invisible(*c)).count() < min {
        errors.push(FieldError::new(
            field,
            "too_short",
            format!("at least {min} visible characters"),
        ));
    }
}

/// Checks a search's text: no control characters, at most `max` characters. Bidirectional
/// controls and invisible characters may be in it: nobody else sees a query, and folding turns
/// them into spaces.
pub(crate) fn check_search_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if let Some(error) = characters_and_length(field, value, max) {
        errors.push(error);
    }
}

/// What is wrong with a text's characters or its length, if anything.
fn characters_and_length(field: &str, value: &str, max: usize) -> Option<FieldError> {
    // Line breaks and tabs belong in biographies and reviews; other control characters (NUL
    // among them, which PostgreSQL cannot store) belong nowhere.
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some(FieldError::new(
            field,
            "invalid_characters",
            "control characters are not allowed",
        ))
    } else if value.chars().count() > max {
        Some(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ))
    } else {
        None
    }
}

/// The bidirectional embedding, override and isolate controls: LRE, RLE, PDF, LRO, RLO
/// (U+202A to U+202E) and LRI, RLI, FSI, PDI (U+2066 to U+2069). They reorder what follows them
/// on screen, so a text holding one reads as one thing and is searched, sorted and slugged as
/// another (after an RLO, `rD ,kiraT` shows as `Tarik, Dr`), and one left open reorders the page
/// around it. Nothing typed in the directory needs them: the bidirectional algorithm orders
/// Arabic and Latin by itself, and the marks that nudge it (LRM, RLM, ALM) stay allowed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing on their own: white space; the format characters (Unicode
/// general category Cf) but the number signs, which are drawn (U+0600 to U+0605, U+06DD, U+070F,
/// U+0890, U+0891, U+08E2, U+110BD, U+110CD); and the letters and marks fonts draw blank
/// (the Hangul fillers, the braille blank, the combining grapheme joiner, the variation
/// selectors, the Khmer inherent vowels). They may stay in a text, where some belong (the
/// zero-width non-joiner and joiner, U+200C and U+200D, shape Arabic and Persian words:
/// `می‌خواهم`), but a minimum length counts without them, so a name cannot be made of them alone.
/// An explicit list rather than a Unicode-properties dependency: these code points are stable,
/// and the list says what it covers.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            // Cf.
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
                // Drawn blank.
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180D}'
                | '\u{180F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Parses `HH:MM` (`24:00` allowed) into minutes since midnight.
fn minutes(text: &str) -> Option<i32> {
    let (hours, mins) = text.split_once(':')?;
    // Two digits each: `parse` alone would take `+8` or `-0` and keep the string as sent.
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(mins) {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let mins: i32 = mins.parse().ok()?;
    match (hours, mins) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(hours * 60 + mins),
        _ => None,
    }
}

/// Validates opening hours and returns them as half-open ranges of minutes of the week, sorted and
/// merged, as a PostgreSQL `int4multirange` literal. A range closing before it opens runs past
/// midnight; Sunday night wraps into Monday morning.
pub(crate) fn open_minutes(hours: &OpeningHours) -> Result<String, FieldError> {
    let mut ranges: Vec<(i32, i32)> = Vec::new();
    for (day_index, (day, day_ranges)) in (0_i32..).zip(hours.days()) {
        if day_ranges.len() > MAX_RANGES_PER_DAY {
            return Err(FieldError::new(
                "opening_hours",
                "too_many",
                format!("at most {MAX_RANGES_PER_DAY} ranges on {day}"),
            ));
        }
        for TimeRange { open, close } in day_ranges {
            let (Some(open), Some(close)) = (minutes(open), minutes(close)) else {
                return Err(FieldError::new(
                    "opening_hours",
                    "invalid_format",
                    format!("{day}: times are HH:MM, 00:00 to 24:00"),
                ));
            };
            if open == close || open == 24 * 60 {
                return Err(FieldError::new(
                    "opening_hours",
                    "invalid_value",
                    format!("{day}: a range must open before it closes"),
                ));
            }
            let start = day_index * 24 * 60 + open;
            let mut end = day_index * 24 * 60 + close;
            if close < open {
                end += 24 * 60;
            }
            if end > MINUTES_PER_WEEK {
                ranges.push((start, MINUTES_PER_WEEK));
                ranges.push((0, end - MINUTES_PER_WEEK));
            } else {
                ranges.push((start, end));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(i32, i32)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let parts: Vec<String> = merged
        .iter()
        .map(|(start, end)| format!("[{start},{end})"))
        .collect();
    Ok(format!("{{{}}}", parts.join(",")))
}

/// The minute of the week (Monday 00:00 is 0) at `now`, in Africa/Algiers time.
pub(crate) fn minute_of_week(now: OffsetDateTime) -> i32 {
    let local =
        now.to_offset(time::UtcOffset::UTC) + time::Duration::minutes(ALGIERS_OFFSET_MINUTES);
    let day = i32::from(local.weekday().number_days_from_monday());
    day * 24 * 60 + i32::from(local.hour()) * 60 + i32::from(local.minute())
}

/// A point on the sphere, in km: what the `location` column stores.
pub(crate) fn to_xyz(latitude: f64, longitude: f64) -> [f64; 3] {
    let (lat, lng) = (latitude.to_radians(), longitude.to_radians());
    [
        EARTH_RADIUS_KM * lat.cos() * lng.cos(),
        EARTH_RADIUS_KM * lat.cos() * lng.sin(),
        EARTH_RADIUS_KM * lat.sin(),
    ]
}

/// The straight-line (chord) length of an arc of `km` along the surface.
pub(crate) fn chord_km(km: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (km / (2.0 * EARTH_RADIUS_KM)).sin()
}

/// Validates a coordinate pair: both or neither, each in range.
pub(crate) fn check_coordinates(
    errors: &mut FieldErrors,
    (lat_field, latitude): (&str, Option<f64>),
    (lng_field, longitude): (&str, Option<f64>),
) {
    match (latitude, longitude) {
        (Some(_), None) => errors.push(FieldError::new(
            lng_field,
            "required",
            format!("{lng_field} is required with {lat_field}"),
        )),
        (None, Some(_)) => errors.push(FieldError::new(
            lat_field,
            "required",
            format!("{lat_field} is required with {lng_field}"),
        )),
        _ => {}
    }
    if latitude.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        errors.push(FieldError::new(
            lat_field,
            "out_of_range",
            "-90 to 90 degrees",
        ));
    }
    if longitude.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        errors.push(FieldError::new(
            lng_field,
            "out_of_range",
            "-180 to 180 degrees",
        ));
    }
}

/// Validates a language code: two or three lower-case ASCII letters (ISO 639).
fn check_languages(errors: &mut FieldErrors, languages: &[String]) {
    if languages.len() > MAX_LANGUAGES {
        errors.push(FieldError::new(
            "languages",
            "too_many",
            format!("at most {MAX_LANGUAGES} languages"),
        ));
    }
    if languages
        .iter()
        .any(|code| !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()))
    {
        errors.push(FieldError::new(
            "languages",
            "invalid_format",
            "ISO 639 codes such as ar, fr, en, kab",
        ));
    }
}

/// Validates a website: `http://` or `https://`, then an address the `url` crate parses as a
/// browser would, whose host is a domain name with a dot ([`is_dotted_domain`]) or an IP address,
/// without credentials (`https://bank.dz@evil.example` shows one name and opens another) and
/// without white space, quotes, angle brackets, backticks or backslashes. A profile's website ends
/// up in an `href`, where a quote ends the attribute (`https://"onmouseover=...`) and a browser
/// reads a backslash as a slash; `%22` and `%5C` say the same when they are really meant.
pub(crate) fn check_website(errors: &mut FieldErrors, website: Option<&str>) {
    if let Some(website) = website {
        if !is_website(website) {
            errors.push(FieldError::new(
                "website",
                "invalid_format",
                "an http:// or https:// address with a host name, such as https://example.dz",
            ));
        }
        check_len(errors, "website", website, 0, 300);
    }
}

/// See [`check_website`].
fn is_website(text: &str) -> bool {
    // The prefix spelt out: the `url` crate also takes `https:example.dz` and
    // `https:///example.dz`, which a browser reads differently or not at all.
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    // Credentials, even empty ones (`https://@example.dz`, which the parser drops silently).
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || text.contains(|c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
        })
    {
        return false;
    }
    match url::Url::parse(text).as_ref().map(url::Url::host) {
        Ok(Some(url::Host::Domain(domain))) => is_dotted_domain(domain),
        Ok(Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) => true,
        Ok(None) | Err(_) => false,
    }
}

/// Whether `domain` is two labels or more, none of them empty, each of letters (any script: the
/// `url` crate gives a website's in Punycode, an email's is as typed), digits, hyphens and
/// underscores: `example.dz`, not `example`, `.dz`, `a.` or `a..dz`.
fn is_dotted_domain(domain: &str) -> bool {
    domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        })
}

/// Validates a contact email's shape (the account's email was checked at registration; this one
/// is only shown): something before the `@`, a domain of dotted labels after it
/// ([`is_dotted_domain`]), no white space or control characters.
pub(crate) fn check_contact_email(errors: &mut FieldErrors, email: Option<&str>) {
    if let Some(email) = email {
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && is_dotted_domain(domain)
                && !email.contains(|c: char| c.is_whitespace() || c.is_control())
        });
        if !valid || email.len() > 254 {
            errors.push(FieldError::new(
                "email",
                "invalid_format",
                "an email address",
            ));
        }
    }
}

/// Longest contact phone kept, spaces included (the column's check).
const MAX_PHONE_CHARS: usize = 32;

/// Validates a contact phone, as it is stored (trimmed): digits with one optional leading `+`,
/// spaces allowed, 9 to 15 digits, at most [`MAX_PHONE_CHARS`] characters.
pub(crate) fn check_phone(errors: &mut FieldErrors, phone: Option<&str>) {
    if let Some(phone) = phone.map(str::trim) {
        if phone.chars().count() > MAX_PHONE_CHARS {
            errors.push(FieldError::new(
                "phone",
                "too_long",
                format!("at most {MAX_PHONE_CHARS} characters"),
            ));
            return;
        }
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let shape = phone
            .strip_prefix('+')
            .unwrap_or(phone)
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ');
        if !shape || !(9..=15).contains(&digits) {
            errors.push(FieldError::new(
                "phone",
                "invalid_format",
                "a phone number such as 0551 23 45 67 or +213 551 23 45 67",
            ));
        }
    }
}

/// Validates everything about a new profile that needs no database.
pub(crate) fn check_profile(request: &ProfessionalRequest, errors: &mut FieldErrors) {
    check_len(errors, "display_name", request.display_name.trim(), 2, 120);
    if let Some(name) = &request.business_name {
        check_len(errors, "business_name", name.trim(), 1, 160);
    }
    check_len(
        errors,
        "bio_ar",
        request.bio_ar.as_deref().unwrap_or(""),
        0,
        MAX_BIO_CHARS,
    );
    check_len(
        errors,
        "bio_fr",
        request.bio_fr.as_deref().unwrap_or(""),
        0,
        MAX_BIO_CHARS,
    );
    check_len(errors, "commune", request.commune.trim(), 1, 100);
    check_len(
        errors,
        "address",
        request.address.as_deref().unwrap_or(""),
        0,
        300,
    );
    check_coordinates(
        errors,
        ("latitude", request.latitude),
        ("longitude", request.longitude),
    );
    check_phone(errors, request.phone.as_deref());
    check_contact_email(errors, request.email.as_deref());
    check_website(errors, request.website.as_deref());
    check_languages(errors, &request.languages);
    errors.check(open_minutes(&request.opening_hours));
    check_years(errors, request.years_experience);
}

/// Validates years of experience.
pub(crate) fn check_years(errors: &mut FieldErrors, years: Option<i16>) {
    if years.is_some_and(|years| !(0..=80).contains(&years)) {
        errors.push(FieldError::new(
            "years_experience",
            "out_of_range",
            "0 to 80",
        ));
    }
}

/// Validates a service's fields.
pub(crate) fn check_service(service: &ServiceRequest) -> Result<(), crate::Error> {
    let mut errors = FieldErrors::new();
    check_len(&mut errors, "name", service.name.trim(), 2, 120);
    check_len(
        &mut errors,
        "description",
        service.description.as_deref().unwrap_or(""),
        0,
        1000,
    );
    for (field, price) in [
        ("price_min_minor", service.price_min_minor),
        ("price_max_minor", service.price_max_minor),
    ] {
        if price.is_some_and(|price| !(0..=crate::wallet::MAX_AMOUNT_MINOR).contains(&price)) {
            errors.push(FieldError::new(field, "out_of_range", "0 or more centimes"));
        }
    }
    if let (Some(min), Some(max)) = (service.price_min_minor, service.price_max_minor)
        && max < min
    {
        errors.push(FieldError::new(
            "price_max_minor",
            "invalid_value",
            "not below price_min_minor",
        ));
    }
    if service
        .duration_minutes
        .is_some_and(|minutes| !(1..=MINUTES_PER_WEEK).contains(&minutes))
    {
        errors.push(FieldError::new(
            "duration_minutes",
            "out_of_range",
            "1 to 10080 minutes",
        ));
    }
    errors.into_result()
}

/// Validates a review: every rating 1..=5, the text capped.
pub(crate) fn check_review(review: &ReviewRequest) -> Result<(), crate::Error> {
    let mut errors = FieldErrors::new();
    let ratings = [
        ("overall_rating", Some(review.overall_rating)),
        ("quality_rating", review.quality_rating),
        ("professionalism_rating", review.professionalism_rating),
        ("value_rating", review.value_rating),
        ("punctuality_rating", review.punctuality_rating),
        ("communication_rating", review.communication_rating),
    ];
    for (field, rating) in ratings {
        if rating.is_some_and(|rating| !(1..=5).contains(&rating)) {
            errors.push(FieldError::new(field, "out_of_range", "1 to 5"));
        }
    }
    if let Some(text) = &review.text {
        check_len(&mut errors, "text", text, 0, MAX_REVIEW_CHARS);
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(open: &str, close: &str) -> TimeRange {
        TimeRange {
            open: open.to_owned(),
            close: close.to_owned(),
        }
    }

    #[test]
    fn opening_hours_become_merged_minutes_of_the_week() {
        let hours = OpeningHours {
            mon: vec![range("08:00", "12:00"), range("11:00", "13:00")],
            sat: vec![range("14:00", "24:00")],
            sun: vec![range("20:00", "02:00")],
            ..OpeningHours::default()
        };
        let sunday = 6 * 1440;
        assert_eq!(
            open_minutes(&hours).unwrap(),
            format!(
                "{{[0,120),[480,780),[{},{}),[{},{})}}",
                5 * 1440 + 840,
                6 * 1440,
                sunday + 1200,
                MINUTES_PER_WEEK
            )
        );
    }

    #[test]
    fn bad_opening_hours_are_refused() {
        for (open, close) in [
            ("8:00", "12:00"),
            ("25:00", "26:00"),
            ("10:00", "10:00"),
            ("24:00", "01:00"),
            ("ab:cd", "12:00"),
            ("+8:00", "12:00"),
            ("08:00", "12:+5"),
            ("-0:00", "12:00"),
        ] {
            let hours = OpeningHours {
                tue: vec![range(open, close)],
                ..OpeningHours::default()
            };
            assert!(open_minutes(&hours).is_err(), "{open}-{close}");
        }
    }

    /// The codes `check_len` gives `value`, in order.
    fn len_errors(value: &str, min: usize, max: usize) -> Vec<String> {
        let mut errors = FieldErrors::new();
        check_len(&mut errors, "name", value, min, max);
        errors
            .as_slice()
            .iter()
            .map(|error| error.code.clone())
            .collect()
    }

    #[test]
    fn a_minimum_length_counts_visible_characters_only() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("Ka", &[], "two letters"),
            ("\u{200B}\u{200B}", &["too_short"], "zero-width spaces"),
            (
                "K\u{FEFF}",
                &["too_short"],
                "a letter and a byte-order mark",
            ),
            (
                "\u{200D}\u{200C}",
                &["too_short"],
                "a joiner and a non-joiner",
            ),
            (
                "\u{200E}\u{200F}\u{061C}",
                &["too_short"],
                "direction marks",
            ),
            ("\u{3164}\u{3164}", &["too_short"], "Hangul fillers"),
            (
                "\u{2800} \u{00AD}",
                &["too_short"],
                "a braille blank, a space, a soft hyphen",
            ),
            (
                "K\u{E0041}\u{FE0F}",
                &["too_short"],
                "a tag and a variation selector",
            ),
            (
                "می\u{200C}خواهم",
                &[],
                "a zero-width non-joiner inside a Persian word",
            ),
            ("لا\u{200D}", &[], "a joiner after Arabic letters"),
            ("\u{200E}Karim", &[], "a direction mark before a name"),
            ("\u{0600}\u{0661}", &[], "the Arabic number sign is drawn"),
        ];
        for (value, expected, why) in cases {
            assert_eq!(len_errors(value, 2, 120), *expected, "{why}");
        }
        assert_eq!(
            len_errors(&format!("Karim{}", "\u{200B}".repeat(116)), 2, 120),
            ["too_long"],
            "the maximum counts every character, as the column does"
        );
    }

    #[test]
    fn bidirectional_controls_are_refused_in_shown_text_but_not_in_searches() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            let value = format!("Karim {c}Benali");
            assert_eq!(len_errors(&value, 0, 120), ["invalid_characters"], "{c:?}");
            let mut errors = FieldErrors::new();
            check_search_text(&mut errors, "q", &value, 200);
            assert!(errors.as_slice().is_empty(), "{c:?} in a query");
        }
        let mut errors = FieldErrors::new();
        check_search_text(&mut errors, "q", "a\u{0}b", 200);
        assert_eq!(errors.as_slice()[0].code, "invalid_characters");
    }

    /// The fields a profile with this website and email is refused for.
    fn address_errors(website: Option<&str>, email: Option<&str>) -> Vec<String> {
        let mut errors = FieldErrors::new();
        check_website(&mut errors, website);
        check_contact_email(&mut errors, email);
        errors
            .as_slice()
            .iter()
            .map(|error| error.field.clone())
            .collect()
    }

    #[test]
    fn websites_are_http_addresses_of_a_named_or_numbered_host() {
        for website in [
            "https://example.dz",
            "http://www.example.dz/tarifs?ville=alger#prix",
            "https://example.dz:8443/",
            "https://plomberie-benali.dz/l%27atelier",
            "https://سباك.dz",
            "http://192.168.1.10/",
            "https://[2001:db8::1]/",
        ] {
            assert!(address_errors(Some(website), None).is_empty(), "{website}");
        }
        let refused = [
            ("https://@", "empty credentials and no host"),
            ("https://@example.dz", "empty credentials"),
            ("https://user:secret@example.dz", "credentials"),
            (
                "https://bank.dz@evil.example",
                "a name that is not the host",
            ),
            ("https://?x", "no host"),
            ("https://#x", "no host"),
            ("https://", "nothing"),
            ("https:///example.dz", "an empty authority"),
            ("https:example.dz", "no slashes"),
            ("ftp://example.dz", "not http"),
            ("javascript:alert(1)", "not http"),
            (
                "https://\"onmouseover=alert(1)",
                "a quote ends an HTML attribute",
            ),
            (
                "https://example.dz/\"onmouseover=alert(1)",
                "a quote in the path",
            ),
            ("https://example.dz/'x", "a single quote"),
            ("https://example.dz/<script>", "angle brackets"),
            (
                "https://example.dz\\@evil.example",
                "a backslash, read as a slash",
            ),
            ("https://exa mple.dz", "white space"),
            ("https://example", "a host without a dot"),
            ("https://localhost/", "a host without a dot"),
            ("https://.dz", "an empty label"),
            ("https://example.dz.", "an empty last label"),
            ("https://example..dz", "an empty label inside"),
            ("https://example.dz:99999", "a port out of range"),
            ("https://999.1.1.1", "not an IP address"),
        ];
        for (website, why) in refused {
            assert_eq!(address_errors(Some(website), None), ["website"], "{why}");
        }
    }

    #[test]
    fn contact_emails_have_a_dotted_domain() {
        for email in [
            "karim@example.dz",
            "k.benali+pro@mail.example.dz",
            "كريم@مثال.dz",
        ] {
            assert!(address_errors(None, Some(email)).is_empty(), "{email}");
        }
        let refused = [
            ("a@.", "no label on either side of the dot"),
            ("a@b.", "no label after the dot"),
            ("a@.dz", "no label before the dot"),
            ("a@b..dz", "an empty label inside"),
            ("a@example", "no dot"),
            ("@example.dz", "nothing before the @"),
            ("a@b@example.dz", "two @"),
            ("a@exa\"mple.dz", "a quote in the domain"),
            ("a b@example.dz", "white space"),
        ];
        for (email, why) in refused {
            assert_eq!(address_errors(None, Some(email)), ["email"], "{why}");
        }
    }

    #[test]
    fn the_minute_of_the_week_is_algiers_time() {
        // Monday 2026-11-23 23:30 UTC is Tuesday 00:30 in Algiers.
        let now = time::macros::datetime!(2026-11-23 23:30 UTC);
        assert_eq!(minute_of_week(now), 1440 + 30);
        let sunday_night = time::macros::datetime!(2026-11-29 22:59 UTC);
        assert_eq!(minute_of_week(sunday_night), MINUTES_PER_WEEK - 1);
    }

    #[test]
    fn distances_on_the_sphere() {
        // Algiers to Oran is about 350 km along the surface.
        let algiers = to_xyz(36.7538, 3.0588);
        let oran = to_xyz(35.6971, -0.6308);
        let chord = algiers
            .iter()
            .zip(oran)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let arc = 2.0 * EARTH_RADIUS_KM * (chord / (2.0 * EARTH_RADIUS_KM)).asin();
        assert!((345.0..360.0).contains(&arc), "{arc}");
        assert!((chord_km(arc) - chord).abs() < 1e-6);
    }
}
