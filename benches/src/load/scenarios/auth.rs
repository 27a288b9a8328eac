//! `auth`: every iteration registers a new account, then logs in with it. Both hash a password
//! with argon2id on the server, by design slow: this measures how many sign-ups and logins the
//! server's CPU affords.

use std::sync::atomic::{AtomicU64, Ordering};

use contacto_client::Client;
use contacto_client::api::{RegisterRequest, Role};

use super::{Context, Outcome};
use crate::directory_seed::BoxError;
use crate::load::runner::{Vu, Workload};
use crate::load::setup::PASSWORD;

struct Auth {
    client: Client,
    run_id: String,
    next: AtomicU64,
}

impl Workload for Auth {
    async fn iteration(&self, vu: &mut Vu) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let request = RegisterRequest {
            email: format!("load.{}.auth.{n}@example.dz", self.run_id),
            password: PASSWORD.to_owned(),
            full_name: format!("Inscription {n}"),
            phone: None,
            role: Role::Customer,
        };
        let identity = self.client.identity();
        if vu
            .call("register", identity.register(&request))
            .await
            .is_some()
        {
            vu.call("login", identity.login(&request.email, PASSWORD))
                .await;
        }
    }
}

pub(super) async fn run(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let workload = Auth {
        client: ctx.client.clone(),
        run_id: ctx.run_id.clone(),
        next: AtomicU64::new(0),
    };
    outcome.phase(ctx, "auth", workload).await;
    Ok(())
}
