//! The directory's rules on what a profile may claim and contain: a verification that lasts only
//! as long as what was verified, names that are visible, addresses that are addresses, and
//! searches that match nothing when they name nothing.

use contacto_core::api::{ProfessionalAdminUpdate, ProfessionalUpdate, SearchQuery};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, ErrorKind};

use crate::directory::{professional, profile};
use crate::helpers::{admin, sql};

/// A PATCH body, from JSON: how `null` (clear) differs from absent (keep).
fn patch(body: serde_json::Value) -> ProfessionalUpdate {
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn the_verified_badge_is_cleared_when_the_name_or_the_trade_changes() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut request = profile("Karim Benali", "plombier", "16");
    request.business_name = Some("Plomberie Benali".to_owned());
    let owner = professional(&core, "karim@example.dz", &request).await;
    let id = core.directory().my_profile(&owner).await.unwrap().id;
    let ops = admin(&core).await;
    let verify = ProfessionalAdminUpdate { verified: true };

    // (the PATCH, whether it keeps the badge, why)
    let cases = [
        (
            serde_json::json!({"bio_fr": "Plombier depuis 2010.", "phone": "0551234567",
                "commune": "Bab Ezzouar", "wilaya": "31", "years_experience": 15}),
            true,
            "contact details, biography and place are not what was verified",
        ),
        (
            serde_json::json!({"display_name": "Karim Benali ", "business_name": "Plomberie Benali",
                "category": "plombier"}),
            true,
            "the same name and trade sent again (as a form does) change nothing",
        ),
        (
            serde_json::json!({"display_name": "Dr Karim Benali"}),
            false,
            "a new display name",
        ),
        (
            serde_json::json!({"business_name": "Cabinet Benali"}),
            false,
            "a new business name",
        ),
        (
            serde_json::json!({"business_name": null}),
            false,
            "the business name removed",
        ),
        (
            serde_json::json!({"category": "medecine-generale"}),
            false,
            "a new trade: a verified plumber does not become a verified doctor",
        ),
    ];
    for (body, keeps, why) in cases {
        let verified = core
            .directory()
            .administer(&ops, id, &verify)
            .await
            .unwrap();
        assert!(verified.verified, "{why}");
        let updated = core
            .directory()
            .update_profile(&owner, &patch(body))
            .await
            .unwrap();
        assert_eq!(updated.verified, keeps, "{why}");
        let public = core.directory().profile(&id.to_string()).await.unwrap();
        assert_eq!(public.verified, keeps, "{why}: as everyone reads it");
    }
}

/// Texts with no word to search by, and what they are.
const NO_WORD: &[(&str, &str)] = &[
    ("a", "one letter"),
    ("x y", "single letters only"),
    ("؟", "an Arabic question mark"),
    ("***", "punctuation"),
    ("l' à", "an elided article and a preposition"),
];

fn text(q: &str) -> SearchQuery {
    SearchQuery {
        q: Some(q.to_owned()),
        ..SearchQuery::default()
    }
}

/// Asserts that each of [`NO_WORD`] finds an empty page, alone and with filters and a page.
async fn each_finds_an_empty_page(core: &Contacto) {
    for (q, why) in NO_WORD {
        let page = core.directory().search(&text(q)).await.unwrap();
        assert_eq!(
            (page.items.len(), page.total, page.page, page.limit),
            (0, 0, 1, 20),
            "{why}"
        );
        assert!(
            page.facets.category.is_empty() && page.facets.wilaya.is_empty(),
            "{why}"
        );
        let filtered = SearchQuery {
            category: Some("plombier".into()),
            page: Some(2),
            limit: Some(5),
            ..text(q)
        };
        let page = core.directory().search(&filtered).await.unwrap();
        assert_eq!((page.total, page.page, page.limit), (0, 2, 5), "{why}");
        assert!(
            core.directory()
                .explain(&filtered)
                .await
                .unwrap()
                .is_empty(),
            "{why}: no statement to explain"
        );
    }
}

#[tokio::test]
async fn a_text_with_no_word_to_search_by_matches_nothing_without_asking_the_database() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    professional(
        &core,
        "karim@example.dz",
        &profile("Karim Benali", "plombier", "16"),
    )
    .await;
    // Blank text is no text: the whole directory, as without `q`.
    for blank in ["", "   "] {
        let page = core.directory().search(&text(blank)).await.unwrap();
        assert_eq!(page.total, 1, "{blank:?}");
    }
    each_finds_an_empty_page(&core).await;
    // The other parameters are still checked.
    let err = core
        .directory()
        .search(&SearchQuery {
            page: Some(0),
            ..text("a")
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    // Any statement on the profiles now fails: the empty pages come without one.
    sql(db.direct_url())
        .await
        .batch_execute("ALTER TABLE professionals RENAME TO professionals_away")
        .await
        .unwrap();
    each_finds_an_empty_page(&core).await;
}
