//! The directory's SQL: the only place it appears.

use time::OffsetDateTime;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::search::{Param, Statement};
use crate::api::{
    OpeningHours, PriceUnit, ProfessionalId, RatingSummary, Review, ReviewId, ReviewReply,
    ReviewRequest, ReviewSort, Service, ServiceId, ServiceRequest, UserId, Wilaya,
};
use crate::db::error::PgResultExt;
use crate::error::{Error, Result};

fn decode<T>(result: std::result::Result<T, tokio_postgres::Error>) -> Result<T> {
    result.map_err(|e| Error::internal("decoding a directory row", e))
}

/// A category as stored.
#[derive(Debug, Clone)]
pub(crate) struct CategoryRow {
    pub id: i16,
    pub slug: String,
    pub parent_id: Option<i16>,
    pub name_fr: String,
    pub name_ar: String,
    pub keywords: String,
}

/// The reference data: seeded by migrations, never changed at run time.
pub(crate) async fn reference(
    client: &impl GenericClient,
) -> Result<(Vec<Wilaya>, Vec<CategoryRow>)> {
    let wilayas = client
        .query_typed(
            "SELECT code, name_fr, name_ar FROM wilayas ORDER BY code",
            &[],
        )
        .await
        .db("reading wilayas")?
        .iter()
        .map(|row| {
            Ok(Wilaya {
                code: decode(row.try_get(0))?,
                name_fr: decode(row.try_get(1))?,
                name_ar: decode(row.try_get(2))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let categories = client
        .query_typed(
            "SELECT id, slug, parent_id, name_fr, name_ar, keywords FROM categories \
             ORDER BY parent_id NULLS FIRST, position, id",
            &[],
        )
        .await
        .db("reading categories")?
        .iter()
        .map(|row| {
            Ok(CategoryRow {
                id: decode(row.try_get(0))?,
                slug: decode(row.try_get(1))?,
                parent_id: decode(row.try_get(2))?,
                name_fr: decode(row.try_get(3))?,
                name_ar: decode(row.try_get(4))?,
                keywords: decode(row.try_get(5))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((wilayas, categories))
}

/// A profile's editable fields, validated, with what is derived from them.
#[derive(Debug, Clone)]
pub(crate) struct ProfileFields {
    pub display_name: String,
    pub business_name: Option<String>,
    pub bio_ar: String,
    pub bio_fr: String,
    pub category_id: i16,
    pub wilaya_code: String,
    pub commune: String,
    pub commune_key: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location: Option<Vec<f64>>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub languages: Vec<String>,
    pub opening_hours: serde_json::Value,
    pub open_minutes: String,
    pub years_experience: Option<i16>,
    pub search: SearchText,
}

/// The folded texts a profile is found by.
#[derive(Debug, Clone, Default)]
pub(crate) struct SearchText {
    /// The distinct words of A and B long enough for typo correction: the dictionary's share.
    pub words: Vec<String>,
    /// Names (weight A).
    pub a: String,
    /// Categories, services, places (weight B).
    pub b: String,
    /// Biographies (weight C).
    pub c: String,
    /// Consonant skeletons (weight D).
    pub d: String,
}

/// A profile as stored.
#[derive(Debug, Clone)]
pub(crate) struct ProfileRow {
    pub id: ProfessionalId,
    pub user_id: UserId,
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    pub bio_ar: String,
    pub bio_fr: String,
    pub category_id: i16,
    pub wilaya_code: String,
    pub commune: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub languages: Vec<String>,
    pub opening_hours: OpeningHours,
    pub open_now: bool,
    pub years_experience: Option<i16>,
    pub verified: bool,
    pub rating: RatingSummary,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const PROFILE_COLUMNS: &str = "id, user_id, slug, display_name, business_name, bio_ar, bio_fr, \
     category_id, wilaya_code, commune, address, latitude, longitude, phone, email, website, \
     languages, opening_hours, years_experience, verified, rating_count, \
     rating_average::float8 AS rating_average, rating_distribution, created_at, updated_at";

/// The rating summary of a row with `rating_count`, `rating_average`, `rating_distribution`.
pub(crate) fn rating(row: &Row) -> Result<RatingSummary> {
    let count: i32 = decode(row.try_get("rating_count"))?;
    let distribution: Vec<i32> = decode(row.try_get("rating_distribution"))?;
    Ok(RatingSummary {
        count: i64::from(count),
        average: decode(row.try_get("rating_average"))?,
        distribution: (1..=5)
            .zip(distribution)
            .map(|(stars, n)| (stars.to_string(), i64::from(n)))
            .collect(),
    })
}

fn profile_from_row(row: &Row) -> Result<ProfileRow> {
    let hours: serde_json::Value = decode(row.try_get("opening_hours"))?;
    Ok(ProfileRow {
        id: ProfessionalId(decode(row.try_get("id"))?),
        user_id: UserId(decode(row.try_get("user_id"))?),
        slug: decode(row.try_get("slug"))?,
        display_name: decode(row.try_get("display_name"))?,
        business_name: decode(row.try_get("business_name"))?,
        bio_ar: decode(row.try_get("bio_ar"))?,
        bio_fr: decode(row.try_get("bio_fr"))?,
        category_id: decode(row.try_get("category_id"))?,
        wilaya_code: decode(row.try_get("wilaya_code"))?,
        commune: decode(row.try_get("commune"))?,
        address: decode(row.try_get("address"))?,
        latitude: decode(row.try_get("latitude"))?,
        longitude: decode(row.try_get("longitude"))?,
        phone: decode(row.try_get("phone"))?,
        email: decode(row.try_get("email"))?,
        website: decode(row.try_get("website"))?,
        languages: decode(row.try_get("languages"))?,
        opening_hours: serde_json::from_value(hours)
            .map_err(|e| Error::internal("decoding opening hours", e))?,
        open_now: decode(row.try_get("open_now"))?,
        years_experience: decode(row.try_get("years_experience"))?,
        verified: decode(row.try_get("verified"))?,
        rating: rating(row)?,
        created_at: decode(row.try_get("created_at"))?,
        updated_at: decode(row.try_get("updated_at"))?,
    })
}

/// How a profile is looked up.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProfileKey<'a> {
    /// By id.
    Id(ProfessionalId),
    /// By slug.
    Slug(&'a str),
    /// By owner.
    Owner(UserId),
}

/// Reads a profile; `lock` takes its row lock for the rest of the transaction.
pub(crate) async fn profile(
    client: &impl GenericClient,
    key: ProfileKey<'_>,
    now_minute: i32,
    lock: bool,
) -> Result<Option<ProfileRow>> {
    let (condition, uuid, text) = match key {
        ProfileKey::Id(id) => ("id = $2", Some(id.0), None),
        ProfileKey::Slug(slug) => ("slug = $3", None, Some(slug)),
        ProfileKey::Owner(user) => ("user_id = $2", Some(user.0), None),
    };
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = client
        .query_typed_opt(
            &format!(
                "SELECT {PROFILE_COLUMNS}, open_minutes @> $1::integer AS open_now \
                 FROM professionals WHERE {condition}{lock}"
            ),
            &[
                (&now_minute, Type::INT4),
                (&uuid, Type::UUID),
                (&text, Type::TEXT),
            ],
        )
        .await
        .db("reading a professional profile")?;
    row.as_ref().map(profile_from_row).transpose()
}

/// Slugs taken by `base` or `base-<n>`.
pub(crate) async fn slugs_like(client: &impl GenericClient, base: &str) -> Result<Vec<String>> {
    let pattern = format!("{base}-%");
    client
        .query_typed(
            "SELECT slug FROM professionals WHERE slug = $1 OR slug LIKE $2",
            &[(&base, Type::TEXT), (&pattern, Type::TEXT)],
        )
        .await
        .db("reading slugs")?
        .iter()
        .map(|row| decode(row.try_get(0)))
        .collect()
}

/// Adds a profile's words (`$22`) to the search dictionary, in the statement that writes it.
/// New words only, and in sorted order: concurrent writers then take their locks on new words in
/// the same order and cannot deadlock.
const WORDS: &str = "WITH words AS (INSERT INTO search_words (word) \
     SELECT new.word FROM unnest($22::text[]) AS new (word) \
      WHERE NOT EXISTS (SELECT 1 FROM search_words known WHERE known.word = new.word) \
      ORDER BY new.word ON CONFLICT DO NOTHING)";

/// How search vectors are built now (migration V10 explains the formats).
pub(crate) const SEARCH_FORMAT: i16 = 2;

/// The weighted vector of a profile's search texts, given as SQL expressions.
fn search_vector([a, b, c, d]: [&str; 4]) -> String {
    format!(
        "setweight(to_tsvector('simple', {a}), 'A') \
         || setweight(to_tsvector('simple', {b}), 'B') \
         || setweight(to_tsvector('simple', {c}), 'C') \
         || setweight(to_tsvector('simple', {d}), 'D')"
    )
}

/// Up to `limit` profiles whose search vector has an older format, locked; others rebuilding at
/// the same time skip them.
pub(crate) async fn older_search_format(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<ProfessionalId>> {
    let rows = client
        .query_typed(
            &format!(
                "SELECT id FROM professionals WHERE search_format < {SEARCH_FORMAT} \
                 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
            ),
            &[(&limit, Type::INT8)],
        )
        .await
        .db("finding search vectors to rebuild")?;
    Ok(rows.iter().map(|row| ProfessionalId(row.get(0))).collect())
}

/// Marks `ids` as of the current format, keeping their vectors.
pub(crate) async fn mark_search_format(
    client: &impl GenericClient,
    ids: &[ProfessionalId],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    client
        .query_typed(
            &format!("UPDATE professionals SET search_format = {SEARCH_FORMAT} WHERE id = ANY($1)"),
            &[(&ids, Type::UUID_ARRAY)],
        )
        .await
        .db("marking search vectors")?;
    Ok(())
}

/// Replaces the search vectors of `ids` with ones built from `texts`, in the current format.
pub(crate) async fn rewrite_search_vectors(
    client: &impl GenericClient,
    ids: &[ProfessionalId],
    texts: &[SearchText],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let column = |part: fn(&SearchText) -> &String| -> Vec<&str> {
        texts.iter().map(|text| part(text).as_str()).collect()
    };
    let (a, b, c, d) = (
        column(|t| &t.a),
        column(|t| &t.b),
        column(|t| &t.c),
        column(|t| &t.d),
    );
    let vector = search_vector(["u.a", "u.b", "u.c", "u.d"]);
    client
        .query_typed(
            &format!(
                "UPDATE professionals p SET search_vector = {vector}, \
                        search_format = {SEARCH_FORMAT} \
                   FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                        AS u (id, a, b, c, d) \
                  WHERE p.id = u.id"
            ),
            &[
                (&ids, Type::UUID_ARRAY),
                (&a, Type::TEXT_ARRAY),
                (&b, Type::TEXT_ARRAY),
                (&c, Type::TEXT_ARRAY),
                (&d, Type::TEXT_ARRAY),
            ],
        )
        .await
        .db("rebuilding search vectors")?;
    Ok(())
}

/// Writes a profile's fields: inserts it when `slug` is given, updates it otherwise. An update
/// that changes the display name, the business name or the category clears `verified`: the badge
/// vouches for who the professional is and what trade they practise, not for whatever the profile
/// is changed to afterwards. The comparison is with the stored row, in the same statement, so no
/// concurrent change slips between reading and clearing.
pub(crate) async fn write_profile(
    client: &impl GenericClient,
    id: ProfessionalId,
    owner_and_slug: Option<(UserId, &str)>,
    fields: &ProfileFields,
) -> Result<()> {
    let f = fields;
    let owner = owner_and_slug.map(|(owner, _)| owner.0);
    let slug = owner_and_slug.map(|(_, slug)| slug);
    let values: [(&(dyn ToSql + Sync), Type); 26] = [
        (&id.0, Type::UUID),
        (&owner, Type::UUID),
        (&f.display_name, Type::TEXT),
        (&f.business_name, Type::TEXT),
        (&f.bio_ar, Type::TEXT),
        (&f.bio_fr, Type::TEXT),
        (&f.category_id, Type::INT2),
        (&f.wilaya_code, Type::TEXT),
        (&f.commune, Type::TEXT),
        (&f.commune_key, Type::TEXT),
        (&f.address, Type::TEXT),
        (&f.latitude, Type::FLOAT8),
        (&f.longitude, Type::FLOAT8),
        (&f.location, Type::FLOAT8_ARRAY),
        (&f.phone, Type::TEXT),
        (&f.email, Type::TEXT),
        (&f.website, Type::TEXT),
        (&f.languages, Type::TEXT_ARRAY),
        (&f.opening_hours, Type::JSONB),
        (&f.open_minutes, Type::TEXT),
        (&f.years_experience, Type::INT2),
        (&f.search.words, Type::TEXT_ARRAY),
        (&f.search.a, Type::TEXT),
        (&f.search.b, Type::TEXT),
        (&f.search.c, Type::TEXT),
        (&f.search.d, Type::TEXT),
    ];
    let search_vector = search_vector(["$23", "$24", "$25", "$26"]);
    let location = "CASE WHEN $14::float8[] IS NULL THEN NULL ELSE cube($14::float8[]) END";
    if let Some(slug) = slug {
        let mut params = values.to_vec();
        params.push((&slug, Type::TEXT));
        client
            .query_typed(
                &format!(
                    "{WORDS} INSERT INTO professionals (id, user_id, slug, display_name, \
                     business_name, bio_ar, bio_fr, category_id, wilaya_code, commune, \
                     commune_key, address, latitude, longitude, location, phone, email, website, \
                     languages, opening_hours, open_minutes, years_experience, search_vector, \
                     search_format) \
                     VALUES ($1, $2, $27, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                     {location}, $15, $16, $17, $18, $19, $20::int4multirange, $21, \
                     {search_vector}, {SEARCH_FORMAT})"
                ),
                &params,
            )
            .await
            .db("creating a professional profile")?;
    } else {
        client
            .query_typed(
                &format!(
                    "{WORDS} UPDATE professionals SET display_name = $3, business_name = $4, \
                     bio_ar = $5, bio_fr = $6, category_id = $7, wilaya_code = $8, commune = $9, \
                     commune_key = $10, address = $11, latitude = $12, longitude = $13, \
                     location = {location}, phone = $15, email = $16, website = $17, \
                     languages = $18, opening_hours = $19, open_minutes = $20::int4multirange, \
                     years_experience = $21, search_vector = {search_vector}, \
                     search_format = {SEARCH_FORMAT}, updated_at = now(), \
                     verified = verified AND display_name = $3 \
                     AND business_name IS NOT DISTINCT FROM $4 AND category_id = $7 \
                     WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2)"
                ),
                &values,
            )
            .await
            .db("writing a professional profile")?;
    }
    Ok(())
}

/// Sets the verified flag; `false` when there is no such profile.
pub(crate) async fn set_verified(
    client: &impl GenericClient,
    id: ProfessionalId,
    verified: bool,
) -> Result<bool> {
    let n = client
        .execute_typed(
            "UPDATE professionals SET verified = $2, updated_at = now() WHERE id = $1",
            &[(&id.0, Type::UUID), (&verified, Type::BOOL)],
        )
        .await
        .db("verifying a professional")?;
    Ok(n == 1)
}

const SERVICE_COLUMNS: &str =
    "id, name, description, price_min_minor, price_max_minor, price_unit, duration_minutes";

fn service_from_row(row: &Row) -> Result<Service> {
    let unit: String = decode(row.try_get("price_unit"))?;
    Ok(Service {
        id: ServiceId(decode(row.try_get("id"))?),
        name: decode(row.try_get("name"))?,
        description: decode(row.try_get("description"))?,
        price_min_minor: decode(row.try_get("price_min_minor"))?,
        price_max_minor: decode(row.try_get("price_max_minor"))?,
        price_unit: PriceUnit::from_name(&unit)
            .ok_or_else(|| Error::internal("decoding a service", format!("unit {unit}")))?,
        duration_minutes: decode(row.try_get("duration_minutes"))?,
    })
}

/// A profile's services, oldest first.
pub(crate) async fn services(
    client: &impl GenericClient,
    professional: ProfessionalId,
) -> Result<Vec<Service>> {
    client
        .query_typed(
            &format!(
                "SELECT {SERVICE_COLUMNS} FROM professional_services \
                 WHERE professional_id = $1 ORDER BY created_at, id"
            ),
            &[(&professional.0, Type::UUID)],
        )
        .await
        .db("reading services")?
        .iter()
        .map(service_from_row)
        .collect()
}

/// Inserts or replaces a service of `professional`; `false` when `id` is not one of its services.
pub(crate) async fn write_service(
    client: &impl GenericClient,
    professional: ProfessionalId,
    id: ServiceId,
    service: &ServiceRequest,
    insert: bool,
) -> Result<bool> {
    // Stored as validated (`model::check_service` measures the trimmed name).
    let name = service.name.trim();
    let description = service.description.clone().unwrap_or_default();
    let unit = service.price_unit.as_str();
    let params: [(&(dyn ToSql + Sync), Type); 8] = [
        (&id.0, Type::UUID),
        (&professional.0, Type::UUID),
        (&name, Type::TEXT),
        (&description, Type::TEXT),
        (&service.price_min_minor, Type::INT8),
        (&service.price_max_minor, Type::INT8),
        (&unit, Type::TEXT),
        (&service.duration_minutes, Type::INT4),
    ];
    let sql = if insert {
        "INSERT INTO professional_services (id, professional_id, name, description, \
         price_min_minor, price_max_minor, price_unit, duration_minutes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    } else {
        "UPDATE professional_services SET name = $3, description = $4, price_min_minor = $5, \
         price_max_minor = $6, price_unit = $7, duration_minutes = $8 \
         WHERE id = $1 AND professional_id = $2"
    };
    let n = client
        .execute_typed(sql, &params)
        .await
        .db("writing a service")?;
    Ok(n == 1)
}

/// Removes a service of `professional`; `false` when there was none.
pub(crate) async fn delete_service(
    client: &impl GenericClient,
    professional: ProfessionalId,
    id: ServiceId,
) -> Result<bool> {
    let n = client
        .execute_typed(
            "DELETE FROM professional_services WHERE id = $1 AND professional_id = $2",
            &[(&id.0, Type::UUID), (&professional.0, Type::UUID)],
        )
        .await
        .db("removing a service")?;
    Ok(n == 1)
}

const REVIEW_COLUMNS: &str = "r.id, r.professional_id, r.author_id, u.full_name AS author_name, \
     r.overall_rating, r.quality_rating, r.professionalism_rating, r.value_rating, \
     r.punctuality_rating, r.communication_rating, r.text, r.would_recommend, r.reply, \
     r.replied_at, r.created_at, r.updated_at";

fn review_from_row(row: &Row) -> Result<Review> {
    let reply: Option<String> = decode(row.try_get("reply"))?;
    let replied_at: Option<OffsetDateTime> = decode(row.try_get("replied_at"))?;
    Ok(Review {
        id: ReviewId(decode(row.try_get("id"))?),
        professional_id: ProfessionalId(decode(row.try_get("professional_id"))?),
        author_id: UserId(decode(row.try_get("author_id"))?),
        author_name: decode(row.try_get("author_name"))?,
        overall_rating: decode(row.try_get("overall_rating"))?,
        quality_rating: decode(row.try_get("quality_rating"))?,
        professionalism_rating: decode(row.try_get("professionalism_rating"))?,
        value_rating: decode(row.try_get("value_rating"))?,
        punctuality_rating: decode(row.try_get("punctuality_rating"))?,
        communication_rating: decode(row.try_get("communication_rating"))?,
        text: decode(row.try_get("text"))?,
        would_recommend: decode(row.try_get("would_recommend"))?,
        reply: reply
            .zip(replied_at)
            .map(|(text, replied_at)| ReviewReply { text, replied_at }),
        created_at: decode(row.try_get("created_at"))?,
        updated_at: decode(row.try_get("updated_at"))?,
    })
}

/// One review.
pub(crate) async fn review(client: &impl GenericClient, id: ReviewId) -> Result<Option<Review>> {
    let row = client
        .query_typed_opt(
            &format!(
                "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.author_id \
                 WHERE r.id = $1"
            ),
            &[(&id.0, Type::UUID)],
        )
        .await
        .db("reading a review")?;
    row.as_ref().map(review_from_row).transpose()
}

/// The columns of a review request, from `$2` on, in the order the statements below use.
fn review_values(review: &ReviewRequest) -> [(&(dyn ToSql + Sync), Type); 8] {
    [
        (&review.overall_rating, Type::INT2),
        (&review.quality_rating, Type::INT2),
        (&review.professionalism_rating, Type::INT2),
        (&review.value_rating, Type::INT2),
        (&review.punctuality_rating, Type::INT2),
        (&review.communication_rating, Type::INT2),
        (&review.text, Type::TEXT),
        (&review.would_recommend, Type::BOOL),
    ]
}

/// Inserts a review.
pub(crate) async fn insert_review(
    client: &impl GenericClient,
    id: ReviewId,
    professional: ProfessionalId,
    author: UserId,
    review: &ReviewRequest,
) -> Result<()> {
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![(&id.0, Type::UUID)];
    params.extend(review_values(review));
    params.push((&professional.0, Type::UUID));
    params.push((&author.0, Type::UUID));
    client
        .execute_typed(
            "INSERT INTO reviews (id, overall_rating, quality_rating, professionalism_rating, \
             value_rating, punctuality_rating, communication_rating, text, would_recommend, \
             professional_id, author_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &params,
        )
        .await
        .db("writing a review")?;
    Ok(())
}

/// Replaces the author's own review; `false` when `id` is not one of theirs.
pub(crate) async fn edit_review(
    client: &impl GenericClient,
    id: ReviewId,
    author: UserId,
    review: &ReviewRequest,
) -> Result<bool> {
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![(&id.0, Type::UUID)];
    params.extend(review_values(review));
    params.push((&author.0, Type::UUID));
    let n = client
        .execute_typed(
            "UPDATE reviews SET overall_rating = $2, quality_rating = $3, \
             professionalism_rating = $4, value_rating = $5, punctuality_rating = $6, \
             communication_rating = $7, text = $8, would_recommend = $9, updated_at = now() \
             WHERE id = $1 AND author_id = $10",
            &params,
        )
        .await
        .db("editing a review")?;
    Ok(n == 1)
}

/// Records the professional's answer; `false` when the review was already answered.
pub(crate) async fn reply(client: &impl GenericClient, id: ReviewId, text: &str) -> Result<bool> {
    let n = client
        .execute_typed(
            "UPDATE reviews SET reply = $2, replied_at = now() WHERE id = $1 AND reply IS NULL",
            &[(&id.0, Type::UUID), (&text, Type::TEXT)],
        )
        .await
        .db("answering a review")?;
    Ok(n == 1)
}

/// A page of a profile's reviews and their total.
pub(crate) async fn reviews(
    client: &impl GenericClient,
    professional: ProfessionalId,
    sort: ReviewSort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Review>, i64)> {
    let order = match sort {
        ReviewSort::Newest => "r.created_at DESC, r.id DESC",
        ReviewSort::Highest => "r.overall_rating DESC, r.created_at DESC, r.id DESC",
        ReviewSort::Lowest => "r.overall_rating ASC, r.created_at DESC, r.id DESC",
    };
    let page_sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.author_id \
         WHERE r.professional_id = $1 ORDER BY {order} LIMIT $2 OFFSET $3"
    );
    let page_params: [(&(dyn ToSql + Sync), Type); 3] = [
        (&professional.0, Type::UUID),
        (&limit, Type::INT8),
        (&offset, Type::INT8),
    ];
    let total_params: [(&(dyn ToSql + Sync), Type); 1] = [(&professional.0, Type::UUID)];
    let page = client.query_typed(&page_sql, &page_params);
    let total = client.query_typed_one(
        "SELECT rating_count::bigint FROM professionals WHERE id = $1",
        &total_params,
    );
    let (rows, total) = futures_util::future::try_join(page, total)
        .await
        .db("listing reviews")?;
    let items = rows.iter().map(review_from_row).collect::<Result<_>>()?;
    Ok((items, decode(total.try_get(0))?))
}

/// What the dictionary says of a query word: whether it holds the word itself, and the words
/// close to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WordLookup {
    /// The dictionary holds the word itself.
    pub known: bool,
    /// Dictionary words close to it, closest first.
    pub corrections: Vec<String>,
}

/// For each of `terms`, whether the dictionary holds it, and up to `per_term` dictionary words
/// at least `threshold` similar to it (trigram similarity), closest first: `(index of the term,
/// known, a close word)`, a row with no close word when there is none.
pub(crate) async fn similar_words(
    client: &impl GenericClient,
    terms: &[String],
    threshold: f32,
    per_term: i64,
) -> Result<Vec<(usize, bool, Option<String>)>> {
    let rows = client
        .query_typed(
            "SELECT t.i, EXISTS (SELECT 1 FROM search_words k WHERE k.word = t.term), w.word \
             FROM unnest($1::text[]) WITH ORDINALITY AS t (term, i) \
             LEFT JOIN LATERAL (SELECT word FROM search_words \
                                 WHERE word % t.term AND word <> t.term \
                                   AND similarity(word, t.term) >= $2 \
                                 ORDER BY similarity(word, t.term) DESC, word LIMIT $3) AS w \
               ON true",
            &[
                (&terms, Type::TEXT_ARRAY),
                (&threshold, Type::FLOAT4),
                (&per_term, Type::INT8),
            ],
        )
        .await
        .db("correcting search words")?;
    rows.iter()
        .map(|row| {
            let index: i64 = decode(row.try_get(0))?;
            let known: bool = decode(row.try_get(1))?;
            let word: Option<String> = decode(row.try_get(2))?;
            Ok((
                usize::try_from(index - 1).unwrap_or(usize::MAX),
                known,
                word,
            ))
        })
        .collect()
}

/// Runs a search statement.
pub(crate) async fn run(client: &impl GenericClient, statement: &Statement) -> Result<Vec<Row>> {
    let (params, types) = bind(statement);
    let params: Vec<(&(dyn ToSql + Sync), Type)> = params.into_iter().zip(types).collect();
    client
        .query_typed(&statement.sql, &params)
        .await
        .db("searching professionals")
}

/// Runs a search statement, prepared once per connection when `prepared`, so that PostgreSQL
/// may reuse a generic plan instead of planning it again: the planning of a search costs as much
/// as running one of a few hundred matches. Callers prepare only searches without text
/// (docs/DIRECTORY.md, "Plans").
pub(crate) async fn search(
    client: &deadpool_postgres::ClientWrapper,
    statement: &Statement,
    prepared: bool,
) -> Result<Vec<Row>> {
    let (params, types) = bind(statement);
    let params: Vec<(&(dyn ToSql + Sync), Type)> = params.into_iter().zip(types).collect();
    crate::db::query_prepared(client, prepared, &statement.sql, &params)
        .await
        .db("searching professionals")
}

/// A statement's values, and their types.
fn bind(statement: &Statement) -> (Vec<&(dyn ToSql + Sync)>, Vec<Type>) {
    statement
        .params
        .iter()
        .map(|param| -> (&(dyn ToSql + Sync), Type) {
            match param {
                Param::Text(value) => (value, Type::TEXT),
                Param::SmallInts(value) => (value, Type::INT2_ARRAY),
                Param::Texts(value) => (value, Type::TEXT_ARRAY),
                Param::Uuids(value) => (value, Type::UUID_ARRAY),
                Param::Int(value) => (value, Type::INT4),
                Param::BigInt(value) => (value, Type::INT8),
                Param::Float(value) => (value, Type::FLOAT8),
                Param::Floats(value) => (value, Type::FLOAT8_ARRAY),
                Param::Bool(value) => (value, Type::BOOL),
            }
        })
        .unzip()
}

/// Decodes one search result row's own columns (the caller adds category and rating).
pub(crate) struct HitRow {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub business_name: Option<String>,
    pub category_id: i16,
    pub wilaya_code: String,
    pub commune: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub languages: Vec<String>,
    pub verified: bool,
    pub open_now: bool,
    pub distance_km: Option<f64>,
    pub rating: RatingSummary,
}

/// Decodes a result row of a search.
pub(crate) fn hit_from_row(row: &Row) -> Result<HitRow> {
    Ok(HitRow {
        id: decode(row.try_get("id"))?,
        slug: decode(row.try_get("slug"))?,
        display_name: decode(row.try_get("display_name"))?,
        business_name: decode(row.try_get("business_name"))?,
        category_id: decode(row.try_get("category_id"))?,
        wilaya_code: decode(row.try_get("wilaya_code"))?,
        commune: decode(row.try_get("commune"))?,
        latitude: decode(row.try_get("latitude"))?,
        longitude: decode(row.try_get("longitude"))?,
        languages: decode(row.try_get("languages"))?,
        verified: decode(row.try_get("verified"))?,
        open_now: decode(row.try_get("open_now"))?,
        distance_km: decode(row.try_get("distance_km"))?,
        rating: rating(row)?,
    })
}

/// A ranked result's id and distance.
pub(crate) type Ranked = (Uuid, Option<f64>);

/// Decodes a result row of a search: its `ranked_id` and distance when it has them (the rows of
/// a ranked window), and its hit when it has one (the rows of the page).
pub(crate) fn result_from_row(row: &Row) -> Result<(Option<Ranked>, Option<HitRow>)> {
    let has = |name: &str| row.columns().iter().any(|column| column.name() == name);
    let ranked = if has("ranked_id") {
        let id: Option<Uuid> = decode(row.try_get("ranked_id"))?;
        let distance: Option<f64> = decode(row.try_get("distance_km"))?;
        id.map(|id| (id, distance))
    } else {
        None
    };
    let id: Option<Uuid> = decode(row.try_get("id"))?;
    let hit = id.map(|_| hit_from_row(row)).transpose()?;
    Ok((ranked, hit))
}

/// One facet count: by category (the first) or by wilaya (the second), and how many.
pub(crate) type Facet = (Option<i16>, Option<String>, i64);

/// Decodes a facet row (one with a `facet_n`): category or wilaya, and the count; `None` for a
/// result row.
pub(crate) fn facet_from_row(row: &Row) -> Result<Option<Facet>> {
    if !row
        .columns()
        .iter()
        .any(|column| column.name() == "facet_n")
    {
        return Ok(None);
    }
    let n: Option<i64> = decode(row.try_get("facet_n"))?;
    match n {
        None => Ok(None),
        Some(n) => Ok(Some((
            decode(row.try_get("facet_category"))?,
            decode(row.try_get("facet_wilaya"))?,
            n,
        ))),
    }
}
