//! The directory's rules on what a profile may claim and contain: a verification that lasts only
//! as long as what was verified, names that are visible, addresses that are addresses, and
//! searches that match nothing when they name nothing.

use contacto_core::api::{
    PriceUnit, ProfessionalAdminUpdate, ProfessionalRequest, ProfessionalUpdate, ReplyRequest,
    ReviewRequest, Role, SearchQuery, ServiceRequest,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, Error, ErrorKind};

use crate::directory::{professional, profile, review};
use crate::helpers::{admin, sql, user};

/// Changes one field of a valid request.
type Change = Box<dyn Fn(&mut ProfessionalRequest)>;

/// Asserts that `result` is a 400 naming `field` with `code`.
fn refused<T: std::fmt::Debug>(result: Result<T, Error>, field: &str, code: &str, why: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{why}: {err:?}");
    let fields = err.field_errors().unwrap_or_default();
    assert!(
        fields.iter().any(|f| f.field == field && f.code == code),
        "{why}: {err:?}"
    );
}

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

#[tokio::test]
async fn invisible_names_and_bidirectional_controls_are_refused_naming_the_field() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = user(&core, "karim@example.dz", Role::Professional).await;
    // (the field, the change, the code, why)
    let cases: Vec<(&str, Change, &str, &str)> = vec![
        (
            "display_name",
            Box::new(|r| r.display_name = "\u{200B}\u{200B}".to_owned()),
            "too_short",
            "two zero-width spaces: a valid name of two characters until now, slug pro",
        ),
        (
            "display_name",
            Box::new(|r| r.display_name = "K\u{200D}\u{FEFF}".to_owned()),
            "too_short",
            "one letter, a joiner and a byte-order mark",
        ),
        (
            "business_name",
            Box::new(|r| r.business_name = Some("\u{200E}\u{2060}".to_owned())),
            "too_short",
            "a direction mark and a word joiner",
        ),
        (
            "commune",
            Box::new(|r| r.commune = "\u{3164}".to_owned()),
            "too_short",
            "a Hangul filler",
        ),
        (
            "display_name",
            Box::new(|r| r.display_name = "\u{202E}ilaneB mirak".to_owned()),
            "invalid_characters",
            "a right-to-left override",
        ),
        (
            "bio_fr",
            Box::new(|r| r.bio_fr = Some("Plombier \u{2067}agréé\u{2069}".to_owned())),
            "invalid_characters",
            "an isolate in a biography",
        ),
        (
            "bio_ar",
            Box::new(|r| r.bio_ar = Some("سباك \u{202B}معتمد".to_owned())),
            "invalid_characters",
            "an embedding left open in a biography",
        ),
        (
            "address",
            Box::new(|r| r.address = Some("12 rue \u{202D}Didouche".to_owned())),
            "invalid_characters",
            "an override in an address",
        ),
    ];
    for (field, change, code, why) in cases {
        let mut request = profile("Karim Benali", "plombier", "16");
        change(&mut request);
        refused(
            core.directory().create_profile(&owner, &request).await,
            field,
            code,
            why,
        );
    }
    // Joiners belong inside Arabic and Persian words, and direction marks between scripts.
    let mut request = profile("محمد\u{200C}علي", "plombier", "16");
    request.bio_ar = Some("\u{200F}سباك، می\u{200C}خواهم (Bab Ezzouar)".to_owned());
    let created = core
        .directory()
        .create_profile(&owner, &request)
        .await
        .unwrap();
    assert_eq!(created.display_name, "محمد\u{200C}علي");
    refused(
        core.directory()
            .update_profile(
                &owner,
                &patch(serde_json::json!({"display_name": "\u{200B}\u{200C}"})),
            )
            .await,
        "display_name",
        "too_short",
        "a PATCH is checked alike",
    );
    let service = |name: &str| ServiceRequest {
        name: name.to_owned(),
        description: None,
        price_min_minor: None,
        price_max_minor: None,
        price_unit: PriceUnit::Visit,
        duration_minutes: None,
    };
    refused(
        core.directory()
            .add_service(&owner, &service("\u{200D}\u{200C}"))
            .await,
        "name",
        "too_short",
        "a service named with joiners only",
    );
    refused(
        core.directory()
            .add_service(&owner, &service("Dépannage \u{2066}24h"))
            .await,
        "name",
        "invalid_characters",
        "an isolate in a service's name",
    );
    let customer = user(&core, "amina@example.dz", Role::Customer).await;
    let overridden = ReviewRequest {
        text: Some("Travail \u{202E}lamrof".to_owned()),
        ..review(1)
    };
    refused(
        core.directory()
            .review(&customer, &created.slug, &overridden)
            .await,
        "text",
        "invalid_characters",
        "an override in a review",
    );
    let written = core
        .directory()
        .review(&customer, &created.slug, &review(5))
        .await
        .unwrap();
    for (reply, code) in [
        ("\u{200B}", "too_short"),
        ("Merci \u{202C}", "invalid_characters"),
    ] {
        refused(
            core.directory()
                .reply(
                    &owner,
                    written.id,
                    &ReplyRequest {
                        text: reply.to_owned(),
                    },
                )
                .await,
            "text",
            code,
            "a reply",
        );
    }
    // Nobody else sees a query: a pasted control is folded away, not refused.
    let found = core
        .directory()
        .search(&text("\u{2067}محمد\u{2069}"))
        .await
        .unwrap();
    assert_eq!(found.total, 1);
}

#[tokio::test]
async fn websites_and_emails_are_addresses_that_open_what_they_show() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let owner = user(&core, "karim@example.dz", Role::Professional).await;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "website",
            Box::new(|r| r.website = Some("https://@".to_owned())),
            "no host",
        ),
        (
            "website",
            Box::new(|r| r.website = Some("https://?x".to_owned())),
            "no host",
        ),
        (
            "website",
            Box::new(|r| r.website = Some("https://\"onmouseover=alert(1)//x.dz".to_owned())),
            "a quote that would end an href",
        ),
        (
            "website",
            Box::new(|r| r.website = Some("https://bank.dz@evil.example".to_owned())),
            "credentials",
        ),
        (
            "email",
            Box::new(|r| r.email = Some("a@.".to_owned())),
            "a dot with no label on either side",
        ),
    ];
    for (field, change, why) in cases {
        let mut request = profile("Karim Benali", "plombier", "16");
        change(&mut request);
        refused(
            core.directory().create_profile(&owner, &request).await,
            field,
            "invalid_format",
            why,
        );
    }
    let mut request = profile("Karim Benali", "plombier", "16");
    request.website = Some("https://سباك.dz/tarifs".to_owned());
    request.email = Some("contact@plomberie-benali.dz".to_owned());
    let created = core
        .directory()
        .create_profile(&owner, &request)
        .await
        .unwrap();
    assert_eq!(
        created.website.as_deref(),
        Some("https://سباك.dz/tarifs"),
        "kept as typed, not as the parser spells it"
    );
    refused(
        core.directory()
            .update_profile(&owner, &patch(serde_json::json!({"website": "https://?x"})))
            .await,
        "website",
        "invalid_format",
        "a PATCH is checked alike",
    );
}
