//! The directory against real PostgreSQL: profiles, services, reviews and their exact summaries,
//! search relevance in three scripts, filters, facets, and an index behind every filter.

use contacto_core::api::{
    OpeningHours, PriceUnit, ProfessionalAdminUpdate, ProfessionalRequest, ProfessionalUpdate,
    ReplyRequest, ReviewRequest, ReviewSort, Role, SearchQuery, SearchSort, ServiceRequest,
    ServiceUpdate, TimeRange,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, ErrorKind, Principal};

use crate::helpers::{admin, sql, user};

fn profile(name: &str, category: &str, wilaya: &str) -> ProfessionalRequest {
    ProfessionalRequest {
        display_name: name.to_owned(),
        category: category.to_owned(),
        wilaya: wilaya.to_owned(),
        commune: "Centre".to_owned(),
        ..ProfessionalRequest::default()
    }
}

fn always_open() -> OpeningHours {
    let day = || {
        vec![TimeRange {
            open: "00:00".to_owned(),
            close: "24:00".to_owned(),
        }]
    };
    OpeningHours {
        mon: day(),
        tue: day(),
        wed: day(),
        thu: day(),
        fri: day(),
        sat: day(),
        sun: day(),
    }
}

fn review(stars: i16) -> ReviewRequest {
    ReviewRequest {
        overall_rating: stars,
        quality_rating: Some(stars),
        professionalism_rating: None,
        value_rating: None,
        punctuality_rating: None,
        communication_rating: None,
        text: Some("Travail soigné".to_owned()),
        would_recommend: stars >= 3,
    }
}

async fn professional(core: &Contacto, email: &str, request: &ProfessionalRequest) -> Principal {
    let owner = user(core, email, Role::Professional).await;
    core.directory()
        .create_profile(&owner, request)
        .await
        .unwrap();
    owner
}

fn search(q: &str) -> SearchQuery {
    SearchQuery {
        q: Some(q.to_owned()),
        ..SearchQuery::default()
    }
}

#[tokio::test]
async fn reference_data_lists_58_wilayas_and_a_category_tree() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let wilayas = core.directory().wilayas().await.unwrap();
    assert_eq!(wilayas.len(), 58);
    assert_eq!(wilayas[15].code, "16");
    assert_eq!(wilayas[15].name_ar, "الجزائر");
    let tree = core.directory().categories(None).await.unwrap();
    let count = |nodes: &[contacto_core::api::Category]| -> usize {
        nodes.iter().map(|n| 1 + n.children.len()).sum()
    };
    assert!(tree.len() >= 10, "{} roots", tree.len());
    assert!(count(&tree) >= 100, "{} categories", count(&tree));
    assert!(tree.iter().all(|root| root.parent.is_none() && !root.children.is_empty()));
    let health = core.directory().categories(Some("sante")).await.unwrap();
    assert_eq!(health.len(), 1);
    assert!(health[0].children.iter().all(|c| c.parent.as_deref() == Some("sante")));
    let unknown = core.directory().categories(Some("nope")).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_professional_creates_updates_and_is_verified() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = user(&core, "karim@example.dz", Role::Professional).await;
    let mut request = profile("Karim Benali", "plombier", "16");
    request.business_name = Some("Plomberie Benali".to_owned());
    request.bio_fr = Some("Plombier à Bab Ezzouar depuis 2010.".to_owned());
    request.latitude = Some(36.72);
    request.longitude = Some(3.18);
    request.languages = vec!["fr".to_owned(), "ar".to_owned()];
    request.opening_hours = always_open();
    request.years_experience = Some(14);
    let created = core.directory().create_profile(&owner, &request).await.unwrap();
    assert_eq!(created.slug, "karim-benali");
    assert_eq!(created.category.slug, "plombier");
    assert_eq!(created.wilaya.name_fr, "Alger");
    assert!(created.open_now);
    assert!(!created.verified);
    assert_eq!(created.rating.count, 0);
    assert_eq!(created.rating.average, None);
    assert_eq!(created.languages, ["ar", "fr"]);

    // One profile per user.
    let again = core.directory().create_profile(&owner, &request).await.unwrap_err();
    assert_eq!(again.code(), "PROFILE_EXISTS");

    // The same name gets the next free slug.
    let namesake = professional(&core, "karim2@example.dz", &request).await;
    let second = core.directory().my_profile(&namesake).await.unwrap();
    assert_eq!(second.slug, "karim-benali-2");

    let update: ProfessionalUpdate = serde_json::from_value(serde_json::json!({
        "display_name": "Karim B.", "business_name": null, "wilaya": "31"
    }))
    .unwrap();
    let updated = core.directory().update_profile(&owner, &update).await.unwrap();
    assert_eq!(updated.display_name, "Karim B.");
    assert_eq!(updated.business_name, None);
    assert_eq!(updated.wilaya.code, "31");
    assert_eq!(updated.slug, "karim-benali", "the slug keeps links working");
    assert_eq!(updated.bio_fr, request.bio_fr.clone().unwrap());

    let ops = admin(&core).await;
    let verify = ProfessionalAdminUpdate { verified: true };
    let denied = core.directory().administer(&owner, created.id, &verify).await.unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden);
    let verified = core.directory().administer(&ops, created.id, &verify).await.unwrap();
    assert!(verified.verified);
    let by_slug = core.directory().profile("karim-benali").await.unwrap();
    assert_eq!(by_slug.id, created.id);
}

#[tokio::test]
async fn bad_profiles_are_refused_naming_each_field() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = user(&core, "bad@example.dz", Role::Professional).await;
    let customer = user(&core, "customer@example.dz", Role::Customer).await;
    let denied = core
        .directory()
        .create_profile(&customer, &profile("Client", "plombier", "16"))
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden);
    let cases: Vec<(&str, Box<dyn Fn(&mut ProfessionalRequest)>)> = vec![
        ("display_name", Box::new(|r| r.display_name = "K".to_owned())),
        ("category", Box::new(|r| r.category = "astronaut".to_owned())),
        ("wilaya", Box::new(|r| r.wilaya = "59".to_owned())),
        ("latitude", Box::new(|r| { r.latitude = Some(95.0); r.longitude = Some(3.0) })),
        ("longitude", Box::new(|r| r.latitude = Some(36.0))),
        ("phone", Box::new(|r| r.phone = Some("call me".to_owned()))),
        ("website", Box::new(|r| r.website = Some("ftp://x".to_owned()))),
        ("languages", Box::new(|r| r.languages = vec!["French".to_owned()])),
        ("years_experience", Box::new(|r| r.years_experience = Some(200))),
        ("opening_hours", Box::new(|r| r.opening_hours.mon = vec![TimeRange { open: "9h".to_owned(), close: "12:00".to_owned() }])),
    ];
    for (field, spoil) in cases {
        let mut request = profile("Karim", "plombier", "16");
        spoil(&mut request);
        let err = core.directory().create_profile(&owner, &request).await.unwrap_err();
        let fields = err.field_errors().unwrap_or_default();
        assert!(fields.iter().any(|f| f.field == field), "{field}: {err:?}");
    }
    let none = core.directory().my_profile(&owner).await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::NotFound, "nothing was written");
}

#[tokio::test]
async fn services_are_added_changed_removed_and_searchable() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = professional(&core, "svc@example.dz", &profile("Yacine Amrani", "electricien", "09")).await;
    let service = core
        .directory()
        .add_service(
            &owner,
            &ServiceRequest {
                name: "Installation de climatiseur".to_owned(),
                description: None,
                price_min_minor: Some(500_000),
                price_max_minor: Some(1_500_000),
                price_unit: PriceUnit::Project,
                duration_minutes: Some(180),
            },
        )
        .await
        .unwrap();
    let found = core.directory().search(&search("climatiseur")).await.unwrap();
    assert_eq!(found.total, 1, "a service's name is searchable");
    let bad = core
        .directory()
        .update_service(
            &owner,
            service.id,
            &ServiceUpdate {
                price_max_minor: Some(Some(100)),
                ..ServiceUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(bad.field_errors().unwrap()[0].field == "price_max_minor");
    let renamed = core
        .directory()
        .update_service(
            &owner,
            service.id,
            &ServiceUpdate {
                name: Some("Dépannage électrique".to_owned()),
                ..ServiceUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.price_min_minor, Some(500_000));
    assert_eq!(core.directory().search(&search("climatiseur")).await.unwrap().total, 0);
    assert_eq!(core.directory().search(&search("depannage")).await.unwrap().total, 1);
    let stranger = professional(&core, "other@example.dz", &profile("Autre Pro", "electricien", "09")).await;
    let theft = core.directory().remove_service(&stranger, service.id).await.unwrap_err();
    assert_eq!(theft.kind(), ErrorKind::NotFound);
    core.directory().remove_service(&owner, service.id).await.unwrap();
    assert!(core.directory().my_profile(&owner).await.unwrap().services.is_empty());
}

#[tokio::test]
async fn reviews_keep_the_summary_exact_and_follow_the_rules() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = professional(&core, "doc@example.dz", &profile("Dr Samia Khelifi", "pediatrie", "25")).await;
    let pro = core.directory().my_profile(&owner).await.unwrap();
    let own = core.directory().review(&owner, &pro.slug, &review(5)).await.unwrap_err();
    assert_eq!(own.kind(), ErrorKind::Forbidden, "nobody reviews their own profile");

    let alice = user(&core, "alice@example.dz", Role::Customer).await;
    let bob = user(&core, "bob@example.dz", Role::Customer).await;
    let first = core.directory().review(&alice, &pro.slug, &review(5)).await.unwrap();
    core.directory().review(&bob, &pro.id.to_string(), &review(2)).await.unwrap();
    let twice = core.directory().review(&alice, &pro.slug, &review(4)).await.unwrap_err();
    assert_eq!(twice.code(), "REVIEW_EXISTS");
    let bad = core.directory().review(&alice, &pro.slug, &review(6)).await.unwrap_err();
    assert_eq!(bad.field_errors().unwrap()[0].field, "overall_rating");

    let summary = core.directory().profile(&pro.slug).await.unwrap().rating;
    assert_eq!(summary.count, 2);
    assert_eq!(summary.average, Some(3.5));
    assert_eq!(summary.distribution["5"], 1);
    assert_eq!(summary.distribution["2"], 1);

    // Editing moves the review between stars; nobody else may edit it.
    let stolen = core.directory().edit_review(&bob, first.id, &review(1)).await.unwrap_err();
    assert_eq!(stolen.kind(), ErrorKind::NotFound);
    core.directory().edit_review(&alice, first.id, &review(4)).await.unwrap();
    let summary = core.directory().profile(&pro.slug).await.unwrap().rating;
    assert_eq!((summary.count, summary.average), (2, Some(3.0)));
    assert_eq!((summary.distribution["5"], summary.distribution["4"]), (0, 1));

    // The professional answers once.
    let answer = ReplyRequest { text: "Merci !".to_owned() };
    let denied = core.directory().reply(&alice, first.id, &answer).await.unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden);
    let answered = core.directory().reply(&owner, first.id, &answer).await.unwrap();
    assert_eq!(answered.reply.unwrap().text, "Merci !");
    let again = core.directory().reply(&owner, first.id, &answer).await.unwrap_err();
    assert_eq!(again.code(), "REVIEW_ANSWERED");

    let highest = core.directory().reviews(&pro.slug, ReviewSort::Highest, None, None).await.unwrap();
    assert_eq!(highest.total, 2);
    assert_eq!(highest.items[0].overall_rating, 4);
    let lowest = core.directory().reviews(&pro.slug, ReviewSort::Lowest, Some(1), Some(1)).await.unwrap();
    assert_eq!((lowest.items.len(), lowest.items[0].overall_rating), (1, 2));
    let newest = core.directory().reviews(&pro.slug, ReviewSort::Newest, None, None).await.unwrap();
    assert_eq!(newest.items[0].author_id, bob.user_id);
    let too_big = core.directory().reviews(&pro.slug, ReviewSort::Newest, None, Some(101)).await.unwrap_err();
    assert_eq!(too_big.field_errors().unwrap()[0].field, "limit");
}

#[tokio::test]
async fn concurrent_reviews_keep_counts_exact() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = professional(&core, "busy@example.dz", &profile("Atelier Busy", "menuisier", "16")).await;
    let slug = core.directory().my_profile(&owner).await.unwrap().slug;
    let mut authors = Vec::new();
    for i in 0..16 {
        authors.push(user(&core, &format!("r{i}@example.dz"), Role::Customer).await);
    }
    let tasks: Vec<_> = authors
        .into_iter()
        .enumerate()
        .map(|(i, author)| {
            let core = core.clone();
            let slug = slug.clone();
            tokio::spawn(async move {
                let stars = i16::try_from(i % 5).unwrap() + 1;
                core.directory().review(&author, &slug, &review(stars)).await.unwrap();
                stars
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += i64::from(task.await.unwrap());
    }
    let client = sql(db.url()).await;
    let row = client
        .query_one(
            "SELECT p.rating_count::bigint, p.rating_sum::bigint, p.rating_distribution, \
                    (SELECT count(*) FROM reviews r WHERE r.professional_id = p.id), \
                    (SELECT sum(overall_rating)::bigint FROM reviews r WHERE r.professional_id = p.id) \
             FROM professionals p WHERE slug = $1",
            &[&slug],
        )
        .await
        .unwrap();
    let (count, stored_sum, distribution, actual, actual_sum): (i64, i64, Vec<i32>, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    assert_eq!((count, actual), (16, 16));
    assert_eq!((stored_sum, actual_sum), (sum, sum));
    assert_eq!(distribution, [4, 3, 3, 3, 3]);
}

#[tokio::test]
async fn search_filters_sorts_and_counts_facets() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut oran = profile("Hakim Plomberie", "plombier", "31");
    oran.latitude = Some(35.6971);
    oran.longitude = Some(-0.6308);
    oran.languages = vec!["ar".to_owned(), "fr".to_owned()];
    oran.opening_hours = always_open();
    let hakim = professional(&core, "hakim@example.dz", &oran).await;
    let mut alger = profile("Sofiane Sanitaire", "plombier", "16");
    alger.latitude = Some(36.7538);
    alger.longitude = Some(3.0588);
    alger.commune = "Bab Ezzouar".to_owned();
    alger.languages = vec!["fr".to_owned()];
    professional(&core, "sofiane@example.dz", &alger).await;
    let mut lawyer = profile("Maître Nadia Ait", "droit-famille", "16");
    lawyer.latitude = Some(36.76);
    lawyer.longitude = Some(3.05);
    professional(&core, "nadia@example.dz", &lawyer).await;
    let ops = admin(&core).await;
    let hakim_id = core.directory().my_profile(&hakim).await.unwrap().id;
    core.directory()
        .administer(&ops, hakim_id, &ProfessionalAdminUpdate { verified: true })
        .await
        .unwrap();

    let all = core.directory().search(&SearchQuery::default()).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.facets.wilaya["16"], 2);
    assert_eq!(all.facets.category["plombier"], 2);
    assert_eq!(all.facets.category["artisans-services"], 2, "a root counts its subcategories");
    assert_eq!(all.facets.category["droit"], 1);

    let cases: Vec<(SearchQuery, &[&str])> = vec![
        (SearchQuery { category: Some("artisans-services".into()), ..Default::default() }, &["Sofiane Sanitaire", "Hakim Plomberie"]),
        (SearchQuery { wilaya: Some("31".into()), ..Default::default() }, &["Hakim Plomberie"]),
        (SearchQuery { commune: Some("bab-ezzouar".into()), ..Default::default() }, &["Sofiane Sanitaire"]),
        (SearchQuery { verified: Some(true), ..Default::default() }, &["Hakim Plomberie"]),
        (SearchQuery { open_now: Some(true), ..Default::default() }, &["Hakim Plomberie"]),
        (SearchQuery { language: Some("ar".into()), ..Default::default() }, &["Hakim Plomberie"]),
        (SearchQuery { lat: Some(36.75), lng: Some(3.06), radius_km: Some(10.0), sort: Some(SearchSort::Distance), ..Default::default() }, &["Sofiane Sanitaire", "Maître Nadia Ait"]),
        (SearchQuery { q: Some("plombier".into()), wilaya: Some("16".into()), ..Default::default() }, &["Sofiane Sanitaire"]),
    ];
    for (query, expected) in cases {
        let page = core.directory().search(&query).await.unwrap();
        let names: Vec<&str> = page.items.iter().map(|hit| hit.display_name.as_str()).collect();
        assert_eq!(names, expected, "{query:?}");
        assert_eq!(page.total, i64::try_from(expected.len()).unwrap(), "{query:?}");
    }
    let near = core
        .directory()
        .search(&SearchQuery { lat: Some(36.75), lng: Some(3.06), sort: Some(SearchSort::Distance), ..Default::default() })
        .await
        .unwrap();
    let distance = near.items[0].distance_km.unwrap();
    assert!((0.0..2.0).contains(&distance), "{distance}");

    let paged = core.directory().search(&SearchQuery { limit: Some(1), page: Some(2), ..Default::default() }).await.unwrap();
    assert_eq!((paged.items.len(), paged.total, paged.page, paged.limit), (1, 3, 2, 1));
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let cases: Vec<(SearchQuery, &str)> = vec![
        (SearchQuery { lat: Some(36.0), ..Default::default() }, "lng"),
        (SearchQuery { lat: Some(36.0), lng: Some(3.0), radius_km: Some(5000.0), ..Default::default() }, "radius_km"),
        (SearchQuery { radius_km: Some(5.0), ..Default::default() }, "radius_km"),
        (SearchQuery { limit: Some(101), ..Default::default() }, "limit"),
        (SearchQuery { page: Some(0), ..Default::default() }, "page"),
        (SearchQuery { category: Some("astronaut".into()), ..Default::default() }, "category"),
        (SearchQuery { wilaya: Some("99".into()), ..Default::default() }, "wilaya"),
        (SearchQuery { min_rating: Some(7.0), ..Default::default() }, "min_rating"),
        (SearchQuery { sort: Some(SearchSort::Distance), ..Default::default() }, "sort"),
        (SearchQuery { language: Some("FRENCH".into()), ..Default::default() }, "language"),
    ];
    for (query, field) in cases {
        let err = core.directory().search(&query).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{field}");
        assert!(err.field_errors().unwrap().iter().any(|f| f.field == field), "{field}: {err:?}");
    }
}
