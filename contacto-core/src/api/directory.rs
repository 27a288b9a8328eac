//! The directory on the wire: wilayas, categories, professionals' profiles and services, reviews
//! and search. Prices are integer minor units (centimes), like every amount.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use super::UserId;

super::id_type! {
    /// A professional's profile id.
    ProfessionalId
}

super::id_type! {
    /// A service's id.
    ServiceId
}

super::id_type! {
    /// A review's id.
    ReviewId
}

/// For optional fields of an update: absent means "unchanged", `null` means "clear".
fn some<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An update's field that may be left out (unchanged) but not sent as `null`, which would
/// otherwise read as "unchanged" and keep the old value while the caller meant to clear it: a
/// 400 naming the field instead (send `""` to empty a text).
fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One of the 58 wilayas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wilaya {
    /// The official two-digit code (`"16"` is Alger).
    #[cfg_attr(feature = "openapi", schema(example = "16"))]
    pub code: String,
    /// The French name.
    pub name_fr: String,
    /// The Arabic name.
    pub name_ar: String,
}

/// A category and its subcategories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    /// The stable Latin slug used in filters (`plombier`).
    pub slug: String,
    /// The French name.
    pub name_fr: String,
    /// The Arabic name.
    pub name_ar: String,
    /// The parent's slug; absent for a root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Subcategories, in display order.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<Category>,
}

/// A category as a profile shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryRef {
    /// The slug.
    pub slug: String,
    /// The French name.
    pub name_fr: String,
    /// The Arabic name.
    pub name_ar: String,
}

/// One opening range of a day, `HH:MM` in Africa/Algiers time. A `close` earlier than `open` runs
/// past midnight into the next day; `24:00` closes at midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// Opening time.
    #[cfg_attr(feature = "openapi", schema(example = "08:00"))]
    pub open: String,
    /// Closing time.
    #[cfg_attr(feature = "openapi", schema(example = "12:00"))]
    pub close: String,
}

/// Weekly opening hours: several ranges per day; a missing day is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// Monday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<TimeRange>,
    /// Tuesday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<TimeRange>,
    /// Wednesday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<TimeRange>,
    /// Thursday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<TimeRange>,
    /// Friday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<TimeRange>,
    /// Saturday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<TimeRange>,
    /// Sunday.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<TimeRange>,
}

impl OpeningHours {
    /// The days from Monday, with their wire names.
    pub fn days(&self) -> [(&'static str, &[TimeRange]); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }
}

/// `POST /api/v1/professionals`: the caller's profile (one per user with the `professional` role).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfessionalRequest {
    /// The name people know: at most 120 characters, at least 2 of them visible (zero-width and
    /// other invisible characters do not count). Like every text of a profile, a service or a
    /// review, it may not hold bidirectional embedding, override or isolate controls (U+202A to
    /// U+202E, U+2066 to U+2069).
    #[cfg_attr(feature = "openapi", schema(example = "Karim Benali"))]
    pub display_name: String,
    /// The registered business name, if any.
    #[serde(default)]
    pub business_name: Option<String>,
    /// Biography in Arabic.
    #[serde(default)]
    pub bio_ar: Option<String>,
    /// Biography in French.
    #[serde(default)]
    pub bio_fr: Option<String>,
    /// A category slug (see `GET /api/v1/categories`).
    #[cfg_attr(feature = "openapi", schema(example = "plombier"))]
    pub category: String,
    /// A wilaya's official code.
    #[cfg_attr(feature = "openapi", schema(example = "16"))]
    pub wilaya: String,
    /// The commune.
    #[cfg_attr(feature = "openapi", schema(example = "Bab Ezzouar"))]
    pub commune: String,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Latitude in degrees (-90..=90); given together with `longitude`.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude in degrees (-180..=180).
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Contact phone (Algerian or international format).
    #[serde(default)]
    pub phone: Option<String>,
    /// Contact email, with a domain of dotted labels after the `@` (`contact@example.dz`).
    #[serde(default)]
    pub email: Option<String>,
    /// Website: `http://` or `https://`, then a domain name with a dot or an IP address; no
    /// credentials (`user@`), white space, quotes, angle brackets, backticks or backslashes.
    /// Kept as typed.
    #[serde(default)]
    pub website: Option<String>,
    /// Languages spoken, ISO 639-1 codes (`ar`, `fr`, `en`, `kab` for Kabyle is accepted too).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Weekly opening hours.
    #[serde(default)]
    pub opening_hours: OpeningHours,
    /// Years of experience (0..=80).
    #[serde(default)]
    pub years_experience: Option<i16>,
}

/// `PATCH /api/v1/professionals/me`: absent fields are unchanged; `null` clears the fields
/// documented "or `null`" and is a 400 for the others (`""` empties a biography or the address).
/// A new display name, business name or category clears `verified`; sending the current value
/// again does not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfessionalUpdate {
    /// New display name (the slug stays, so links keep working).
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub display_name: Option<String>,
    /// New business name, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub business_name: Option<Option<String>>,
    /// New Arabic biography.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub bio_ar: Option<String>,
    /// New French biography.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub bio_fr: Option<String>,
    /// New category slug.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub category: Option<String>,
    /// New wilaya code.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub wilaya: Option<String>,
    /// New commune.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub commune: Option<String>,
    /// New address.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub address: Option<String>,
    /// New latitude, or `null` (with `longitude`) to remove the coordinates.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub latitude: Option<Option<f64>>,
    /// New longitude, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub longitude: Option<Option<f64>>,
    /// New phone, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
    /// New email, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    /// New website, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub website: Option<Option<String>>,
    /// New languages.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub languages: Option<Vec<String>>,
    /// New opening hours (replaces the whole week).
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub opening_hours: Option<OpeningHours>,
    /// New years of experience, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i16>))]
    pub years_experience: Option<Option<i16>>,
}

/// `PATCH /api/v1/admin/professionals/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfessionalAdminUpdate {
    /// Whether the platform checked the professional's identity and credentials.
    pub verified: bool,
}

/// A profile's rating summary, exact at every moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingSummary {
    /// Number of reviews.
    pub count: i64,
    /// Mean overall rating rounded to two decimals; `null` without reviews.
    pub average: Option<f64>,
    /// Reviews per overall rating, `"1"` to `"5"`.
    pub distribution: BTreeMap<String, i64>,
}

/// How a service is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// Per hour of work.
    Hour,
    /// Per visit or consultation.
    Visit,
    /// Per project, quoted as a whole.
    Project,
    /// Per item sold or made.
    Item,
}

impl PriceUnit {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceUnit::Hour => "hour",
            PriceUnit::Visit => "visit",
            PriceUnit::Project => "project",
            PriceUnit::Item => "item",
        }
    }

    /// The unit with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Hour, Self::Visit, Self::Project, Self::Item]
            .into_iter()
            .find(|unit| unit.as_str() == name)
    }
}

/// `POST /api/v1/professionals/me/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// What is offered (2..=120 characters), searchable.
    #[cfg_attr(feature = "openapi", schema(example = "Débouchage de canalisations"))]
    pub name: String,
    /// Details.
    #[serde(default)]
    pub description: Option<String>,
    /// Lowest price, in centimes.
    #[serde(default)]
    pub price_min_minor: Option<i64>,
    /// Highest price, in centimes; not below `price_min_minor`.
    #[serde(default)]
    pub price_max_minor: Option<i64>,
    /// What the price is for.
    pub price_unit: PriceUnit,
    /// Typical duration in minutes (1..=10080).
    #[serde(default)]
    pub duration_minutes: Option<i32>,
}

/// `PATCH /api/v1/professionals/me/services/{id}`: absent fields are unchanged; `null` clears the
/// fields documented "or `null`" and is a 400 for the others (`""` empties the description).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceUpdate {
    /// New name.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    /// New description.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// New lowest price, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub price_min_minor: Option<Option<i64>>,
    /// New highest price, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub price_max_minor: Option<Option<i64>>,
    /// New unit.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub price_unit: Option<PriceUnit>,
    /// New duration, or `null`.
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub duration_minutes: Option<Option<i32>>,
}

/// A service offered by a professional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    /// The service's id.
    pub id: ServiceId,
    /// What is offered.
    pub name: String,
    /// Details (may be empty).
    pub description: String,
    /// Lowest price, in centimes.
    pub price_min_minor: Option<i64>,
    /// Highest price, in centimes.
    pub price_max_minor: Option<i64>,
    /// What the price is for.
    pub price_unit: PriceUnit,
    /// Typical duration in minutes.
    pub duration_minutes: Option<i32>,
}

/// A professional's public profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Professional {
    /// The profile's id.
    pub id: ProfessionalId,
    /// Its unique Latin slug, usable in place of the id in URLs.
    #[cfg_attr(feature = "openapi", schema(example = "karim-benali"))]
    pub slug: String,
    /// The user who owns it.
    pub user_id: UserId,
    /// The name people know.
    pub display_name: String,
    /// The registered business name.
    pub business_name: Option<String>,
    /// Biography in Arabic (may be empty).
    pub bio_ar: String,
    /// Biography in French (may be empty).
    pub bio_fr: String,
    /// The category.
    pub category: CategoryRef,
    /// The wilaya.
    pub wilaya: Wilaya,
    /// The commune.
    pub commune: String,
    /// Street address (may be empty).
    pub address: String,
    /// Latitude in degrees.
    pub latitude: Option<f64>,
    /// Longitude in degrees.
    pub longitude: Option<f64>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Languages spoken.
    pub languages: Vec<String>,
    /// Weekly opening hours, Africa/Algiers time.
    pub opening_hours: OpeningHours,
    /// Whether it is open at the time of the response.
    pub open_now: bool,
    /// Years of experience.
    pub years_experience: Option<i16>,
    /// Whether the platform verified the professional; a change of display name, business name
    /// or category clears it until an administrator verifies again.
    pub verified: bool,
    /// Review count, average and distribution.
    pub rating: RatingSummary,
    /// Services offered, oldest first.
    pub services: Vec<Service>,
    /// When the profile was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `POST /api/v1/professionals/{id}/reviews` and `PUT /api/v1/reviews/{id}` (an edit replaces the
/// whole review). Ratings are 1..=5; all but `overall_rating` are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// The overall rating, which the profile's summary counts.
    pub overall_rating: i16,
    /// Quality of the work.
    #[serde(default)]
    pub quality_rating: Option<i16>,
    /// Professionalism.
    #[serde(default)]
    pub professionalism_rating: Option<i16>,
    /// Value for money.
    #[serde(default)]
    pub value_rating: Option<i16>,
    /// Punctuality.
    #[serde(default)]
    pub punctuality_rating: Option<i16>,
    /// Communication.
    #[serde(default)]
    pub communication_rating: Option<i16>,
    /// What happened, at most 2,000 characters.
    #[serde(default)]
    pub text: Option<String>,
    /// Whether the author would recommend the professional.
    pub would_recommend: bool,
}

/// `POST /api/v1/reviews/{id}/reply`: the professional's one answer to a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The answer, 1..=2,000 characters.
    pub text: String,
}

/// The professional's answer to a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewReply {
    /// The answer.
    pub text: String,
    /// When it was given.
    #[serde(with = "time::serde::rfc3339")]
    pub replied_at: OffsetDateTime,
}

/// A review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    /// The review's id.
    pub id: ReviewId,
    /// The professional reviewed.
    pub professional_id: ProfessionalId,
    /// The author.
    pub author_id: UserId,
    /// The author's name as registered.
    pub author_name: String,
    /// The overall rating.
    pub overall_rating: i16,
    /// Quality of the work.
    pub quality_rating: Option<i16>,
    /// Professionalism.
    pub professionalism_rating: Option<i16>,
    /// Value for money.
    pub value_rating: Option<i16>,
    /// Punctuality.
    pub punctuality_rating: Option<i16>,
    /// Communication.
    pub communication_rating: Option<i16>,
    /// What happened.
    pub text: Option<String>,
    /// Whether the author would recommend the professional.
    pub would_recommend: bool,
    /// The professional's answer.
    pub reply: Option<ReviewReply>,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last edited.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The order of a review list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Highest overall rating first, newest first among equals.
    Highest,
    /// Lowest overall rating first, newest first among equals.
    Lowest,
}

impl ReviewSort {
    /// The sort with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "newest" => Some(Self::Newest),
            "highest" => Some(Self::Highest),
            "lowest" => Some(Self::Lowest),
            _ => None,
        }
    }
}

/// A page of reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewPage {
    /// The reviews of this page.
    pub items: Vec<Review>,
    /// All reviews of the profile.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// The page size.
    pub limit: i64,
}

/// The order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SearchSort {
    /// Text match combined with rating and verification (the default when `q` is given); without
    /// `q`, the same as `-rating`.
    #[serde(rename = "relevance")]
    Relevance,
    /// Nearest first; needs `lat` and `lng`.
    #[serde(rename = "distance")]
    Distance,
    /// Best rated first, then most reviewed.
    #[serde(rename = "-rating")]
    Rating,
    /// Newest profiles first (the default without `q`).
    #[serde(rename = "newest")]
    Newest,
}

impl SearchSort {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchSort::Relevance => "relevance",
            SearchSort::Distance => "distance",
            SearchSort::Rating => "-rating",
            SearchSort::Newest => "newest",
        }
    }

    /// The sort with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Relevance, Self::Distance, Self::Rating, Self::Newest]
            .into_iter()
            .find(|sort| sort.as_str() == name)
    }
}

/// The parameters of `GET /api/v1/professionals`; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Free text, in Arabic, French or Latin transliteration. Blank is no text; text with no
    /// word of two letters or more (`a`, `***`) matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// A category slug; its subcategories are included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A wilaya code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wilaya: Option<String>,
    /// A commune, matched accent- and case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    /// Lowest average rating, 1..=5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rating: Option<f64>,
    /// Only verified (or only unverified) professionals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Only those open at the time of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_now: Option<bool>,
    /// A language spoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Latitude of the search centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude of the search centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    /// Radius around the centre, in km (default 25 when a centre is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_km: Option<f64>,
    /// The order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SearchSort>,
    /// The page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    /// The page size, 1..=100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// One search result: the profile's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// The profile's id.
    pub id: ProfessionalId,
    /// Its slug.
    pub slug: String,
    /// The name people know.
    pub display_name: String,
    /// The business name.
    pub business_name: Option<String>,
    /// The category.
    pub category: CategoryRef,
    /// The wilaya's code.
    pub wilaya: String,
    /// The commune.
    pub commune: String,
    /// Latitude in degrees.
    pub latitude: Option<f64>,
    /// Longitude in degrees.
    pub longitude: Option<f64>,
    /// Distance from the search centre in km, when one was given.
    pub distance_km: Option<f64>,
    /// Languages spoken.
    pub languages: Vec<String>,
    /// Whether it is verified.
    pub verified: bool,
    /// Whether it is open now.
    pub open_now: bool,
    /// Review count, average and distribution.
    pub rating: RatingSummary,
}

/// Counts of the matching professionals, for filters with numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchFacets {
    /// By category slug; a root category counts its subcategories' professionals too.
    pub category: BTreeMap<String, i64>,
    /// By wilaya code.
    pub wilaya: BTreeMap<String, i64>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchPage {
    /// The results of this page.
    pub items: Vec<SearchHit>,
    /// How many professionals match in all.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// The page size.
    pub limit: i64,
    /// Counts by category and by wilaya over all matches.
    pub facets: SearchFacets,
}
