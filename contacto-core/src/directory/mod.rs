//! The directory: professionals' profiles and services, reviews with exact rating summaries, and
//! search in Arabic, French and Latin transliteration with filters, distance and facets.

mod cache;
pub(crate) mod model;
pub(crate) mod search;
mod store;
pub(crate) mod text;
mod topics;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use self::search::SearchSpec;
use self::store::{CategoryRow, ProfileFields, ProfileKey, ProfileRow, SearchText};
use self::text::{fold, skeletons};
use crate::Contacto;
use crate::api::{
    Category, CategoryRef, Professional, ProfessionalAdminUpdate, ProfessionalId,
    ProfessionalRequest, ProfessionalUpdate, ReplyRequest, Review, ReviewId, ReviewPage,
    ReviewRequest, ReviewSort, Role, SearchFacets, SearchHit, SearchPage, SearchQuery, SearchSort,
    Service, ServiceId, ServiceRequest, ServiceUpdate, Wilaya,
};
use crate::db::error::PgResultExt;
use crate::error::{Error, FieldError, FieldErrors, Result};
use crate::identity::Principal;

/// Largest page of search results or reviews.
pub const MAX_DIRECTORY_PAGE_SIZE: i64 = 100;

/// Default page size.
const DEFAULT_PAGE_SIZE: i64 = 20;

/// Deepest page: offsets beyond this cost a scan of everything before them, and nobody reads
/// page 500 of a directory; narrowing the search is the answer.
const MAX_PAGE: i64 = 500;

/// Longest query text.
const MAX_QUERY_CHARS: usize = 200;

/// Default and largest search radius, in km: a city and its surroundings; the width of the
/// northern half of the country.
const DEFAULT_RADIUS_KM: f64 = 25.0;
const MAX_RADIUS_KM: f64 = 500.0;

/// Path segments that a slug would shadow (`/api/v1/professionals/me`).
const RESERVED_SLUGS: &[&str] = &["me"];

/// How close a dictionary word must be to a query word to count as what was meant (trigram
/// similarity, 0..=1): `plombiere`/`plombier` is 0.73, `electrisien`/`electricien` 0.6; unrelated
/// words that share a syllable stay below.
const CORRECTION_SIMILARITY: f32 = 0.45;

/// Corrections per query word: the few closest.
const CORRECTIONS_PER_WORD: i64 = 3;

/// How long a word's corrections are reused.
const CORRECTIONS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Words whose corrections are cached; past this the cache starts over (a day's distinct query
/// words in a busy directory, a few hundred kilobytes).
const MAX_CACHED_CORRECTIONS: usize = 10_000;

/// Searches matching at least this many professionals are cached: as many as the ranked window
/// ([`search::RANKED_WINDOW`]), so a cached search is one whose matches fill its five pages. The
/// same searches ("médecin", "مخبر التحاليل", a category in a big wilaya) come again and again,
/// ranking and counting their matches costs milliseconds of PostgreSQL each time, and nobody
/// notices a new profile among a hundred or more half a minute late. Narrower searches (a name,
/// a rare trade in a commune) are always answered fresh. The threshold was 1,000 until measured:
/// docs/PERFORMANCE.md, "Directory search".
const CACHED_RESULTS_MIN_TOTAL: i64 = search::RANKED_WINDOW;

pub(crate) use self::cache::ResultCache;

/// Cached corrections: query word -> when looked up, and what the dictionary says of it.
pub(crate) type Corrections =
    std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, store::WordLookup)>>;

/// Attempts at a free slug when concurrent profiles race for the same one.
const SLUG_ATTEMPTS: usize = 5;

/// Wilayas and categories, read once: migrations seed them and nothing changes them at run time.
#[derive(Debug)]
pub(crate) struct Reference {
    wilayas: Vec<Wilaya>,
    categories: Vec<CategoryRow>,
    /// Their words, for matching query words in memory.
    topics: topics::Topics,
}

impl Reference {
    fn new(wilayas: Vec<Wilaya>, categories: Vec<CategoryRow>) -> Self {
        let topics = topics::Topics::new(&categories, &wilayas);
        Self {
            wilayas,
            categories,
            topics,
        }
    }

    fn category(&self, id: i16) -> Result<&CategoryRow> {
        self.categories
            .iter()
            .find(|category| category.id == id)
            .ok_or_else(|| Error::internal("reading a category", format!("unknown id {id}")))
    }

    fn category_by_slug(
        &self,
        field: &str,
        slug: &str,
    ) -> std::result::Result<&CategoryRow, FieldError> {
        self.categories
            .iter()
            .find(|category| category.slug == slug)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "unknown",
                    format!("no category {slug:?}; see GET /api/v1/categories"),
                )
            })
    }

    fn category_ref(&self, id: i16) -> Result<CategoryRef> {
        let category = self.category(id)?;
        Ok(CategoryRef {
            slug: category.slug.clone(),
            name_fr: category.name_fr.clone(),
            name_ar: category.name_ar.clone(),
        })
    }

    /// A category and all its descendants.
    fn subtree(&self, root: i16) -> Vec<i16> {
        let mut ids = vec![root];
        let mut i = 0;
        while i < ids.len() {
            let parent = ids[i];
            ids.extend(
                self.categories
                    .iter()
                    .filter(|category| category.parent_id == Some(parent))
                    .map(|category| category.id),
            );
            i += 1;
        }
        ids
    }

    fn wilaya(&self, field: &str, code: &str) -> std::result::Result<&Wilaya, FieldError> {
        self.wilayas
            .iter()
            .find(|wilaya| wilaya.code == code)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "unknown",
                    format!("no wilaya {code:?}; codes are 01 to 58"),
                )
            })
    }

    fn tree(&self, parent: Option<i16>) -> Vec<Category> {
        self.categories
            .iter()
            .filter(|category| category.parent_id == parent)
            .map(|category| self.node(category))
            .collect()
    }

    fn node(&self, category: &CategoryRow) -> Category {
        Category {
            slug: category.slug.clone(),
            name_fr: category.name_fr.clone(),
            name_ar: category.name_ar.clone(),
            parent: category
                .parent_id
                .and_then(|parent| self.category(parent).ok())
                .map(|parent| parent.slug.clone()),
            children: self.tree(Some(category.id)),
        }
    }

    /// The folded texts a profile is found by: its names; its services and commune; its
    /// biographies; the skeletons of names, services and commune. Its category's and wilaya's
    /// words are matched through the reference data instead (`topics.rs`), but they go into the
    /// dictionary of words misspellings are corrected to, with the names, services and places.
    fn search_text(&self, fields: &ProfileFields, services: &[String]) -> Result<SearchText> {
        let mut names = fold(&fields.display_name);
        if let Some(business) = &fields.business_name {
            names.push(' ');
            names.push_str(&fold(business));
        }
        self.category(fields.category_id)?;
        let wilaya = self
            .wilaya("wilaya", &fields.wilaya_code)
            .map_err(|e| Error::internal("reading a wilaya", e.message))?;
        let mut own: Vec<&str> = services.iter().map(String::as_str).collect();
        own.push(fields.commune.as_str());
        let b = fold(&own.join(" "));
        let c = fold(&format!("{} {}", fields.bio_fr, fields.bio_ar));
        let d = skeletons(&format!("{names} {b}"));
        let topics = format!(
            "{} {}",
            topics::category_text(&self.categories, fields.category_id),
            topics::wilaya_text(wilaya)
        );
        let mut words: Vec<String> = format!("{names} {b} {topics}")
            .split(' ')
            .filter(|word| word.chars().count() >= search::MIN_CORRECTED_CHARS)
            .map(str::to_owned)
            .collect();
        words.sort_unstable();
        words.dedup();
        Ok(SearchText {
            words,
            a: names,
            b,
            c,
            d,
        })
    }
}

/// The directory's use cases; get it with [`Contacto::directory`].
pub struct Directory<'a> {
    core: &'a Contacto,
}

fn now_minute() -> i32 {
    model::minute_of_week(OffsetDateTime::now_utc())
}

fn page_and_limit(page: Option<i64>, limit: Option<i64>) -> Result<(i64, i64)> {
    let mut errors = FieldErrors::new();
    let page = page.unwrap_or(1);
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE).contains(&page) {
        errors.push(FieldError::new(
            "page",
            "out_of_range",
            format!("1 to {MAX_PAGE}"),
        ));
    }
    if !(1..=MAX_DIRECTORY_PAGE_SIZE).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            "out_of_range",
            format!("1 to {MAX_DIRECTORY_PAGE_SIZE}"),
        ));
    }
    errors.into_result()?;
    Ok((page, limit))
}

/// A search's text, trimmed; blank is no text.
fn query_text(query: &SearchQuery) -> Option<&str> {
    query.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
}

/// Whether a search's text names nothing to look for: text whose words are all dropped (single
/// letters, punctuation: `q=a`, `q=***`). Without words its statement would have no text
/// condition and would browse the whole directory, newest first, which is the opposite of what
/// was asked; it matches nothing instead, without asking the database.
fn searches_nothing(query: &SearchQuery, spec: &SearchSpec) -> bool {
    query_text(query).is_some() && spec.terms.is_empty()
}

/// Trims an optional text; blank becomes absent.
fn trimmed(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

impl<'a> Directory<'a> {
    pub(crate) fn new(core: &'a Contacto) -> Self {
        Self { core }
    }

    async fn reference(&self) -> Result<Arc<Reference>> {
        self.core
            .directory_reference()
            .get_or_try_init(|| async {
                let (wilayas, categories) = crate::db::read_on!(self.core.db(), None, |client| {
                    store::reference(&***client).await
                })?;
                Ok::<_, Error>(Arc::new(Reference::new(wilayas, categories)))
            })
            .await
            .cloned()
    }

    /// The 58 wilayas, by code.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when the database cannot be reached the first time.
    pub async fn wilayas(&self) -> Result<Vec<Wilaya>> {
        Ok(self.reference().await?.wilayas.clone())
    }

    /// The category tree, or the subtree under `root` (a slug).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown slug.
    pub async fn categories(&self, root: Option<&str>) -> Result<Vec<Category>> {
        let reference = self.reference().await?;
        match root {
            None => Ok(reference.tree(None)),
            Some(slug) => {
                let category = reference
                    .categories
                    .iter()
                    .find(|category| category.slug == slug)
                    .ok_or(Error::NotFound {
                        resource: "category",
                    })?;
                Ok(vec![reference.node(category)])
            }
        }
    }

    /// Validates a whole profile and derives what is stored with it.
    fn fields(
        reference: &Reference,
        request: &ProfessionalRequest,
        services: &[String],
    ) -> Result<ProfileFields> {
        let mut errors = FieldErrors::new();
        model::check_profile(request, &mut errors);
        let category = errors.check(reference.category_by_slug("category", &request.category));
        let wilaya = errors.check(reference.wilaya("wilaya", &request.wilaya));
        errors.into_result()?;
        let (Some(category), Some(wilaya)) = (category, wilaya) else {
            return Err(Error::internal("validating a profile", "checked above"));
        };
        let opening_hours = serde_json::to_value(&request.opening_hours)
            .map_err(|e| Error::internal("encoding opening hours", e))?;
        let mut languages = request.languages.clone();
        languages.sort();
        languages.dedup();
        let mut fields = ProfileFields {
            display_name: request.display_name.trim().to_owned(),
            business_name: trimmed(request.business_name.as_deref()),
            bio_ar: request.bio_ar.clone().unwrap_or_default(),
            bio_fr: request.bio_fr.clone().unwrap_or_default(),
            category_id: category.id,
            wilaya_code: wilaya.code.clone(),
            commune: request.commune.trim().to_owned(),
            commune_key: fold(&request.commune),
            address: request.address.as_deref().unwrap_or("").trim().to_owned(),
            latitude: request.latitude,
            longitude: request.longitude,
            location: request
                .latitude
                .zip(request.longitude)
                .map(|(lat, lng)| model::to_xyz(lat, lng).to_vec()),
            phone: trimmed(request.phone.as_deref()),
            email: trimmed(request.email.as_deref()).map(|email| email.to_lowercase()),
            website: trimmed(request.website.as_deref()),
            languages,
            opening_hours,
            open_minutes: model::open_minutes(&request.opening_hours)?,
            years_experience: request.years_experience,
            search: SearchText::default(),
        };
        fields.search = reference.search_text(&fields, services)?;
        Ok(fields)
    }

    async fn view(
        &self,
        client: &impl tokio_postgres::GenericClient,
        reference: &Reference,
        row: ProfileRow,
    ) -> Result<Professional> {
        let services = store::services(client, row.id).await?;
        let wilaya = reference
            .wilaya("wilaya", &row.wilaya_code)
            .map_err(|e| Error::internal("reading a wilaya", e.message))?
            .clone();
        Ok(Professional {
            id: row.id,
            slug: row.slug,
            user_id: row.user_id,
            display_name: row.display_name,
            business_name: row.business_name,
            bio_ar: row.bio_ar,
            bio_fr: row.bio_fr,
            category: reference.category_ref(row.category_id)?,
            wilaya,
            commune: row.commune,
            address: row.address,
            latitude: row.latitude,
            longitude: row.longitude,
            phone: row.phone,
            email: row.email,
            website: row.website,
            languages: row.languages,
            opening_hours: row.opening_hours,
            open_now: row.open_now,
            years_experience: row.years_experience,
            verified: row.verified,
            rating: row.rating,
            services,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// Creates the caller's profile, with a unique slug made from the display name.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without the `professional` role, [`Error::ProfileExists`] when the
    /// caller has one, [`Error::Validation`] naming each bad field.
    pub async fn create_profile(
        &self,
        principal: &Principal,
        request: &ProfessionalRequest,
    ) -> Result<Professional> {
        let result = self.create_profile_inner(principal, request).await;
        self.core.wrote(principal);
        self.core.metrics().operation("profile_create", &result);
        result
    }

    async fn create_profile_inner(
        &self,
        principal: &Principal,
        request: &ProfessionalRequest,
    ) -> Result<Professional> {
        if principal.role != Role::Professional {
            return Err(Error::Forbidden {
                action: "create a professional profile without the professional role",
            });
        }
        let reference = self.reference().await?;
        let fields = Self::fields(&reference, request, &[])?;
        let mut base = text::slugify(&fields.display_name).unwrap_or_else(|| "pro".to_owned());
        // A slug must never read as a route or as an id: `profile()` tries ids first.
        if RESERVED_SLUGS.contains(&base.as_str()) || Uuid::parse_str(&base).is_ok() {
            base = format!("pro-{base}");
        }
        let id = ProfessionalId(Uuid::now_v7());
        let mut client = self.core.db().primary().await?;
        for attempt in 0..SLUG_ATTEMPTS {
            let tx = client
                .transaction()
                .await
                .map_err(|e| crate::db::error::from_pg(e, "starting a transaction"))?;
            let taken = store::slugs_like(&*tx, &base).await?;
            let slug = if attempt == 0 {
                (1..)
                    .map(|n| {
                        if n == 1 {
                            base.clone()
                        } else {
                            format!("{base}-{n}")
                        }
                    })
                    .find(|slug| !taken.contains(slug))
                    .unwrap_or_else(|| format!("{base}-{}", id.0.simple()))
            } else {
                // Lost a race for the next number: namesakes are being created at this very
                // moment, so a random suffix avoids racing them again.
                format!("{base}-{:04x}", rand::random::<u16>())
            };
            match store::write_profile(&*tx, id, Some((principal.user_id, &slug)), &fields).await {
                Err(err) if is_slug_race(&err) => continue,
                Err(err) => return Err(err),
                Ok(()) => {}
            }
            let row = store::profile(&*tx, ProfileKey::Id(id), now_minute(), false)
                .await?
                .ok_or_else(|| Error::internal("creating a profile", "row vanished"))?;
            let view = self.view(&*tx, &reference, row).await?;
            tx.commit()
                .await
                .map_err(|e| crate::db::error::from_pg(e, "committing a profile"))?;
            return Ok(view);
        }
        Err(Error::Unavailable(
            "no free slug after several attempts".into(),
        ))
    }

    /// A profile by id or slug, with its services and rating summary. Public.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn profile(&self, id_or_slug: &str) -> Result<Professional> {
        let reference = self.reference().await?;
        // Public and lag-tolerant: a replica may serve it.
        crate::db::read_on!(self.core.db(), None, |client| {
            let row = store::profile(&***client, key_of(id_or_slug), now_minute(), false)
                .await?
                .ok_or(Error::NotFound {
                    resource: "professional",
                })?;
            self.view(&***client, &reference, row).await
        })
    }

    /// The caller's own profile.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the caller has none.
    pub async fn my_profile(&self, principal: &Principal) -> Result<Professional> {
        let reference = self.reference().await?;
        // A replica only once it has replayed the caller's own last change.
        crate::db::read_on!(self.core.db(), Some(principal.user_id), |client| {
            let row = store::profile(
                &***client,
                ProfileKey::Owner(principal.user_id),
                now_minute(),
                false,
            )
            .await?
            .ok_or(Error::NotFound {
                resource: "professional profile",
            })?;
            self.view(&***client, &reference, row).await
        })
    }

    /// Runs `change` on the caller's profile, locked, then rewrites its search text from the
    /// result; all in one transaction.
    async fn change_own<T>(
        &self,
        principal: &Principal,
        change: impl AsyncFnOnce(
            &tokio_postgres::Transaction<'_>,
            &ProfileRow,
        ) -> Result<(Option<ProfessionalRequest>, T)>,
    ) -> Result<T> {
        let reference = self.reference().await?;
        let mut client = self.core.db().primary().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| crate::db::error::from_pg(e, "starting a transaction"))?;
        let row = store::profile(
            &*tx,
            ProfileKey::Owner(principal.user_id),
            now_minute(),
            true,
        )
        .await?
        .ok_or(Error::NotFound {
            resource: "professional profile",
        })?;
        let (request, value) = change(&*tx, &row).await?;
        let request = match request {
            Some(request) => request,
            None => request_of(&reference, &row)?,
        };
        let services = service_names(&*tx, row.id).await?;
        let fields = Self::fields(&reference, &request, &services)?;
        store::write_profile(&*tx, row.id, None, &fields).await?;
        tx.commit()
            .await
            .map_err(|e| crate::db::error::from_pg(e, "committing a profile change"))?;
        // Every change to one's own profile commits here: the owner's next reads must see it.
        self.core.wrote(principal);
        Ok(value)
    }

    /// Rebuilds the search vectors of every profile stored in an older format (migration V10),
    /// `batch` profiles per transaction, each holding its row locks for tens of milliseconds;
    /// returns how many. The server runs it in the background at start.
    ///
    /// # Errors
    ///
    /// As [`Directory::rebuild_search_text`]; the batches before the failure stay rebuilt.
    pub async fn rebuild_all_search_text(&self, batch: i64) -> Result<usize> {
        let mut rebuilt = 0;
        loop {
            match self.rebuild_search_text(batch).await? {
                0 => return Ok(rebuilt),
                n => rebuilt += n,
            }
        }
    }

    /// Rebuilds the search vectors of up to `limit` profiles stored in an older format (migration
    /// V10), in one transaction; returns how many. Searches find the same profiles before and
    /// after; the new format is smaller and faster to search. Concurrent callers take different
    /// profiles.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when the database cannot be reached.
    pub async fn rebuild_search_text(&self, limit: i64) -> Result<usize> {
        let reference = self.reference().await?;
        let mut client = self.core.db().primary().await?;
        let tx = client.transaction().await.db("starting a transaction")?;
        let ids = store::older_search_format(&*tx, limit).await?;
        let mut rebuilt = Vec::with_capacity(ids.len());
        let mut texts = Vec::with_capacity(ids.len());
        let mut kept = Vec::new();
        for id in &ids {
            let row = store::profile(&*tx, ProfileKey::Id(*id), 0, false)
                .await?
                .ok_or_else(|| {
                    Error::internal("rebuilding search text", "a locked row vanished")
                })?;
            let services = service_names(&*tx, *id).await?;
            match Self::fields(&reference, &request_of(&reference, &row)?, &services) {
                Ok(fields) => {
                    rebuilt.push(*id);
                    texts.push(fields.search);
                }
                // Stored before a rule it breaks: its older vector still matches what it should
                // (only larger), and the rebuild must not stop at it.
                Err(e) => {
                    tracing::warn!(profile = %id.0, error = %e, "kept an older search vector");
                    kept.push(*id);
                }
            }
        }
        store::rewrite_search_vectors(&*tx, &rebuilt, &texts).await?;
        store::mark_search_format(&*tx, &kept).await?;
        tx.commit().await.db("committing rebuilt search text")?;
        Ok(ids.len())
    }

    /// Updates the caller's profile: absent fields stay, `null` clears optional ones. A change of
    /// display name, business name or category clears `verified`, in the same statement: the
    /// badge vouched for the name and trade an administrator checked, not for new ones.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] without a profile, [`Error::Validation`] naming each bad field.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        update: &ProfessionalUpdate,
    ) -> Result<Professional> {
        let result = async {
            let reference = self.reference().await?;
            self.change_own(principal, async |_, row| {
                let mut request = request_of(&reference, row)?;
                apply(&mut request, update.clone());
                Ok((Some(request), ()))
            })
            .await?;
            self.my_profile(principal).await
        }
        .await;
        self.core.metrics().operation("profile_update", &result);
        result
    }

    /// Marks a profile verified or not; admins only.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but an admin, [`Error::NotFound`].
    pub async fn administer(
        &self,
        principal: &Principal,
        id: ProfessionalId,
        update: &ProfessionalAdminUpdate,
    ) -> Result<Professional> {
        if principal.role != Role::Admin {
            return Err(Error::Forbidden {
                action: "verify professionals",
            });
        }
        let reference = self.reference().await?;
        let client = self.core.db().primary().await?;
        if !store::set_verified(&**client, id, update.verified).await? {
            return Err(Error::NotFound {
                resource: "professional",
            });
        }
        // Read back on the primary: a replica may not have the change yet.
        let row = store::profile(&**client, ProfileKey::Id(id), now_minute(), false)
            .await?
            .ok_or(Error::NotFound {
                resource: "professional",
            })?;
        self.view(&**client, &reference, row).await
    }

    /// Adds a service to the caller's profile.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] without a profile, [`Error::QuotaExceeded`] past
    /// [`model::MAX_SERVICES`], [`Error::Validation`].
    pub async fn add_service(
        &self,
        principal: &Principal,
        request: &ServiceRequest,
    ) -> Result<Service> {
        model::check_service(request)?;
        let id = ServiceId(Uuid::now_v7());
        let result = self
            .change_own(principal, async |tx, row| {
                let existing = store::services(tx, row.id).await?;
                if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= model::MAX_SERVICES {
                    return Err(Error::QuotaExceeded {
                        what: "services per profile",
                        limit: u32::try_from(model::MAX_SERVICES).unwrap_or(u32::MAX),
                    });
                }
                store::write_service(tx, row.id, id, request, true).await?;
                Ok((None, ()))
            })
            .await;
        self.core.metrics().operation("service_change", &result);
        result?;
        self.service(principal, id).await
    }

    async fn service(&self, principal: &Principal, id: ServiceId) -> Result<Service> {
        self.my_profile(principal)
            .await?
            .services
            .into_iter()
            .find(|service| service.id == id)
            .ok_or(Error::NotFound {
                resource: "service",
            })
    }

    /// Changes a service of the caller's profile.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when it is not the caller's, [`Error::Validation`].
    pub async fn update_service(
        &self,
        principal: &Principal,
        id: ServiceId,
        update: &ServiceUpdate,
    ) -> Result<Service> {
        let result = self
            .change_own(principal, async |tx, row| {
                let current = store::services(tx, row.id)
                    .await?
                    .into_iter()
                    .find(|service| service.id == id)
                    .ok_or(Error::NotFound {
                        resource: "service",
                    })?;
                let update = update.clone();
                let merged = ServiceRequest {
                    name: update.name.unwrap_or(current.name),
                    description: Some(update.description.unwrap_or(current.description)),
                    price_min_minor: update.price_min_minor.unwrap_or(current.price_min_minor),
                    price_max_minor: update.price_max_minor.unwrap_or(current.price_max_minor),
                    price_unit: update.price_unit.unwrap_or(current.price_unit),
                    duration_minutes: update.duration_minutes.unwrap_or(current.duration_minutes),
                };
                model::check_service(&merged)?;
                store::write_service(tx, row.id, id, &merged, false).await?;
                Ok((None, ()))
            })
            .await;
        self.core.metrics().operation("service_change", &result);
        result?;
        self.service(principal, id).await
    }

    /// Removes a service of the caller's profile.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when it is not the caller's.
    pub async fn remove_service(&self, principal: &Principal, id: ServiceId) -> Result<()> {
        let result = self
            .change_own(principal, async |tx, row| {
                if store::delete_service(tx, row.id, id).await? {
                    Ok((None, ()))
                } else {
                    Err(Error::NotFound {
                        resource: "service",
                    })
                }
            })
            .await;
        self.core.metrics().operation("service_change", &result);
        result
    }

    /// Reviews a professional (by id or slug); once per user, never one's own profile.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::Forbidden`] for one's own profile, [`Error::ReviewExists`],
    /// [`Error::Validation`].
    pub async fn review(
        &self,
        principal: &Principal,
        professional: &str,
        request: &ReviewRequest,
    ) -> Result<Review> {
        let result = async {
            model::check_review(request)?;
            let client = self.core.db().primary().await?;
            let target = profile_id(&**client, professional).await?;
            if target.1 == principal.user_id {
                return Err(Error::Forbidden {
                    action: "review your own profile",
                });
            }
            let id = ReviewId(Uuid::now_v7());
            store::insert_review(&**client, id, target.0, principal.user_id, request).await?;
            store::review(&**client, id)
                .await?
                .ok_or_else(|| Error::internal("reading a new review", "row vanished"))
        }
        .await;
        self.core.wrote(principal);
        self.core.metrics().operation("review", &result);
        result
    }

    /// Replaces the caller's own review.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the review is not the caller's, [`Error::Validation`].
    pub async fn edit_review(
        &self,
        principal: &Principal,
        id: ReviewId,
        request: &ReviewRequest,
    ) -> Result<Review> {
        let result = async {
            model::check_review(request)?;
            let client = self.core.db().primary().await?;
            if !store::edit_review(&**client, id, principal.user_id, request).await? {
                return Err(Error::NotFound { resource: "review" });
            }
            store::review(&**client, id)
                .await?
                .ok_or(Error::NotFound { resource: "review" })
        }
        .await;
        self.core.wrote(principal);
        self.core.metrics().operation("review", &result);
        result
    }

    /// The reviewed professional answers a review, once.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::Forbidden`] for anyone but the reviewed professional,
    /// [`Error::ReviewAnswered`], [`Error::Validation`].
    pub async fn reply(
        &self,
        principal: &Principal,
        id: ReviewId,
        request: &ReplyRequest,
    ) -> Result<Review> {
        let result = async {
            let text = request.text.trim();
            let mut errors = FieldErrors::new();
            model::check_len(&mut errors, "text", text, 1, model::MAX_REVIEW_CHARS);
            errors.into_result()?;
            let client = self.core.db().primary().await?;
            let review = store::review(&**client, id)
                .await?
                .ok_or(Error::NotFound { resource: "review" })?;
            let owner = store::profile(&**client, ProfileKey::Id(review.professional_id), 0, false)
                .await?
                .map(|row| row.user_id);
            if owner != Some(principal.user_id) {
                return Err(Error::Forbidden {
                    action: "answer a review of someone else's profile",
                });
            }
            if !store::reply(&**client, id, text).await? {
                return Err(Error::ReviewAnswered);
            }
            store::review(&**client, id)
                .await?
                .ok_or(Error::NotFound { resource: "review" })
        }
        .await;
        self.core.wrote(principal);
        self.core.metrics().operation("review_reply", &result);
        result
    }

    /// A page of a professional's reviews. Public.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::Validation`] for a bad page or limit.
    pub async fn reviews(
        &self,
        professional: &str,
        sort: ReviewSort,
        page: Option<i64>,
        limit: Option<i64>,
    ) -> Result<ReviewPage> {
        let (page, limit) = page_and_limit(page, limit)?;
        let (items, total) = crate::db::read_on!(self.core.db(), None, |client| {
            let (id, _) = profile_id(&***client, professional).await?;
            store::reviews(&***client, id, sort, limit, (page - 1) * limit).await
        })?;
        Ok(ReviewPage {
            items,
            total,
            page,
            limit,
        })
    }

    /// Validates search parameters into a search.
    async fn spec(&self, query: &SearchQuery) -> Result<(SearchSpec, Arc<Reference>)> {
        let reference = self.reference().await?;
        let mut errors = FieldErrors::new();
        let (page, limit) = match page_and_limit(query.page, query.limit) {
            Ok(pair) => pair,
            Err(Error::Validation(page_errors)) => {
                for error in page_errors.as_slice() {
                    errors.push(error.clone());
                }
                (1, DEFAULT_PAGE_SIZE)
            }
            Err(other) => return Err(other),
        };
        let q = query_text(query);
        if let Some(q) = q {
            model::check_search_text(&mut errors, "q", q, MAX_QUERY_CHARS);
        }
        let terms: Vec<search::Term> = q.map(search::terms).unwrap_or_default();
        let categories = query.category.as_deref().and_then(|slug| {
            errors
                .check(reference.category_by_slug("category", slug))
                .map(|category| reference.subtree(category.id))
        });
        let wilaya = query.wilaya.as_deref().and_then(|code| {
            errors
                .check(reference.wilaya("wilaya", code))
                .map(|wilaya| wilaya.code.clone())
        });
        if let Some(commune) = &query.commune {
            model::check_search_text(&mut errors, "commune", commune, 100);
        }
        let commune = query
            .commune
            .as_deref()
            .map(fold)
            .filter(|commune| !commune.is_empty());
        if let Some(min) = query.min_rating
            && !(1.0..=5.0).contains(&min)
        {
            errors.push(FieldError::new("min_rating", "out_of_range", "1 to 5"));
        }
        if let Some(language) = &query.language
            && (!(2..=3).contains(&language.len())
                || !language.bytes().all(|b| b.is_ascii_lowercase()))
        {
            errors.push(FieldError::new(
                "language",
                "invalid_format",
                "an ISO 639 code such as ar or fr",
            ));
        }
        model::check_coordinates(&mut errors, ("lat", query.lat), ("lng", query.lng));
        let radius = query.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
        if query.radius_km.is_some() && query.lat.is_none() {
            errors.push(FieldError::new(
                "radius_km",
                "invalid_value",
                "needs lat and lng",
            ));
        }
        if !(radius > 0.0 && radius <= MAX_RADIUS_KM) {
            errors.push(FieldError::new(
                "radius_km",
                "out_of_range",
                format!("more than 0 and at most {MAX_RADIUS_KM} km"),
            ));
        }
        let near = query
            .lat
            .zip(query.lng)
            .map(|(lat, lng)| (model::to_xyz(lat, lng), model::chord_km(radius)));
        let sort = match query.sort {
            // Without text, relevance is reputation alone: best rated first, which an index serves.
            Some(SearchSort::Relevance) if terms.is_empty() => SearchSort::Rating,
            Some(sort) => sort,
            None if terms.is_empty() => SearchSort::Newest,
            None => SearchSort::Relevance,
        };
        if sort == SearchSort::Distance && near.is_none() {
            errors.push(FieldError::new(
                "sort",
                "invalid_value",
                "distance needs lat and lng",
            ));
        }
        errors.into_result()?;
        let mut terms = terms;
        self.correct(&mut terms).await?;
        for term in &mut terms {
            (term.categories, term.wilayas) = reference.topics.matching(term);
        }
        let now = now_minute();
        Ok((
            SearchSpec {
                terms,
                categories,
                wilaya,
                commune,
                min_rating: query.min_rating,
                verified: query.verified,
                open_at: query.open_now.filter(|open| *open).map(|_| now),
                language: query.language.clone(),
                near,
                sort,
                limit,
                offset: (page - 1) * limit,
                now_minute: now,
            },
            reference,
        ))
    }

    /// Adds to each long enough query word the dictionary words it may be a misspelling of.
    /// Corrections are cached for a minute: the same words are asked again and again, and a
    /// word new to the dictionary reaches queries within that minute.
    async fn correct(&self, terms: &mut [search::Term]) -> Result<()> {
        let cache = self.core.directory_corrections();
        let mut missing: Vec<String> = Vec::new();
        {
            let cached = cache
                .lock()
                .map_err(|_| Error::internal("reading corrections", "poisoned"))?;
            for term in terms.iter_mut() {
                if term.word.chars().count() < search::MIN_CORRECTED_CHARS {
                    continue;
                }
                match cached.get(&term.word) {
                    Some((at, lookup)) if at.elapsed() < CORRECTIONS_TTL => {
                        term.corrections.clone_from(&lookup.corrections);
                        term.known = lookup.known;
                    }
                    _ => missing.push(term.word.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let found = crate::db::read_on!(self.core.db(), None, |client| {
            store::similar_words(
                &***client,
                &missing,
                CORRECTION_SIMILARITY,
                CORRECTIONS_PER_WORD,
            )
            .await
        })?;
        let mut lookups: Vec<store::WordLookup> = vec![store::WordLookup::default(); missing.len()];
        for (index, known, word) in found {
            if let Some(lookup) = lookups.get_mut(index) {
                lookup.known = known;
                lookup.corrections.extend(word);
            }
        }
        let mut cached = cache
            .lock()
            .map_err(|_| Error::internal("caching corrections", "poisoned"))?;
        if cached.len() >= MAX_CACHED_CORRECTIONS {
            cached.clear();
        }
        let now = std::time::Instant::now();
        for (word, lookup) in missing.into_iter().zip(lookups) {
            if let Some(term) = terms.iter_mut().find(|term| term.word == word) {
                term.corrections.clone_from(&lookup.corrections);
                term.known = lookup.known;
            }
            cached.insert(word, (now, lookup));
        }
        Ok(())
    }

    /// The plans PostgreSQL chooses for a search's two statements (the page, then the facet
    /// counts), as `EXPLAIN` prints them: for operators analysing a slow search, and for the test
    /// that proves every filter is served by an index. None for a text with no word to search
    /// by (`q=a`): that search runs no statement.
    ///
    /// # Errors
    ///
    /// As [`Directory::search`].
    pub async fn explain(&self, query: &SearchQuery) -> Result<Vec<String>> {
        let (spec, _) = self.spec(query).await?;
        if searches_nothing(query, &spec) {
            return Ok(Vec::new());
        }
        let client = self.core.db().primary().await?;
        let mut plans = Vec::new();
        for statement in search::statements(&spec) {
            let explain = search::Statement {
                sql: format!("EXPLAIN {}", statement.sql),
                params: statement.params,
            };
            let lines: Vec<String> = store::run(&**client, &explain)
                .await?
                .iter()
                .map(|row| row.try_get::<_, String>(0))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::internal("reading a plan", e))?;
            plans.push(lines.join("\n"));
        }
        Ok(plans)
    }

    /// Searches professionals. Public. Text with no word to search by (`a`, `***`) matches
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] naming each bad parameter (an unknown category or wilaya included).
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        let result = self.search_inner(query).await;
        self.core.metrics().operation("search", &result);
        result
    }

    async fn search_inner(&self, query: &SearchQuery) -> Result<SearchPage> {
        let (spec, reference) = self.spec(query).await?;
        if searches_nothing(query, &spec) {
            return Ok(SearchPage {
                items: Vec::new(),
                total: 0,
                page: spec.offset / spec.limit + 1,
                limit: spec.limit,
                facets: SearchFacets::default(),
            });
        }
        // The spec after validation and correction. The minute only matters to `open_now`
        // filtering; as a flag on results, a cached page may lag it by the cache's lifetime. A
        // page within the ranked window is served from its search's window, whatever the page.
        let windowed = search::windowed(&spec);
        let key = format!(
            "{:?}",
            SearchSpec {
                now_minute: if spec.open_at.is_some() {
                    spec.now_minute
                } else {
                    0
                },
                offset: if windowed { 0 } else { spec.offset },
                limit: if windowed { 0 } else { spec.limit },
                ..spec.clone()
            }
        );
        let cache = self.core.directory_results();
        let metrics = self.core.metrics();
        let filler = loop {
            match cache.lookup(&key)? {
                cache::Lookup::Hit(computed) => {
                    metrics.search_cache("hit");
                    return self.serve(&spec, &reference, &computed).await;
                }
                cache::Lookup::Stale(computed, filler) => {
                    metrics.search_cache("stale");
                    let core = self.core.clone();
                    let (fresh_spec, fresh_reference) = (spec.clone(), Arc::clone(&reference));
                    tokio::spawn(async move {
                        let refreshed = core
                            .directory()
                            .compute(&fresh_spec, &fresh_reference, filler)
                            .await;
                        if let Err(e) = refreshed {
                            tracing::warn!(error = %e, "refreshing a cached search");
                        }
                    });
                    return self.serve(&spec, &reference, &computed).await;
                }
                cache::Lookup::Wait(receiver) => {
                    if let Some(computed) = cache::wait(receiver).await {
                        metrics.search_cache("shared");
                        return self.serve(&spec, &reference, &computed).await;
                    }
                    // That computation failed or was cancelled: look again.
                }
                cache::Lookup::Miss(filler) => {
                    metrics.search_cache("miss");
                    metrics.search_cache_evicted(filler.evicted());
                    break filler;
                }
            }
        };
        Ok(self.compute(&spec, &reference, filler).await?.page.clone())
    }

    /// Runs a search for the cache: hands the result to those waiting for it, and keeps it when
    /// it is broad and not around a point; gives the slot up when the search fails.
    ///
    /// A search around a point is never kept, however broad: its centre is where someone stands
    /// or where a map was dragged to, which the next search does not repeat to the last decimal.
    /// Kept, such pages were never served again; they only filled the cache, which then dropped
    /// pages still being asked (2,000 pages evicted in the benchmark's 30 s instead of 500;
    /// docs/PERFORMANCE.md, "Directory search").
    async fn compute(
        &self,
        spec: &SearchSpec,
        reference: &Reference,
        filler: cache::Filler,
    ) -> Result<cache::Shared> {
        let cache = self.core.directory_results();
        match self.run_search(spec, reference).await {
            Ok(computed) => {
                let keep = computed.page.total >= CACHED_RESULTS_MIN_TOTAL && spec.near.is_none();
                let computed = Arc::new(computed);
                filler.fill(cache, &computed, keep)?;
                Ok(computed)
            }
            Err(e) => {
                filler.abandon(cache);
                Err(e)
            }
        }
    }

    /// The page `spec` asks for from a computed search of the same words and filters: the page
    /// itself, or another page of its ranked window, whose rows are read by id.
    async fn serve(
        &self,
        spec: &SearchSpec,
        reference: &Reference,
        computed: &cache::Computed,
    ) -> Result<SearchPage> {
        let asked = spec.offset / spec.limit + 1;
        if computed.page.page == asked && computed.page.limit == spec.limit {
            return Ok(computed.page.clone());
        }
        let ranked: Vec<(Uuid, Option<f64>)> = computed
            .ranked
            .iter()
            .skip(usize::try_from(spec.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(spec.limit).unwrap_or_default())
            .copied()
            .collect();
        let mut items = Vec::with_capacity(ranked.len());
        if !ranked.is_empty() {
            let statement =
                search::hits_by_id(ranked.iter().map(|(id, _)| *id).collect(), spec.now_minute);
            // One shape whatever the ids: its generic plan (the primary key) is always right.
            let prepared = self.core.db().prepared_statements();
            let rows = crate::db::read_on!(self.core.db(), None, |client| {
                store::search(client, &statement, prepared).await
            })?;
            let mut hits: std::collections::HashMap<Uuid, store::HitRow> = rows
                .iter()
                .map(|row| store::hit_from_row(row).map(|hit| (hit.id, hit)))
                .collect::<Result<_>>()?;
            // A profile deleted since the ranking is left out.
            for (id, distance_km) in ranked {
                if let Some(mut hit) = hits.remove(&id) {
                    hit.distance_km = distance_km;
                    items.push(search_hit(reference, hit)?);
                }
            }
        }
        Ok(SearchPage {
            items,
            total: computed.page.total,
            page: asked,
            limit: spec.limit,
            facets: computed.page.facets.clone(),
        })
    }

    async fn run_search(
        &self,
        spec: &SearchSpec,
        reference: &Reference,
    ) -> Result<cache::Computed> {
        let statements = search::statements(spec);
        // Searches by filters alone reuse generic plans: their plans do not depend on the values
        // (an index on the filtered columns serves every value), except for the containment
        // filters (`search::reuses_generic_plan`). Text searches are planned for their words: a
        // generic plan cannot tell a name matching ten profiles from a trade matching ten
        // thousand, and was measured slower for them.
        let prepared = search::reuses_generic_plan(spec) && self.core.db().prepared_statements();
        // Public and lag-tolerant: a replica may serve it. One round trip: the statements are
        // pipelined on the connection.
        let results = crate::db::read_on!(self.core.db(), None, |client| {
            futures_util::future::try_join_all(
                statements
                    .iter()
                    .map(|statement| store::search(client, statement, prepared)),
            )
            .await
        })?;
        let mut items = Vec::new();
        let mut ranked = Vec::new();
        let mut facet_rows = Vec::new();
        for row in results.into_iter().flatten() {
            if let Some(facet) = store::facet_from_row(&row)? {
                facet_rows.push(facet);
                continue;
            }
            let (ranked_id, hit) = store::result_from_row(&row)?;
            if let Some(ranked_id) = ranked_id {
                ranked.push(ranked_id);
            }
            if let Some(hit) = hit {
                items.push(search_hit(reference, hit)?);
            }
        }
        let mut facets = SearchFacets::default();
        let mut by_category: BTreeMap<i16, i64> = BTreeMap::new();
        let mut total = 0;
        for facet in facet_rows {
            match facet {
                (Some(category), _, n) => {
                    total += n;
                    // A subcategory's professionals count for each of its ancestors too.
                    let mut current = Some(category);
                    while let Some(id) = current {
                        *by_category.entry(id).or_default() += n;
                        current = reference.category(id)?.parent_id;
                    }
                }
                (None, Some(wilaya), n) => {
                    facets.wilaya.insert(wilaya, n);
                }
                (None, None, _) => {}
            }
        }
        for (id, n) in by_category {
            facets
                .category
                .insert(reference.category(id)?.slug.clone(), n);
        }
        Ok(cache::Computed {
            page: SearchPage {
                items,
                total,
                page: spec.offset / spec.limit + 1,
                limit: spec.limit,
                facets,
            },
            ranked,
        })
    }
}

/// The names of a profile's services: what its search text holds of them.
async fn service_names(
    client: &impl tokio_postgres::GenericClient,
    professional: ProfessionalId,
) -> Result<Vec<String>> {
    Ok(store::services(client, professional)
        .await?
        .into_iter()
        .map(|service| service.name)
        .collect())
}

/// A result as the API shows it.
fn search_hit(reference: &Reference, hit: store::HitRow) -> Result<SearchHit> {
    Ok(SearchHit {
        id: ProfessionalId(hit.id),
        slug: hit.slug,
        display_name: hit.display_name,
        business_name: hit.business_name,
        category: reference.category_ref(hit.category_id)?,
        wilaya: hit.wilaya_code,
        commune: hit.commune,
        latitude: hit.latitude,
        longitude: hit.longitude,
        distance_km: hit.distance_km.map(|km| (km * 100.0).round() / 100.0),
        languages: hit.languages,
        verified: hit.verified,
        open_now: hit.open_now,
        rating: hit.rating,
    })
}

/// A profile's key from a path segment: an id when it parses as one, else a slug (slugs never
/// read as ids).
fn key_of(id_or_slug: &str) -> ProfileKey<'_> {
    match Uuid::parse_str(id_or_slug) {
        Ok(id) => ProfileKey::Id(ProfessionalId(id)),
        Err(_) => ProfileKey::Slug(id_or_slug),
    }
}

/// A profile's id and owner, by id or slug.
async fn profile_id(
    client: &impl tokio_postgres::GenericClient,
    id_or_slug: &str,
) -> Result<(ProfessionalId, crate::api::UserId)> {
    let row = store::profile(client, key_of(id_or_slug), 0, false)
        .await?
        .ok_or(Error::NotFound {
            resource: "professional",
        })?;
    Ok((row.id, row.user_id))
}

/// Whether an insert lost a race for its slug.
fn is_slug_race(err: &Error) -> bool {
    matches!(err, Error::Internal { source, .. } if source
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(|e| e.as_db_error())
        .and_then(|e| e.constraint())
        == Some("professionals_slug_key"))
}

/// A stored profile as the request that would create it.
fn request_of(reference: &Reference, row: &ProfileRow) -> Result<ProfessionalRequest> {
    Ok(ProfessionalRequest {
        display_name: row.display_name.clone(),
        business_name: row.business_name.clone(),
        bio_ar: Some(row.bio_ar.clone()),
        bio_fr: Some(row.bio_fr.clone()),
        category: reference.category(row.category_id)?.slug.clone(),
        wilaya: row.wilaya_code.clone(),
        commune: row.commune.clone(),
        address: Some(row.address.clone()),
        latitude: row.latitude,
        longitude: row.longitude,
        phone: row.phone.clone(),
        email: row.email.clone(),
        website: row.website.clone(),
        languages: row.languages.clone(),
        opening_hours: row.opening_hours.clone(),
        years_experience: row.years_experience,
    })
}

/// Applies an update to a profile's fields.
fn apply(request: &mut ProfessionalRequest, update: ProfessionalUpdate) {
    fn set<T>(target: &mut T, value: Option<T>) {
        if let Some(value) = value {
            *target = value;
        }
    }
    set(&mut request.display_name, update.display_name);
    set(&mut request.business_name, update.business_name);
    set(&mut request.bio_ar, update.bio_ar.map(Some));
    set(&mut request.bio_fr, update.bio_fr.map(Some));
    set(&mut request.category, update.category);
    set(&mut request.wilaya, update.wilaya);
    set(&mut request.commune, update.commune);
    set(&mut request.address, update.address.map(Some));
    set(&mut request.latitude, update.latitude);
    set(&mut request.longitude, update.longitude);
    set(&mut request.phone, update.phone);
    set(&mut request.email, update.email);
    set(&mut request.website, update.website);
    set(&mut request.languages, update.languages);
    set(&mut request.opening_hours, update.opening_hours);
    set(&mut request.years_experience, update.years_experience);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_changes_only_what_it_names() {
        let mut request = ProfessionalRequest {
            display_name: "Karim".to_owned(),
            business_name: Some("Plomberie Karim".to_owned()),
            phone: Some("0551234567".to_owned()),
            ..ProfessionalRequest::default()
        };
        let update: ProfessionalUpdate =
            serde_json::from_str(r#"{"display_name": "Karim B.", "business_name": null}"#)
                .unwrap_or_default();
        apply(&mut request, update);
        assert_eq!(request.display_name, "Karim B.");
        assert_eq!(request.business_name, None);
        assert_eq!(request.phone.as_deref(), Some("0551234567"));
    }
}
