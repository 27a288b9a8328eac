//! The directory over HTTP: profiles, services, reviews and search, with the real server, the real
//! client and real PostgreSQL; then raw HTTP for what integrations see on the wire.

use contacto_client::Client;
use contacto_client::api::{
    PriceUnit, Professional, ProfessionalRequest, ProfessionalUpdate, ReviewRequest, ReviewSort,
    Role, SearchSort, ServiceRequest, ServiceUpdate,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Alger centre, for the profile's coordinates.
const ALGIERS: (f64, f64) = (36.7538, 3.0588);

fn karim() -> ProfessionalRequest {
    ProfessionalRequest {
        display_name: "Karim Benali".into(),
        business_name: Some("Plomberie Benali".into()),
        bio_fr: Some("Plombier depuis quinze ans, dépannage rapide.".into()),
        category: "plombier".into(),
        wilaya: "16".into(),
        commune: "Bab Ezzouar".into(),
        latitude: Some(ALGIERS.0),
        longitude: Some(ALGIERS.1),
        phone: Some("0551 23 45 67".into()),
        languages: vec!["fr".into(), "ar".into()],
        years_experience: Some(15),
        ..ProfessionalRequest::default()
    }
}

fn review(overall_rating: i16, text: &str) -> ReviewRequest {
    ReviewRequest {
        overall_rating,
        quality_rating: Some(overall_rating),
        professionalism_rating: None,
        value_rating: None,
        punctuality_rating: None,
        communication_rating: None,
        text: Some(text.to_owned()),
        would_recommend: overall_rating >= 4,
    }
}

/// A registered professional with a profile.
async fn professional(app: &TestApp, email: &str) -> (Client, Professional) {
    let session = app.register(email, Role::Professional).await;
    let client = app.client.with_token(&session.token);
    let profile = client.directory().create_profile(&karim()).await.unwrap();
    (client, profile)
}

/// A client logged in as a fresh administrator.
async fn admin(app: &TestApp) -> Client {
    app.client.with_token(&app.admin_session().await.token)
}

#[tokio::test]
async fn a_profile_is_created_then_read_by_id_by_slug_and_by_its_owner() {
    let app = spawn_app().await;
    let (karim_client, created) = professional(&app, "karim@example.dz").await;
    assert_eq!(created.slug, "karim-benali");
    assert_eq!(created.category.slug, "plombier");
    assert_eq!(created.wilaya.code, "16");
    assert_eq!(created.languages, ["ar", "fr"], "sorted");
    assert!(!created.verified);
    assert_eq!((created.rating.count, created.rating.average), (0, None));

    let anonymous = app.client.directory();
    assert_eq!(
        anonymous.profile(&created.id.to_string()).await.unwrap(),
        created
    );
    assert_eq!(anonymous.profile("karim-benali").await.unwrap(), created);
    assert_eq!(
        karim_client.directory().my_profile().await.unwrap(),
        created
    );

    // A namesake gets a slug of their own.
    let (_, namesake) = professional(&app, "karim2@example.dz").await;
    assert_eq!(namesake.slug, "karim-benali-2");

    let err = anonymous.profile("nobody-here").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("NOT_FOUND")));
}

#[tokio::test]
async fn profiles_are_refused_to_other_roles_twice_and_with_unknown_references() {
    let app = spawn_app().await;
    let customer = app.register("amina@example.dz", Role::Customer).await;
    let err = app
        .client
        .with_token(&customer.token)
        .directory()
        .create_profile(&karim())
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("FORBIDDEN")));
    let err = app
        .client
        .with_token(&customer.token)
        .directory()
        .my_profile()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"), "a customer has no profile");

    let (karim_client, _) = professional(&app, "karim@example.dz").await;
    let err = karim_client
        .directory()
        .create_profile(&karim())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("PROFILE_EXISTS"))
    );

    let session = app.register("nadia@example.dz", Role::Professional).await;
    let bad = ProfessionalRequest {
        category: "nope".into(),
        wilaya: "99".into(),
        ..karim()
    };
    let err = app
        .client
        .with_token(&session.token)
        .directory()
        .create_profile(&bad)
        .await
        .unwrap_err();
    let mut fields = err.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["category", "wilaya"], "{err}");
    assert_eq!(app.count("professionals").await, 1);
}

#[tokio::test]
async fn the_owner_changes_the_profile_and_its_services() {
    let app = spawn_app().await;
    let (karim_client, created) = professional(&app, "karim@example.dz").await;
    let directory = karim_client.directory();

    let updated = directory
        .update_profile(&ProfessionalUpdate {
            display_name: Some("Karim B.".into()),
            business_name: Some(None),
            commune: Some("El Harrach".into()),
            ..ProfessionalUpdate::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.display_name, "Karim B.");
    assert_eq!(updated.business_name, None, "null clears");
    assert_eq!(updated.commune, "El Harrach");
    assert_eq!(updated.phone, created.phone, "absent fields stay");
    assert_eq!(updated.slug, created.slug, "links keep working");

    let service = directory
        .add_service(&ServiceRequest {
            name: "Débouchage de canalisations".into(),
            description: Some("Évier, douche, WC.".into()),
            price_min_minor: Some(200_000),
            price_max_minor: Some(500_000),
            price_unit: PriceUnit::Visit,
            duration_minutes: Some(60),
        })
        .await
        .unwrap();
    assert_eq!(service.price_unit, PriceUnit::Visit);
    let changed = directory
        .update_service(
            service.id,
            &ServiceUpdate {
                price_max_minor: Some(None),
                duration_minutes: Some(Some(90)),
                ..ServiceUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.price_min_minor,
            changed.price_max_minor,
            changed.duration_minutes
        ),
        (Some(200_000), None, Some(90))
    );
    let public = app.client.directory().profile(&created.slug).await.unwrap();
    assert_eq!(public.services, [changed]);

    // The service's name makes the profile findable.
    let found = app
        .client
        .directory()
        .search()
        .q("canalisations")
        .send()
        .await
        .unwrap();
    assert_eq!(found.total, 1);

    let bad = directory
        .add_service(&ServiceRequest {
            name: "x".into(),
            description: None,
            price_min_minor: Some(500),
            price_max_minor: Some(100),
            price_unit: PriceUnit::Hour,
            duration_minutes: None,
        })
        .await
        .unwrap_err();
    let mut fields = bad.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["name", "price_max_minor"]);

    // Someone else cannot touch it.
    let (other, _) = professional(&app, "other@example.dz").await;
    let err = other
        .directory()
        .remove_service(service.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"));

    directory.remove_service(service.id).await.unwrap();
    assert!(directory.my_profile().await.unwrap().services.is_empty());
    let err = directory.remove_service(service.id).await.unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"), "already removed");
}

#[tokio::test]
async fn search_finds_by_text_place_and_distance_with_facets() {
    let app = spawn_app().await;
    let (_, karim) = professional(&app, "karim@example.dz").await;
    let session = app.register("sara@example.dz", Role::Professional).await;
    let oran = app
        .client
        .with_token(&session.token)
        .directory()
        .create_profile(&ProfessionalRequest {
            display_name: "Sara Meziane".into(),
            category: "electricien".into(),
            wilaya: "31".into(),
            commune: "Oran".into(),
            latitude: Some(35.6971),
            longitude: Some(-0.6308),
            ..ProfessionalRequest::default()
        })
        .await
        .unwrap();
    let directory = app.client.directory();

    let all = directory.search().send().await.unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.facets.wilaya.get("16"), Some(&1));
    assert_eq!(all.facets.wilaya.get("31"), Some(&1));
    assert_eq!(all.facets.category.get("plombier"), Some(&1));
    assert_eq!(
        all.facets.category.get("artisans-services"),
        Some(&2),
        "a root counts its subcategories"
    );

    let plumbers = directory
        .search()
        .q("plombier")
        .category("plombier")
        .wilaya("16")
        .send()
        .await
        .unwrap();
    assert_eq!(plumbers.total, 1);
    assert_eq!(plumbers.items[0].id, karim.id);
    assert_eq!(plumbers.items[0].slug, "karim-benali");

    // Arabic finds the French-named category; Latin transliteration finds Arabic.
    let arabic = directory.search().q("سباك").send().await.unwrap();
    assert_eq!(arabic.items.first().map(|hit| hit.id), Some(karim.id));

    let near = directory
        .search()
        .near(36.72, 3.18, 50.0)
        .sort(SearchSort::Distance)
        .send()
        .await
        .unwrap();
    assert_eq!(near.total, 1, "Oran is 350 km away");
    let distance = near.items[0].distance_km.unwrap();
    assert!((5.0..20.0).contains(&distance), "{distance}");

    let everywhere = directory
        .search()
        .near(36.72, 3.18, 500.0)
        .sort(SearchSort::Distance)
        .limit(1)
        .page(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (everywhere.total, everywhere.page, everywhere.limit),
        (2, 2, 1)
    );
    assert_eq!(everywhere.items[0].id, oran.id, "the farther one second");

    let none = directory
        .search()
        .wilaya("31")
        .language("kab")
        .send()
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));

    let err = directory
        .search()
        .near(36.72, 3.18, 1000.0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.invalid_fields(), ["radius_km"]);
}

#[tokio::test]
async fn a_customer_reviews_once_the_professional_answers_once_and_an_admin_verifies() {
    let app = spawn_app().await;
    let (karim_client, karim) = professional(&app, "karim@example.dz").await;
    let amina = app.register("amina@example.dz", Role::Customer).await;
    let amina_client = app.client.with_token(&amina.token);

    let written = amina_client
        .directory()
        .review(
            "karim-benali",
            &review(3, "Travail correct, un peu en retard."),
        )
        .await
        .unwrap();
    assert_eq!(written.professional_id, karim.id);
    assert_eq!(written.author_id, amina.user.id);
    assert_eq!(written.overall_rating, 3);
    assert!(written.reply.is_none());

    let err = amina_client
        .directory()
        .review(&karim.id.to_string(), &review(5, "Encore !"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("REVIEW_EXISTS"))
    );
    let err = karim_client
        .directory()
        .review("karim-benali", &review(5, "Moi-même"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("FORBIDDEN"), "never one's own profile");
    let err = amina_client
        .directory()
        .review(
            "karim-benali",
            &ReviewRequest {
                quality_rating: None,
                ..review(6, "Trop bien")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.invalid_fields(), ["overall_rating"]);

    let edited = amina_client
        .directory()
        .edit_review(written.id, &review(5, "Finalement parfait."))
        .await
        .unwrap();
    assert_eq!(edited.overall_rating, 5);
    let err = karim_client
        .directory()
        .edit_review(written.id, &review(1, "Pas le mien"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"), "only the author edits");

    let err = amina_client
        .directory()
        .reply(written.id, "Je réponds à ma place")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("FORBIDDEN"));
    let answered = karim_client
        .directory()
        .reply(written.id, "Merci beaucoup !")
        .await
        .unwrap();
    assert_eq!(
        answered.reply.as_ref().map(|reply| reply.text.as_str()),
        Some("Merci beaucoup !")
    );
    let err = karim_client
        .directory()
        .reply(written.id, "Encore merci")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("REVIEW_ANSWERED"))
    );

    let page = app
        .client
        .directory()
        .reviews("karim-benali", ReviewSort::Highest, Some(1), Some(10))
        .await
        .unwrap();
    assert_eq!((page.total, page.page, page.limit), (1, 1, 10));
    assert_eq!(page.items, [answered]);
    let profile = app
        .client
        .directory()
        .profile("karim-benali")
        .await
        .unwrap();
    assert_eq!(
        (profile.rating.count, profile.rating.average),
        (1, Some(5.0))
    );
    assert_eq!(profile.rating.distribution.get("5"), Some(&1));

    let err = amina_client
        .directory()
        .set_verified(karim.id, true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("FORBIDDEN"));
    let verified = admin(&app)
        .await
        .directory()
        .set_verified(karim.id, true)
        .await
        .unwrap();
    assert!(verified.verified);
    let found = app
        .client
        .directory()
        .search()
        .verified(true)
        .min_rating(4.5)
        .send()
        .await
        .unwrap();
    assert_eq!(found.items.first().map(|hit| hit.id), Some(karim.id));

    // The badge vouches for a name and a trade: a new biography keeps it, a new name does not.
    let rewritten = karim_client
        .directory()
        .update_profile(&ProfessionalUpdate {
            bio_fr: Some("Plombier et chauffagiste.".into()),
            display_name: Some("Karim Benali".into()),
            ..ProfessionalUpdate::default()
        })
        .await
        .unwrap();
    assert!(
        rewritten.verified,
        "the same name sent again changes nothing"
    );
    let renamed = karim_client
        .directory()
        .update_profile(&ProfessionalUpdate {
            display_name: Some("Dr Karim Benali".into()),
            ..ProfessionalUpdate::default()
        })
        .await
        .unwrap();
    assert!(!renamed.verified);
    let found = app
        .client
        .directory()
        .search()
        .verified(true)
        .send()
        .await
        .unwrap();
    assert_eq!(found.total, 0, "{found:?}");
}

#[tokio::test]
async fn wilayas_and_categories_are_public_reference_data() {
    let app = spawn_app().await;
    let directory = app.client.directory();
    let wilayas = directory.wilayas().await.unwrap();
    assert_eq!(wilayas.len(), 58);
    assert_eq!(wilayas[15].code, "16");
    let tree = directory.categories().await.unwrap();
    let artisans = tree
        .iter()
        .find(|category| category.slug == "artisans-services")
        .unwrap();
    assert!(
        artisans
            .children
            .iter()
            .any(|child| child.slug == "plombier")
    );
    let plombier = directory.category("plombier").await.unwrap();
    assert_eq!(plombier.parent.as_deref(), Some("artisans-services"));
    let root = directory.category("artisans-services").await.unwrap();
    assert_eq!(&root, artisans);
    let err = directory.category("nope").await.unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"));
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn field_names(body: &Value) -> Vec<&str> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|fields| fields.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn bad_search_parameters_are_400s_naming_the_parameter() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let cases = [
        ("lat=36.7", "lng", "lat without lng"),
        ("limit=1000", "limit", "over the page cap"),
        ("sort=bogus", "sort", "not a sort"),
        ("category=nope", "category", "no such category"),
        ("wilaya=99", "wilaya", "no such wilaya"),
        ("lat=abc&lng=3", "lat", "not a number"),
        ("verified=maybe", "verified", "not a boolean"),
        ("sort=distance", "sort", "distance without a point"),
        ("wilya=16", "wilya", "an unknown parameter"),
        // An empty value counts as absent (a form's empty field); these stay 400s all the same.
        ("lat=36.7&lng=", "lng", "lat with an empty lng"),
        (
            "category=&category=",
            "category",
            "a parameter given twice, empty",
        ),
        ("wilya=", "wilya", "an unknown parameter, empty"),
    ];
    for (query, field, why) in cases {
        let response = http
            .get(app.url(&format!("/api/v1/professionals?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{why}");
        let body = json_of(response).await;
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{why}");
        assert_eq!(field_names(&body), [field], "{why}: {body}");
    }
    let response = http
        .get(app.url("/api/v1/professionals/nobody/reviews?sort=best"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(field_names(&json_of(response).await), ["sort"]);
}

#[tokio::test]
async fn a_search_form_with_empty_fields_searches_without_them() {
    let app = spawn_app().await;
    let (_, karim) = professional(&app, "karim@example.dz").await;
    let http = reqwest::Client::new();
    // What a browser sends for a GET form with only the text box filled in.
    let form = "q=plombier&category=&wilaya=&commune=&min_rating=&verified=&open_now=\
                &language=&lat=&lng=&radius_km=&sort=&page=&limit=";
    let response = http
        .get(app.url(&format!("/api/v1/professionals?{form}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    assert_eq!(body["data"]["total"], 1, "{body}");
    assert_eq!(body["data"]["items"][0]["id"], karim.id.to_string());
    assert_eq!(
        (&body["data"]["page"], &body["data"]["limit"]),
        (&json!(1), &json!(20))
    );
    // The empty values that stay 400s are rows of the table of
    // `bad_search_parameters_are_400s_naming_the_parameter`.
}

#[tokio::test]
async fn writes_need_credentials_and_reads_ignore_them_like_health() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let anonymous = http
        .post(app.url("/api/v1/professionals"))
        .json(&json!({"display_name": "Karim", "category": "plombier", "wilaya": "16", "commune": "Alger"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"contacto\""
    );
    assert_eq!(json_of(anonymous).await["error"]["code"], "UNAUTHENTICATED");
    let mine = http
        .get(app.url("/api/v1/professionals/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), StatusCode::UNAUTHORIZED, "me is not a slug");
    assert_eq!(app.count("professionals").await, 0);

    // Public reads answer whatever the Authorization header says, as /health does.
    for path in [
        "/health",
        "/api/v1/wilayas",
        "/api/v1/categories/plombier",
        "/api/v1/professionals?q=plombier",
    ] {
        let response = http
            .get(app.url(path))
            .header("authorization", "Bearer not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_wire_has_201_204_and_metrics_by_template() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let session = app.register("karim@example.dz", Role::Professional).await;
    let bearer = format!("Bearer {}", session.token);
    let created = http
        .post(app.url("/api/v1/professionals"))
        .header("authorization", &bearer)
        .json(&json!({"display_name": "Karim Benali", "category": "plombier", "wilaya": "16", "commune": "Bab Ezzouar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let body = json_of(created).await;
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["slug"], "karim-benali");
    assert_eq!(body["data"]["wilaya"]["name_fr"], "Alger");

    let added = http
        .post(app.url("/api/v1/professionals/me/services"))
        .header("authorization", &bearer)
        .json(&json!({"name": "Dépannage", "price_unit": "hour"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let id = json_of(added).await["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = http
        .delete(app.url(&format!("/api/v1/professionals/me/services/{id}")))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert!(removed.bytes().await.unwrap().is_empty());

    let unknown_field = http
        .patch(app.url("/api/v1/professionals/me"))
        .header("authorization", &bearer)
        .json(&json!({"nickname": "KB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), StatusCode::BAD_REQUEST);
    // `null` where a field cannot be cleared is refused, naming it, not read as "unchanged".
    let null_bio = http
        .patch(app.url("/api/v1/professionals/me"))
        .header("authorization", &bearer)
        .json(&json!({"bio_fr": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(null_bio.status(), StatusCode::BAD_REQUEST);
    let body = json_of(null_bio).await;
    assert!(body.to_string().contains("bio_fr"), "{body}");
    let emptied = http
        .patch(app.url("/api/v1/professionals/me"))
        .header("authorization", &bearer)
        .json(&json!({"bio_fr": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(emptied.status(), StatusCode::OK);
    assert_eq!(json_of(emptied).await["data"]["bio_fr"], "");

    for path in [
        "/api/v1/professionals/karim-benali",
        "/api/v1/professionals/karim-benali/reviews",
    ] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let metrics = http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"contacto_http_requests_total{method="GET",route="/api/v1/professionals/{id_or_slug}",status="200"} 1"#,
        r#"contacto_http_requests_total{method="GET",route="/api/v1/professionals/{id_or_slug}/reviews",status="200"} 1"#,
        r#"contacto_http_requests_total{method="DELETE",route="/api/v1/professionals/me/services/{id}",status="204"} 1"#,
    ] {
        assert!(metrics.contains(series), "{series}");
    }
    assert!(!metrics.contains("karim-benali"), "no slug in a label");
    assert!(!metrics.contains(&id), "no id in a label");
}
