//! The directory against real PostgreSQL: profiles, services, reviews and their exact summaries,
//! search relevance in three scripts, filters, facets, and an index behind every filter.

use contacto_core::api::{
    OpeningHours, PriceUnit, ProfessionalAdminUpdate, ProfessionalRequest, ProfessionalUpdate,
    ReplyRequest, ReviewRequest, ReviewSort, Role, SearchQuery, SearchSort, ServiceRequest,
    ServiceUpdate, TimeRange,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, ErrorKind, Principal};

use crate::helpers::{admin, metric, sql, user};

/// Breaks one field of a valid request.
type Spoil = Box<dyn Fn(&mut ProfessionalRequest)>;

/// A query, a wilaya filter, who must be on the first page, who must not match, and why.
type RelevanceCase<'a> = (
    &'a str,
    Option<&'a str>,
    &'a [&'a str],
    &'a [&'a str],
    &'a str,
);

pub(crate) fn profile(name: &str, category: &str, wilaya: &str) -> ProfessionalRequest {
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

pub(crate) fn review(stars: i16) -> ReviewRequest {
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

pub(crate) async fn professional(
    core: &Contacto,
    email: &str,
    request: &ProfessionalRequest,
) -> Principal {
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
    assert!(
        tree.iter()
            .all(|root| root.parent.is_none() && !root.children.is_empty())
    );
    let health = core.directory().categories(Some("sante")).await.unwrap();
    assert_eq!(health.len(), 1);
    assert!(
        health[0]
            .children
            .iter()
            .all(|c| c.parent.as_deref() == Some("sante"))
    );
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
    let created = core
        .directory()
        .create_profile(&owner, &request)
        .await
        .unwrap();
    assert_eq!(created.slug, "karim-benali");
    assert_eq!(created.category.slug, "plombier");
    assert_eq!(created.wilaya.name_fr, "Alger");
    assert!(created.open_now);
    assert!(!created.verified);
    assert_eq!(created.rating.count, 0);
    assert_eq!(created.rating.average, None);
    assert_eq!(created.languages, ["ar", "fr"]);

    // One profile per user.
    let again = core
        .directory()
        .create_profile(&owner, &request)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "PROFILE_EXISTS");

    // The same name gets the next free slug.
    let namesake = professional(&core, "karim2@example.dz", &request).await;
    let second = core.directory().my_profile(&namesake).await.unwrap();
    assert_eq!(second.slug, "karim-benali-2");

    let update: ProfessionalUpdate = serde_json::from_value(serde_json::json!({
        "display_name": "Karim B.", "business_name": null, "wilaya": "31"
    }))
    .unwrap();
    let updated = core
        .directory()
        .update_profile(&owner, &update)
        .await
        .unwrap();
    assert_eq!(updated.display_name, "Karim B.");
    assert_eq!(updated.business_name, None);
    assert_eq!(updated.wilaya.code, "31");
    assert_eq!(updated.slug, "karim-benali", "the slug keeps links working");
    assert_eq!(updated.bio_fr, request.bio_fr.clone().unwrap());

    let ops = admin(&core).await;
    let verify = ProfessionalAdminUpdate { verified: true };
    let denied = core
        .directory()
        .administer(&owner, created.id, &verify)
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden);
    let verified = core
        .directory()
        .administer(&ops, created.id, &verify)
        .await
        .unwrap();
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
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "business_name",
            Box::new(|r| r.business_name = Some("Plomberie\u{0}Benali".to_owned())),
        ),
        (
            "display_name",
            Box::new(|r| r.display_name = "K".to_owned()),
        ),
        (
            "category",
            Box::new(|r| r.category = "astronaut".to_owned()),
        ),
        ("wilaya", Box::new(|r| r.wilaya = "59".to_owned())),
        (
            "latitude",
            Box::new(|r| {
                r.latitude = Some(95.0);
                r.longitude = Some(3.0)
            }),
        ),
        ("longitude", Box::new(|r| r.latitude = Some(36.0))),
        ("phone", Box::new(|r| r.phone = Some("call me".to_owned()))),
        // Valid digits, but longer than the column keeps: a 400, not the database's refusal.
        (
            "phone",
            Box::new(|r| r.phone = Some(format!("0551{}234567", " ".repeat(30)))),
        ),
        (
            "phone",
            Box::new(|r| r.phone = Some(format!("{}0551234567", "+".repeat(2)))),
        ),
        (
            "website",
            Box::new(|r| r.website = Some("ftp://x".to_owned())),
        ),
        (
            "email",
            Box::new(|r| r.email = Some("a\u{7}b@example.dz".to_owned())),
        ),
        (
            "email",
            Box::new(|r| r.email = Some("a\u{0}b@example.dz".to_owned())),
        ),
        (
            "languages",
            Box::new(|r| r.languages = vec!["French".to_owned()]),
        ),
        (
            "years_experience",
            Box::new(|r| r.years_experience = Some(200)),
        ),
        (
            "opening_hours",
            Box::new(|r| {
                r.opening_hours.mon = vec![TimeRange {
                    open: "9h".to_owned(),
                    close: "12:00".to_owned(),
                }]
            }),
        ),
    ];
    for (field, spoil) in cases {
        let mut request = profile("Karim", "plombier", "16");
        spoil(&mut request);
        let err = core
            .directory()
            .create_profile(&owner, &request)
            .await
            .unwrap_err();
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
    let owner = professional(
        &core,
        "svc@example.dz",
        &profile("Yacine Amrani", "electricien", "09"),
    )
    .await;
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
    let found = core
        .directory()
        .search(&search("climatiseur"))
        .await
        .unwrap();
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
    assert_eq!(
        core.directory()
            .search(&search("climatiseur"))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        core.directory()
            .search(&search("depannage"))
            .await
            .unwrap()
            .total,
        1
    );
    let stranger = professional(
        &core,
        "other@example.dz",
        &profile("Autre Pro", "electricien", "09"),
    )
    .await;
    let theft = core
        .directory()
        .remove_service(&stranger, service.id)
        .await
        .unwrap_err();
    assert_eq!(theft.kind(), ErrorKind::NotFound);
    // A name is measured and kept trimmed: padding past the column's 120 characters is not a
    // database error.
    let padded = core
        .directory()
        .update_service(
            &owner,
            service.id,
            &ServiceUpdate {
                name: Some(format!("Dépannage{}", " ".repeat(119))),
                ..ServiceUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(padded.name, "Dépannage");
    core.directory()
        .remove_service(&owner, service.id)
        .await
        .unwrap();
    assert!(
        core.directory()
            .my_profile(&owner)
            .await
            .unwrap()
            .services
            .is_empty()
    );
}

#[tokio::test]
async fn reviews_keep_the_summary_exact_and_follow_the_rules() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = professional(
        &core,
        "doc@example.dz",
        &profile("Dr Samia Khelifi", "pediatrie", "25"),
    )
    .await;
    let pro = core.directory().my_profile(&owner).await.unwrap();
    let own = core
        .directory()
        .review(&owner, &pro.slug, &review(5))
        .await
        .unwrap_err();
    assert_eq!(
        own.kind(),
        ErrorKind::Forbidden,
        "nobody reviews their own profile"
    );

    let alice = user(&core, "alice@example.dz", Role::Customer).await;
    let bob = user(&core, "bob@example.dz", Role::Customer).await;
    let first = core
        .directory()
        .review(&alice, &pro.slug, &review(5))
        .await
        .unwrap();
    core.directory()
        .review(&bob, &pro.id.to_string(), &review(2))
        .await
        .unwrap();
    let twice = core
        .directory()
        .review(&alice, &pro.slug, &review(4))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), "REVIEW_EXISTS");
    let bad = core
        .directory()
        .review(&alice, &pro.slug, &review(6))
        .await
        .unwrap_err();
    assert_eq!(bad.field_errors().unwrap()[0].field, "overall_rating");

    let summary = core.directory().profile(&pro.slug).await.unwrap().rating;
    assert_eq!(summary.count, 2);
    assert_eq!(summary.average, Some(3.5));
    assert_eq!(summary.distribution["5"], 1);
    assert_eq!(summary.distribution["2"], 1);

    // Editing moves the review between stars; nobody else may edit it.
    let stolen = core
        .directory()
        .edit_review(&bob, first.id, &review(1))
        .await
        .unwrap_err();
    assert_eq!(stolen.kind(), ErrorKind::NotFound);
    core.directory()
        .edit_review(&alice, first.id, &review(4))
        .await
        .unwrap();
    let summary = core.directory().profile(&pro.slug).await.unwrap().rating;
    assert_eq!((summary.count, summary.average), (2, Some(3.0)));
    assert_eq!(
        (summary.distribution["5"], summary.distribution["4"]),
        (0, 1)
    );

    // The professional answers once.
    let answer = ReplyRequest {
        text: "Merci !".to_owned(),
    };
    let denied = core
        .directory()
        .reply(&alice, first.id, &answer)
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden);
    let answered = core
        .directory()
        .reply(&owner, first.id, &answer)
        .await
        .unwrap();
    assert_eq!(answered.reply.unwrap().text, "Merci !");
    let again = core
        .directory()
        .reply(&owner, first.id, &answer)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "REVIEW_ANSWERED");

    let highest = core
        .directory()
        .reviews(&pro.slug, ReviewSort::Highest, None, None)
        .await
        .unwrap();
    assert_eq!(highest.total, 2);
    assert_eq!(highest.items[0].overall_rating, 4);
    let lowest = core
        .directory()
        .reviews(&pro.slug, ReviewSort::Lowest, Some(1), Some(1))
        .await
        .unwrap();
    assert_eq!((lowest.items.len(), lowest.items[0].overall_rating), (1, 2));
    let newest = core
        .directory()
        .reviews(&pro.slug, ReviewSort::Newest, None, None)
        .await
        .unwrap();
    assert_eq!(newest.items[0].author_id, bob.user_id);
    let too_big = core
        .directory()
        .reviews(&pro.slug, ReviewSort::Newest, None, Some(101))
        .await
        .unwrap_err();
    assert_eq!(too_big.field_errors().unwrap()[0].field, "limit");
}

#[tokio::test]
async fn concurrent_reviews_keep_counts_exact() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = professional(
        &core,
        "busy@example.dz",
        &profile("Atelier Busy", "menuisier", "16"),
    )
    .await;
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
                core.directory()
                    .review(&author, &slug, &review(stars))
                    .await
                    .unwrap();
                stars
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += i64::from(task.await.unwrap());
    }
    let client = sql(db.direct_url()).await;
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

    let all = core
        .directory()
        .search(&SearchQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.facets.wilaya["16"], 2);
    assert_eq!(all.facets.category["plombier"], 2);
    assert_eq!(
        all.facets.category["artisans-services"], 2,
        "a root counts its subcategories"
    );
    assert_eq!(all.facets.category["droit"], 1);

    let cases: Vec<(SearchQuery, &[&str])> = vec![
        (
            SearchQuery {
                category: Some("artisans-services".into()),
                ..Default::default()
            },
            &["Sofiane Sanitaire", "Hakim Plomberie"],
        ),
        (
            SearchQuery {
                wilaya: Some("31".into()),
                ..Default::default()
            },
            &["Hakim Plomberie"],
        ),
        (
            SearchQuery {
                commune: Some("bab-ezzouar".into()),
                ..Default::default()
            },
            &["Sofiane Sanitaire"],
        ),
        (
            SearchQuery {
                verified: Some(true),
                ..Default::default()
            },
            &["Hakim Plomberie"],
        ),
        (
            SearchQuery {
                open_now: Some(true),
                ..Default::default()
            },
            &["Hakim Plomberie"],
        ),
        (
            SearchQuery {
                language: Some("ar".into()),
                ..Default::default()
            },
            &["Hakim Plomberie"],
        ),
        (
            SearchQuery {
                lat: Some(36.75),
                lng: Some(3.06),
                radius_km: Some(10.0),
                sort: Some(SearchSort::Distance),
                ..Default::default()
            },
            &["Sofiane Sanitaire", "Maître Nadia Ait"],
        ),
        (
            SearchQuery {
                q: Some("plombier".into()),
                wilaya: Some("16".into()),
                ..Default::default()
            },
            &["Sofiane Sanitaire"],
        ),
    ];
    for (query, expected) in cases {
        let page = core.directory().search(&query).await.unwrap();
        let names: Vec<&str> = page
            .items
            .iter()
            .map(|hit| hit.display_name.as_str())
            .collect();
        assert_eq!(names, expected, "{query:?}");
        assert_eq!(
            page.total,
            i64::try_from(expected.len()).unwrap(),
            "{query:?}"
        );
    }
    let near = core
        .directory()
        .search(&SearchQuery {
            lat: Some(36.75),
            lng: Some(3.06),
            sort: Some(SearchSort::Distance),
            ..Default::default()
        })
        .await
        .unwrap();
    let distance = near.items[0].distance_km.unwrap();
    assert!((0.0..2.0).contains(&distance), "{distance}");

    let paged = core
        .directory()
        .search(&SearchQuery {
            limit: Some(1),
            page: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (paged.items.len(), paged.total, paged.page, paged.limit),
        (1, 3, 2, 1)
    );
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let cases: Vec<(SearchQuery, &str)> = vec![
        (
            SearchQuery {
                lat: Some(36.0),
                ..Default::default()
            },
            "lng",
        ),
        (
            SearchQuery {
                lat: Some(36.0),
                lng: Some(3.0),
                radius_km: Some(5000.0),
                ..Default::default()
            },
            "radius_km",
        ),
        (
            SearchQuery {
                radius_km: Some(5.0),
                ..Default::default()
            },
            "radius_km",
        ),
        (
            SearchQuery {
                limit: Some(101),
                ..Default::default()
            },
            "limit",
        ),
        (
            SearchQuery {
                page: Some(0),
                ..Default::default()
            },
            "page",
        ),
        (
            SearchQuery {
                category: Some("astronaut".into()),
                ..Default::default()
            },
            "category",
        ),
        (
            SearchQuery {
                wilaya: Some("99".into()),
                ..Default::default()
            },
            "wilaya",
        ),
        (
            SearchQuery {
                min_rating: Some(7.0),
                ..Default::default()
            },
            "min_rating",
        ),
        (
            SearchQuery {
                sort: Some(SearchSort::Distance),
                ..Default::default()
            },
            "sort",
        ),
        (
            SearchQuery {
                language: Some("FRENCH".into()),
                ..Default::default()
            },
            "language",
        ),
    ];
    for (query, field) in cases {
        let err = core.directory().search(&query).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{field}");
        assert!(
            err.field_errors().unwrap().iter().any(|f| f.field == field),
            "{field}: {err:?}"
        );
    }
}

/// A profile with a biography, for the relevance table.
fn pro(name: &str, category: &str, wilaya: &str, bio: &str) -> ProfessionalRequest {
    let mut request = profile(name, category, wilaya);
    if bio.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) {
        request.bio_ar = Some(bio.to_owned());
    } else {
        request.bio_fr = Some(bio.to_owned());
    }
    request
}

#[tokio::test]
async fn search_finds_what_people_mean_in_arabic_french_and_transliteration() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let people = [
        pro(
            "Karim Benali",
            "plombier",
            "16",
            "Plombier chauffagiste, dépannage rapide à domicile.",
        ),
        pro(
            "محمد بن علي",
            "electricien",
            "31",
            "كهربائي منازل وتركيب الإنارة",
        ),
        pro(
            "Cabinet Dr. Amina Haddad",
            "pediatrie",
            "16",
            "Pédiatre, consultations pour nourrissons et enfants.",
        ),
        pro(
            "د. فاطمة الزهراء بوعلام",
            "dentiste",
            "25",
            "طبيبة أسنان، تقويم وزراعة",
        ),
        pro(
            "Maître Yacine Ouali",
            "droit-famille",
            "16",
            "Avocat au barreau d'Alger : divorce, garde, héritage.",
        ),
        pro(
            "Électricité Générale Hamza",
            "electricien",
            "09",
            "Électricien bâtiment, mise aux normes.",
        ),
        pro(
            "Menuiserie El Amel",
            "menuisier",
            "19",
            "Portes, fenêtres et cuisines en bois massif.",
        ),
        pro(
            "Atelier Kaci",
            "menuisier",
            "15",
            "Portes, fenêtres et placards sur mesure.",
        ),
        pro(
            "Pharmacie Ibn Sina",
            "pharmacie",
            "16",
            "Pharmacie de garde, parapharmacie.",
        ),
        pro(
            "Dr Rachid Mansouri",
            "medecine-generale",
            "16",
            "Consultations, certificats, suivi des maladies chroniques.",
        ),
        pro(
            "خالد سباك",
            "plombier",
            "31",
            "تصليح التسربات وتركيب سخانات الماء",
        ),
        pro(
            "Garage Sofiane",
            "mecanique-auto",
            "16",
            "Vidange, freins, diagnostic électronique.",
        ),
        pro(
            "Salon Lina Coiffure",
            "coiffure-femme",
            "31",
            "Coiffure, coloration et soins pour femmes.",
        ),
        pro(
            "Djamel Peinture",
            "peintre",
            "16",
            "Peinture intérieure et extérieure, enduits.",
        ),
    ];
    for (i, request) in people.iter().enumerate() {
        professional(&core, &format!("pro{i}@example.dz"), request).await;
    }
    // (query, filters, must be on the first page of five, must not match at all)
    let table: Vec<RelevanceCase<'_>> = vec![
        (
            "plombier",
            None,
            &["Karim Benali", "خالد سباك"],
            &["Garage Sofiane", "Maître Yacine Ouali"],
            "a category name finds its professionals in both scripts",
        ),
        (
            "plombié",
            None,
            &["Karim Benali"],
            &["Djamel Peinture"],
            "an accent and a missing letter",
        ),
        (
            "plombiere",
            None,
            &["Karim Benali"],
            &["Pharmacie Ibn Sina"],
            "an extra letter: trigram similarity",
        ),
        (
            "électrisien",
            None,
            &["Électricité Générale Hamza", "محمد بن علي"],
            &["Karim Benali"],
            "a misspelling",
        ),
        (
            "electr",
            None,
            &["Électricité Générale Hamza", "محمد بن علي"],
            &["Djamel Peinture"],
            "a partial word",
        ),
        (
            "سباك",
            None,
            &["خالد سباك", "Karim Benali"],
            &["محمد بن علي"],
            "Arabic finds French profiles through the category",
        ),
        (
            "كهربائي",
            None,
            &["محمد بن علي", "Électricité Générale Hamza"],
            &["خالد سباك"],
            "Arabic category name",
        ),
        (
            "mohamed",
            None,
            &["محمد بن علي"],
            &["Karim Benali"],
            "a Latin spelling of an Arabic name",
        ),
        (
            "sebbak",
            None,
            &["خالد سباك", "Karim Benali"],
            &["Garage Sofiane"],
            "Darija transliteration",
        ),
        (
            "tbib",
            None,
            &["Dr Rachid Mansouri"],
            &["Pharmacie Ibn Sina", "Karim Benali"],
            "transliterated Darija for doctor",
        ),
        (
            "toubib",
            None,
            &["Dr Rachid Mansouri"],
            &["Pharmacie Ibn Sina"],
            "French slang for doctor",
        ),
        (
            "santé",
            None,
            &[
                "Pharmacie Ibn Sina",
                "Cabinet Dr. Amina Haddad",
                "Dr Rachid Mansouri",
            ],
            &["Garage Sofiane"],
            "a root category finds its subcategories",
        ),
        (
            "avocat divorce",
            None,
            &["Maître Yacine Ouali"],
            &["Karim Benali"],
            "two words, both must match",
        ),
        (
            "محامي",
            None,
            &["Maître Yacine Ouali"],
            &["Cabinet Dr. Amina Haddad"],
            "Arabic for lawyer",
        ),
        (
            "pédiatre",
            None,
            &["Cabinet Dr. Amina Haddad"],
            &["د. فاطمة الزهراء بوعلام"],
            "a word of the biography",
        ),
        (
            "طبيب أسنان",
            None,
            &["د. فاطمة الزهراء بوعلام"],
            &["Cabinet Dr. Amina Haddad"],
            "hamza on alef ignored",
        ),
        (
            "dentiste constantine",
            None,
            &["د. فاطمة الزهراء بوعلام"],
            &["Karim Benali"],
            "a place name in the query",
        ),
        (
            "Fatima",
            None,
            &["د. فاطمة الزهراء بوعلام"],
            &["Salon Lina Coiffure"],
            "Latin spelling of فاطمة",
        ),
        (
            "Mansouri",
            None,
            &["Dr Rachid Mansouri"],
            &["Atelier Kaci"],
            "a surname is not the trade whose consonants it shares (menuisier: mnsr)",
        ),
        (
            "plombier",
            Some("31"),
            &["خالد سباك"],
            &["Karim Benali"],
            "a text query with a wilaya filter",
        ),
        (
            "MENUISERIE",
            None,
            &["Menuiserie El Amel"],
            &["Garage Sofiane"],
            "case",
        ),
        (
            "med",
            None,
            &[],
            &["Dr Rachid Mansouri"],
            "three letters (Med, for Mohamed) do not name a trade they begin (médecin)",
        ),
        (
            "plom",
            None,
            &["Karim Benali", "خالد سباك"],
            &["Garage Sofiane"],
            "four letters begin a trade's name and find its Arabic profiles",
        ),
    ];
    for (q, wilaya, must, must_not, why) in table {
        let query = SearchQuery {
            q: Some(q.to_owned()),
            wilaya: wilaya.map(str::to_owned),
            limit: Some(5),
            ..SearchQuery::default()
        };
        let first = core.directory().search(&query).await.unwrap();
        let names: Vec<&str> = first
            .items
            .iter()
            .map(|hit| hit.display_name.as_str())
            .collect();
        for name in must {
            assert!(
                names.contains(name),
                "{q:?} ({why}): {name} missing from {names:?}"
            );
        }
        let everything = core
            .directory()
            .search(&SearchQuery {
                limit: Some(100),
                ..query.clone()
            })
            .await
            .unwrap();
        for name in must_not {
            assert!(
                everything.items.iter().all(|hit| hit.display_name != *name),
                "{q:?} ({why}): {name} should not match"
            );
        }
    }
}

/// Creates `n` professionals named `Professionnel <i> Benali` over eight categories and all
/// wilayas, with varied communes, languages, coordinates and opening hours.
async fn seed_benalis(core: &Contacto, client: &tokio_postgres::Client, n: usize) {
    let categories = [
        "plombier",
        "electricien",
        "pediatrie",
        "dentiste",
        "droit-famille",
        "menuisier",
        "pharmacie",
        "coiffure-femme",
    ];
    let rows = client
        .query(
            "INSERT INTO users (id, email, full_name, role, password_hash) \
             SELECT gen_random_uuid(), 'seed' || i || '@example.dz', 'Seed ' || i, 'professional', \
                    '$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$c2VlZA' \
               FROM generate_series(1, $1::int) AS i RETURNING id",
            &[&i32::try_from(n).unwrap()],
        )
        .await
        .unwrap();
    let owners: Vec<uuid::Uuid> = rows.iter().map(|row| row.get(0)).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in owners.chunks(375) {
        let core = core.clone();
        let chunk = chunk.to_vec();
        tasks.spawn(async move {
            for (i, owner) in chunk.into_iter().enumerate() {
                let principal = Principal {
                    user_id: contacto_core::api::UserId(owner),
                    role: Role::Professional,
                    credential: contacto_core::Credential::Token,
                };
                let mut request = pro(
                    &format!("Professionnel {i} Benali"),
                    categories[i % categories.len()],
                    &format!("{:02}", i % 58 + 1),
                    "Travail soigné, devis gratuit. عمل متقن",
                );
                request.commune = format!("Commune {}", i % 40);
                request.languages = vec![["ar", "fr", "en"][i % 3].to_owned()];
                if i % 2 == 0 {
                    request.latitude = Some(27.0 + (i % 90) as f64 / 10.0);
                    request.longitude = Some(-2.0 + (i % 80) as f64 / 10.0);
                }
                if i % 3 == 0 {
                    request.opening_hours = always_open();
                }
                core.directory()
                    .create_profile(&principal, &request)
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
}

#[tokio::test]
async fn every_search_filter_is_served_by_an_index() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = sql(db.direct_url()).await;
    seed_benalis(&core, &client, 3000).await;
    let name: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!(
            "UPDATE professionals SET verified = true WHERE random() < 0.1; ANALYZE; \
             ALTER DATABASE \"{name}\" SET enable_seqscan = off"
        ))
        .await
        .unwrap();
    // A fresh handle: its connections start after the setting (direct: PgBouncer would hand it
    // server connections opened before).
    let core = Contacto::builder(contacto_core::testing::test_config(db.direct_url()))
        .build()
        .unwrap();
    let base = SearchQuery::default;
    let near = |sort| SearchQuery {
        lat: Some(33.0),
        lng: Some(2.0),
        radius_km: Some(50.0),
        sort: Some(sort),
        ..base()
    };
    let queries: Vec<(&str, SearchQuery)> = vec![
        ("nothing", base()),
        (
            "text",
            SearchQuery {
                q: Some("plombier".into()),
                ..base()
            },
        ),
        (
            "words naming a category and a wilaya, and a name",
            SearchQuery {
                q: Some("plombier benali oran".into()),
                ..base()
            },
        ),
        (
            "only words naming a category and a wilaya",
            SearchQuery {
                q: Some("plombier oran".into()),
                verified: Some(true),
                ..base()
            },
        ),
        (
            "short text",
            SearchQuery {
                q: Some("pl".into()),
                ..base()
            },
        ),
        (
            "arabic text",
            SearchQuery {
                q: Some("متقن".into()),
                ..base()
            },
        ),
        (
            "category",
            SearchQuery {
                category: Some("artisans-services".into()),
                ..base()
            },
        ),
        (
            "wilaya",
            SearchQuery {
                wilaya: Some("16".into()),
                ..base()
            },
        ),
        (
            "commune",
            SearchQuery {
                commune: Some("Commune 7".into()),
                ..base()
            },
        ),
        (
            "min_rating",
            SearchQuery {
                min_rating: Some(4.0),
                ..base()
            },
        ),
        (
            "verified",
            SearchQuery {
                verified: Some(true),
                ..base()
            },
        ),
        (
            "unverified",
            SearchQuery {
                verified: Some(false),
                ..base()
            },
        ),
        (
            "open_now",
            SearchQuery {
                open_now: Some(true),
                ..base()
            },
        ),
        (
            "language",
            SearchQuery {
                language: Some("en".into()),
                ..base()
            },
        ),
        ("distance", near(SearchSort::Distance)),
        ("near by rating", near(SearchSort::Rating)),
        (
            "-rating",
            SearchQuery {
                sort: Some(SearchSort::Rating),
                ..base()
            },
        ),
        (
            "relevance without text",
            SearchQuery {
                sort: Some(SearchSort::Relevance),
                ..base()
            },
        ),
        (
            "text and filters",
            SearchQuery {
                q: Some("benali".into()),
                category: Some("plombier".into()),
                wilaya: Some("16".into()),
                verified: Some(true),
                ..base()
            },
        ),
        (
            "everything",
            SearchQuery {
                q: Some("travail".into()),
                category: Some("sante".into()),
                wilaya: Some("25".into()),
                commune: Some("Commune 3".into()),
                min_rating: Some(3.0),
                verified: Some(true),
                open_now: Some(true),
                language: Some("ar".into()),
                lat: Some(36.0),
                lng: Some(6.0),
                radius_km: Some(100.0),
                sort: Some(SearchSort::Distance),
                page: Some(2),
                ..base()
            },
        ),
    ];
    for (name, query) in queries {
        for plan in core.directory().explain(&query).await.unwrap() {
            assert!(
                !plan.contains("Seq Scan on professionals"),
                "{name}: a sequential scan of professionals:\n{plan}"
            );
        }
    }

    // Nearest first without text, the page comes from the location index in distance order and
    // the facets from a count apart: the same matches, total and facets as in any other order.
    let around = |sort, page| SearchQuery {
        lat: Some(31.5),
        lng: Some(2.0),
        radius_km: Some(300.0),
        sort: Some(sort),
        page: Some(page),
        ..base()
    };
    let nearest = core
        .directory()
        .search(&around(SearchSort::Distance, 1))
        .await
        .unwrap();
    let newest = core
        .directory()
        .search(&around(SearchSort::Newest, 1))
        .await
        .unwrap();
    assert!(nearest.total > 140, "{}", nearest.total);
    assert_eq!(nearest.total, newest.total);
    assert_eq!(nearest.facets, newest.facets);
    let mut distances = Vec::new();
    for page in 1..=7 {
        let found = core
            .directory()
            .search(&around(SearchSort::Distance, page))
            .await
            .unwrap();
        assert_eq!(found.items.len(), 20, "page {page}");
        assert_eq!(found.total, nearest.total, "page {page}");
        distances.extend(found.items.iter().map(|hit| hit.distance_km.unwrap()));
    }
    assert!(
        distances.windows(2).all(|pair| pair[0] <= pair[1]),
        "pages 1 to 7 (the ranked window and beyond it) nearest first: {distances:?}"
    );
    assert!(distances.iter().all(|d| (0.0..=300.0).contains(d)));

    // With a filter too, the matches are read once, then ranked by distance and counted: the
    // same nearest-first order, and the total the unfiltered facets give that category.
    let trade = nearest.items[0].category.slug.clone();
    let in_trade = |sort| SearchQuery {
        category: Some(trade.clone()),
        ..around(sort, 1)
    };
    let nearest_in_trade = core
        .directory()
        .search(&in_trade(SearchSort::Distance))
        .await
        .unwrap();
    let newest_in_trade = core
        .directory()
        .search(&in_trade(SearchSort::Newest))
        .await
        .unwrap();
    assert_eq!(nearest_in_trade.total, nearest.facets.category[&trade]);
    assert_eq!(nearest_in_trade.total, newest_in_trade.total);
    assert_eq!(nearest_in_trade.facets, newest_in_trade.facets);
    // (Profiles at the same distance may come in another order: the index's, or by id.)
    assert_eq!(
        nearest_in_trade.items[0].distance_km,
        nearest.items[0].distance_km
    );
    let trade_distances: Vec<f64> = nearest_in_trade
        .items
        .iter()
        .map(|hit| hit.distance_km.unwrap())
        .collect();
    assert!(
        trade_distances.windows(2).all(|pair| pair[0] <= pair[1]),
        "{trade_distances:?}"
    );

    // Broad searches are served from a short cache; narrow ones always fresh.
    let broad = SearchQuery {
        q: Some("benali".into()),
        ..base()
    };
    let narrow = SearchQuery {
        q: Some("benali".into()),
        wilaya: Some("16".into()),
        ..base()
    };
    let broad_before = core.directory().search(&broad).await.unwrap().total;
    let narrow_before = core.directory().search(&narrow).await.unwrap().total;
    // The threshold is the ranked window: 100 matches.
    assert!(broad_before >= 100 && narrow_before < 100);
    let newcomer: uuid::Uuid = client
        .query_one(
            "INSERT INTO users (id, email, full_name, role, password_hash) VALUES \
             (gen_random_uuid(), 'late@example.dz', 'Late', 'professional', \
              '$argon2id$v=19$m=19456,t=2,p=1$c2VlZA$c2VlZA') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let principal = Principal {
        user_id: contacto_core::api::UserId(newcomer),
        role: Role::Professional,
        credential: contacto_core::Credential::Token,
    };
    // At the centre of the map searched above, too.
    let mut newcomer = pro("Nouveau Benali", "plombier", "16", "Plombier.");
    (newcomer.latitude, newcomer.longitude) = (Some(31.5), Some(2.0));
    core.directory()
        .create_profile(&principal, &newcomer)
        .await
        .unwrap();
    let outcome = |outcome: &str| {
        metric(
            &core,
            &format!("contacto_directory_search_cache_total{{outcome=\"{outcome}\"}}"),
        )
    };
    let (hits, misses) = (outcome("hit"), outcome("miss"));
    let broad_after = core.directory().search(&broad).await.unwrap().total;
    assert_eq!(outcome("hit"), hits + 1.0, "the broad search is a hit");
    let narrow_after = core.directory().search(&narrow).await.unwrap().total;
    assert_eq!(
        outcome("miss"),
        misses + 1.0,
        "the narrow search is computed"
    );
    assert_eq!(
        narrow_after,
        narrow_before + 1,
        "a narrow search sees the new profile at once"
    );
    assert_eq!(
        broad_after, broad_before,
        "a broad search is cached for a few seconds"
    );
    let map_after = core
        .directory()
        .search(&around(SearchSort::Distance, 1))
        .await
        .unwrap()
        .total;
    assert!(
        nearest.total >= 100,
        "broad enough to be kept, were it not a map"
    );
    assert_eq!(
        map_after,
        nearest.total + 1,
        "a search around a point is never kept"
    );
}

#[tokio::test]
async fn vectors_of_the_older_format_are_found_alike_and_rebuilt_smaller() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = sql(db.direct_url()).await;
    let people = [
        pro("Karim Benali", "plombier", "31", "Dépannage rapide."),
        pro("خالد", "electricien", "16", "تركيب الإنارة"),
        pro("Yacine Ouali", "droit-famille", "16", "Divorce, garde."),
    ];
    for (i, request) in people.iter().enumerate() {
        professional(&core, &format!("old{i}@example.dz"), request).await;
    }
    // Format 1 stored the category's and the wilaya's words in every vector, as weight B.
    client
        .batch_execute(
            "UPDATE professionals p SET search_format = 1, \
                    search_vector = search_vector || setweight(to_tsvector('simple', \
                        c.name_fr || ' ' || c.keywords || ' ' || w.name_fr || ' ' || w.name_ar), 'B') \
               FROM categories c, wilayas w \
              WHERE c.id = p.category_id AND w.code = p.wilaya_code",
        )
        .await
        .unwrap();
    // One profile breaks a rule made after it was stored: the rebuild keeps its vector and goes on.
    client
        .execute(
            "UPDATE professionals SET email = 'not an address' WHERE display_name = 'Yacine Ouali'",
            &[],
        )
        .await
        .unwrap();
    let sizes = "SELECT sum(length(search_vector))::bigint FROM professionals \
                 WHERE display_name <> 'Yacine Ouali'";
    let before: i64 = client.query_one(sizes, &[]).await.unwrap().get(0);
    let kept = "SELECT search_vector::text FROM professionals WHERE display_name = 'Yacine Ouali'";
    let kept_before: String = client.query_one(kept, &[]).await.unwrap().get(0);
    let queries = [
        "plombier oran",
        "sebbak",
        "avocat",
        "كهربائي",
        "benali",
        "alger",
    ];
    let mut found = Vec::new();
    for q in queries {
        found.push(core.directory().search(&search(q)).await.unwrap().total);
    }
    assert_eq!(found, [1, 1, 1, 1, 1, 2], "{queries:?}");

    assert_eq!(core.directory().rebuild_search_text(2).await.unwrap(), 2);
    assert_eq!(core.directory().rebuild_search_text(2).await.unwrap(), 1);
    assert_eq!(core.directory().rebuild_search_text(2).await.unwrap(), 0);
    let after: i64 = client.query_one(sizes, &[]).await.unwrap().get(0);
    assert!(after * 2 < before, "{before} lexemes before, {after} after");
    let older: i64 = client
        .query_one(
            "SELECT count(*) FROM professionals WHERE search_format < 2 \
                 OR search_vector @@ 'plombier | oran'::tsquery",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        older, 0,
        "rebuilt without the category's and wilaya's words"
    );
    let kept_after: String = client.query_one(kept, &[]).await.unwrap().get(0);
    assert_eq!(
        kept_after, kept_before,
        "a profile that fails validation keeps its vector"
    );
    // New searches, not the cached pages of the ones above.
    for (q, expected) in queries.iter().zip(found) {
        let query = SearchQuery {
            limit: Some(7),
            ..search(q)
        };
        let total = core.directory().search(&query).await.unwrap().total;
        assert_eq!(total, expected, "{q:?} after the rebuild");
    }
}

#[tokio::test]
async fn the_pages_of_a_broad_search_come_from_one_ranking_and_fresh_rows() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let client = sql(db.direct_url()).await;
    // Broad enough to be cached (100 matches or more, the ranked window).
    seed_benalis(&core, &client, 150).await;
    let page = |page: i64| SearchQuery {
        q: Some("benali".into()),
        page: Some(page),
        ..SearchQuery::default()
    };
    let ids = |found: &contacto_core::api::SearchPage| -> Vec<uuid::Uuid> {
        found.items.iter().map(|hit| hit.id.0).collect()
    };
    // Each page computed on its own, by handles that share nothing.
    let mut alone = Vec::new();
    for number in 1..=5 {
        let fresh = Contacto::builder(contacto_core::testing::test_config(db.url()))
            .build()
            .unwrap();
        alone.push(fresh.directory().search(&page(number)).await.unwrap());
    }
    assert!(
        alone
            .iter()
            .all(|found| found.items.len() == 20 && found.total == 150)
    );

    let first = core.directory().search(&page(1)).await.unwrap();
    assert_eq!(first, alone[0]);
    // A better match arrives after the ranking, and a ranked profile changes its name.
    professional(
        &core,
        "late@example.dz",
        &pro("Benali Benali", "plombier", "16", "Benali"),
    )
    .await;
    let recomputed = Contacto::builder(contacto_core::testing::test_config(db.url()))
        .build()
        .unwrap()
        .directory()
        .search(&page(2))
        .await
        .unwrap();
    assert_ne!(
        ids(&recomputed),
        ids(&alone[1]),
        "the newcomer moves the ranking"
    );
    let renamed = alone[2].items[3].id.0;
    client
        .execute(
            "UPDATE professionals SET display_name = 'Renamed Benali' WHERE id = $1",
            &[&renamed],
        )
        .await
        .unwrap();
    for number in 2..=5 {
        let found = core.directory().search(&page(number)).await.unwrap();
        let expected = &alone[usize::try_from(number - 1).unwrap()];
        assert_eq!(
            ids(&found),
            ids(expected),
            "page {number}: the same ranking"
        );
        assert_eq!(
            (found.total, &found.facets),
            (expected.total, &expected.facets)
        );
        assert_eq!(found.page, number);
        let shown = found.items.iter().find(|hit| hit.id.0 == renamed);
        if number == 3 {
            assert_eq!(
                shown.unwrap().display_name,
                "Renamed Benali",
                "rows are read fresh"
            );
        }
    }
    // Past the ranked window, pages are computed: the newcomer shifts them by one.
    let deep = core
        .directory()
        .search(&SearchQuery {
            limit: Some(100),
            ..page(2)
        })
        .await
        .unwrap();
    assert_eq!(deep.total, 151);
}
