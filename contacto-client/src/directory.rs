//! Directory calls: `client.directory().search().q("plombier").send()`.

use contacto_core::api::{
    Category, Professional, ProfessionalAdminUpdate, ProfessionalId, ProfessionalRequest,
    ProfessionalUpdate, ReplyRequest, Review, ReviewId, ReviewPage, ReviewRequest, ReviewSort,
    SearchPage, SearchQuery, SearchSort, Service, ServiceId, ServiceRequest, ServiceUpdate, Wilaya,
};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Call, Client, path_segment};
use crate::error::Error;

/// Wilayas, categories, professionals' profiles and services, reviews, and search.
pub struct DirectoryApi<'a> {
    client: &'a Client,
}

impl<'a> DirectoryApi<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `GET /api/v1/wilayas`: the 58 wilayas, by code. Public.
    ///
    /// # Errors
    ///
    /// `SERVICE_UNAVAILABLE`.
    pub async fn wilayas(&self) -> Result<Vec<Wilaya>, Error> {
        self.client.get("/api/v1/wilayas").await
    }

    /// `GET /api/v1/categories`: the category tree. Public.
    ///
    /// # Errors
    ///
    /// `SERVICE_UNAVAILABLE`.
    pub async fn categories(&self) -> Result<Vec<Category>, Error> {
        self.client.get("/api/v1/categories").await
    }

    /// `GET /api/v1/categories/{slug}`: a category and its subcategories. Public.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` (an unknown slug); [`Error::Argument`], sending nothing, for a slug that is empty, `.` or `..`.
    pub async fn category(&self, slug: &str) -> Result<Category, Error> {
        let path = format!("/api/v1/categories/{}", path_segment(slug)?);
        self.client.get(&path).await
    }

    /// A search, built one filter at a time, then [`SearchBuilder::send`]. Public.
    pub fn search(&self) -> SearchBuilder<'a> {
        SearchBuilder {
            client: self.client,
            query: SearchQuery::default(),
        }
    }

    /// `POST /api/v1/professionals`: the caller's profile (users with the `professional` role,
    /// one each).
    ///
    /// # Errors
    ///
    /// `FORBIDDEN` (another role), `PROFILE_EXISTS`, `VALIDATION_FAILED` (an unknown category or
    /// wilaya included; see [`Error::invalid_fields`]).
    pub async fn create_profile(
        &self,
        request: &ProfessionalRequest,
    ) -> Result<Professional, Error> {
        self.send(Method::POST, "/api/v1/professionals", Some(request))
            .await
    }

    /// `GET /api/v1/professionals/me`: the caller's profile.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` when the caller has none.
    pub async fn my_profile(&self) -> Result<Professional, Error> {
        self.client.get("/api/v1/professionals/me").await
    }

    /// `PATCH /api/v1/professionals/me`: absent fields stay, `Some(None)` clears optional ones.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` when the caller has no profile, `VALIDATION_FAILED`.
    pub async fn update_profile(&self, update: &ProfessionalUpdate) -> Result<Professional, Error> {
        self.send(Method::PATCH, "/api/v1/professionals/me", Some(update))
            .await
    }

    /// `GET /api/v1/professionals/{id_or_slug}`: a public profile, by id or slug. Public.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`; [`Error::Argument`], sending nothing, for a slug that is empty, `.` or `..`.
    pub async fn profile(&self, id_or_slug: &str) -> Result<Professional, Error> {
        let path = format!("/api/v1/professionals/{}", path_segment(id_or_slug)?);
        self.client.get(&path).await
    }

    /// `PATCH /api/v1/admin/professionals/{id}` (administrators): mark a profile verified, or not.
    ///
    /// # Errors
    ///
    /// `FORBIDDEN`, `NOT_FOUND`.
    pub async fn set_verified(
        &self,
        id: ProfessionalId,
        verified: bool,
    ) -> Result<Professional, Error> {
        let path = format!("/api/v1/admin/professionals/{id}");
        let update = ProfessionalAdminUpdate { verified };
        self.send(Method::PATCH, &path, Some(&update)).await
    }

    /// `POST /api/v1/professionals/me/services`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` when the caller has no profile, `QUOTA_EXCEEDED`, `VALIDATION_FAILED`.
    pub async fn add_service(&self, request: &ServiceRequest) -> Result<Service, Error> {
        self.send(
            Method::POST,
            "/api/v1/professionals/me/services",
            Some(request),
        )
        .await
    }

    /// `PATCH /api/v1/professionals/me/services/{id}`: absent fields stay, `Some(None)` clears.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` (not a service of the caller's), `VALIDATION_FAILED`.
    pub async fn update_service(
        &self,
        id: ServiceId,
        update: &ServiceUpdate,
    ) -> Result<Service, Error> {
        let path = format!("/api/v1/professionals/me/services/{id}");
        self.send(Method::PATCH, &path, Some(update)).await
    }

    /// `DELETE /api/v1/professionals/me/services/{id}`.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` (not a service of the caller's).
    pub async fn remove_service(&self, id: ServiceId) -> Result<(), Error> {
        let path = format!("/api/v1/professionals/me/services/{id}");
        self.send::<(), ()>(Method::DELETE, &path, None).await
    }

    /// `POST /api/v1/professionals/{id_or_slug}/reviews`: once per professional, never one's own.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `FORBIDDEN` (one's own profile), `REVIEW_EXISTS` (edit that review instead),
    /// `VALIDATION_FAILED`; [`Error::Argument`], sending nothing, for a slug that is empty, `.` or `..`.
    pub async fn review(
        &self,
        professional: &str,
        request: &ReviewRequest,
    ) -> Result<Review, Error> {
        let path = format!(
            "/api/v1/professionals/{}/reviews",
            path_segment(professional)?
        );
        self.send(Method::POST, &path, Some(request)).await
    }

    /// `PUT /api/v1/reviews/{id}`: the author replaces their review.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` (not the caller's review), `VALIDATION_FAILED`.
    pub async fn edit_review(
        &self,
        id: ReviewId,
        request: &ReviewRequest,
    ) -> Result<Review, Error> {
        let path = format!("/api/v1/reviews/{id}");
        self.send(Method::PUT, &path, Some(request)).await
    }

    /// `POST /api/v1/reviews/{id}/reply`: the reviewed professional answers, once.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `FORBIDDEN` (anyone but the reviewed professional), `REVIEW_ANSWERED`,
    /// `VALIDATION_FAILED`.
    pub async fn reply(&self, id: ReviewId, text: &str) -> Result<Review, Error> {
        let path = format!("/api/v1/reviews/{id}/reply");
        let request = ReplyRequest {
            text: text.to_owned(),
        };
        self.send(Method::POST, &path, Some(&request)).await
    }

    /// `GET /api/v1/professionals/{id_or_slug}/reviews`: a page of reviews. Public.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND`, `VALIDATION_FAILED` (a page or limit out of range); [`Error::Argument`], sending nothing, for a slug that is empty, `.` or `..`.
    pub async fn reviews(
        &self,
        professional: &str,
        sort: ReviewSort,
        page: Option<i64>,
        limit: Option<i64>,
    ) -> Result<ReviewPage, Error> {
        #[derive(Serialize)]
        struct Query {
            sort: ReviewSort,
            #[serde(skip_serializing_if = "Option::is_none")]
            page: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            limit: Option<i64>,
        }
        let query = serde_urlencoded::to_string(Query { sort, page, limit })
            .map_err(|err| Error::Config(err.to_string()))?;
        let path = format!(
            "/api/v1/professionals/{}/reviews?{query}",
            path_segment(professional)?
        );
        self.client.get(&path).await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        self.client.call(Call::new(method, path, body)).await
    }
}

/// A search of professionals, from [`DirectoryApi::search`]; every filter is optional.
///
/// ```no_run
/// # async fn demo(client: contacto_client::Client) -> Result<(), contacto_client::Error> {
/// use contacto_client::api::SearchSort;
///
/// let page = client
///     .directory()
///     .search()
///     .q("plombier")
///     .wilaya("16")
///     .near(36.72, 3.18, 10.0)
///     .sort(SearchSort::Distance)
///     .limit(20)
///     .send()
///     .await?;
/// println!("{} found", page.total);
/// # Ok(()) }
/// ```
#[must_use = "a search does nothing until it is sent"]
pub struct SearchBuilder<'a> {
    client: &'a Client,
    query: SearchQuery,
}

impl SearchBuilder<'_> {
    /// Free text, in Arabic, French or Latin transliteration.
    pub fn q(mut self, text: impl Into<String>) -> Self {
        self.query.q = Some(text.into());
        self
    }

    /// A category slug (`plombier`); its subcategories are included.
    pub fn category(mut self, slug: impl Into<String>) -> Self {
        self.query.category = Some(slug.into());
        self
    }

    /// A wilaya code (`"16"`).
    pub fn wilaya(mut self, code: impl Into<String>) -> Self {
        self.query.wilaya = Some(code.into());
        self
    }

    /// A commune, matched ignoring accents and case.
    pub fn commune(mut self, commune: impl Into<String>) -> Self {
        self.query.commune = Some(commune.into());
        self
    }

    /// The lowest average rating, 1 to 5.
    pub fn min_rating(mut self, rating: f64) -> Self {
        self.query.min_rating = Some(rating);
        self
    }

    /// Only verified (`true`) or only unverified (`false`) professionals.
    pub fn verified(mut self, verified: bool) -> Self {
        self.query.verified = Some(verified);
        self
    }

    /// With `true`, only those open now (Africa/Algiers time).
    pub fn open_now(mut self, open_now: bool) -> Self {
        self.query.open_now = Some(open_now);
        self
    }

    /// A language spoken (ISO 639: `ar`, `fr`, `en`, `kab`).
    pub fn language(mut self, code: impl Into<String>) -> Self {
        self.query.language = Some(code.into());
        self
    }

    /// Within `radius_km` of a point (degrees); needed by [`SearchSort::Distance`].
    pub fn near(mut self, lat: f64, lng: f64, radius_km: f64) -> Self {
        self.query.lat = Some(lat);
        self.query.lng = Some(lng);
        self.query.radius_km = Some(radius_km);
        self
    }

    /// The order (relevance with text, newest without, by default).
    pub fn sort(mut self, sort: SearchSort) -> Self {
        self.query.sort = Some(sort);
        self
    }

    /// The page, from 1.
    pub fn page(mut self, page: i64) -> Self {
        self.query.page = Some(page);
        self
    }

    /// The page size, 1 to 100 (default 20).
    pub fn limit(mut self, limit: i64) -> Self {
        self.query.limit = Some(limit);
        self
    }

    /// The parameters as they will be sent.
    pub fn query(&self) -> &SearchQuery {
        &self.query
    }

    /// `GET /api/v1/professionals?...`.
    ///
    /// # Errors
    ///
    /// `VALIDATION_FAILED` naming each bad parameter (an unknown category or wilaya, `lat`
    /// without `lng`, a radius or limit out of range, distance order without a point).
    pub async fn send(self) -> Result<SearchPage, Error> {
        let query = serde_urlencoded::to_string(&self.query)
            .map_err(|err| Error::Config(err.to_string()))?;
        let path = if query.is_empty() {
            "/api/v1/professionals".to_owned()
        } else {
            format!("/api/v1/professionals?{query}")
        };
        self.client.get(&path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_their_path_segment() {
        assert_eq!(path_segment("karim-benali-2").unwrap(), "karim-benali-2");
        assert_eq!(path_segment("a/b?c d#").unwrap(), "a%2Fb%3Fc%20d%23");
        assert_eq!(path_segment("é").unwrap(), "%C3%A9");
        assert_eq!(path_segment("...").unwrap(), "...");
        for folded in ["", ".", ".."] {
            assert!(
                matches!(path_segment(folded), Err(Error::Argument(_))),
                "{folded:?}"
            );
        }
    }

    /// `..` would take the call to another resource (`/professionals/../reviews` is
    /// `/reviews`): it is refused before anything is sent. The server here does not listen, so a
    /// call that was sent fails as a transport error instead.
    #[tokio::test]
    async fn a_slug_of_dots_is_refused_before_anything_is_sent() {
        let client = Client::builder("http://127.0.0.1:1")
            .max_retries(0)
            .build()
            .unwrap();
        let directory = client.directory();
        let request = ReviewRequest {
            overall_rating: 5,
            quality_rating: None,
            professionalism_rating: None,
            value_rating: None,
            punctuality_rating: None,
            communication_rating: None,
            text: None,
            would_recommend: true,
        };
        for slug in [".", ".."] {
            let refused = [
                directory.profile(slug).await.map(drop),
                directory.category(slug).await.map(drop),
                directory.review(slug, &request).await.map(drop),
                directory
                    .reviews(slug, ReviewSort::Newest, None, None)
                    .await
                    .map(drop),
            ];
            for err in refused {
                assert!(matches!(err, Err(Error::Argument(_))), "{slug:?}: {err:?}");
            }
        }
        let sent = directory.profile("karim-benali").await.unwrap_err();
        assert!(matches!(sent, Error::Transport { .. }), "{sent:?}");
    }

    #[test]
    fn a_search_is_sent_as_the_servers_parameter_names() {
        let client = Client::builder("http://127.0.0.1:1").build().unwrap();
        let builder = client
            .directory()
            .search()
            .q("plombier bab")
            .category("plombier")
            .wilaya("16")
            .near(36.72, 3.18, 10.0)
            .verified(true)
            .sort(SearchSort::Rating)
            .page(2)
            .limit(20);
        let query = serde_urlencoded::to_string(builder.query()).unwrap();
        assert_eq!(
            query,
            "q=plombier+bab&category=plombier&wilaya=16&verified=true&lat=36.72&lng=3.18\
             &radius_km=10.0&sort=-rating&page=2&limit=20"
        );
    }
}
