//! The directory's rules on what a profile may claim and contain: a verification that lasts only
//! as long as what was verified, names that are visible, addresses that are addresses, and
//! searches that match nothing when they name nothing.

use contacto_core::api::{ProfessionalAdminUpdate, ProfessionalUpdate};
use contacto_core::testing::TestDatabase;

use crate::directory::{professional, profile};
use crate::helpers::admin;

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
