//! Two-phase holds: authorise, then capture all or part, void, or let expire.

use std::time::Duration;

use uuid::Uuid;

use super::batcher::{Effect, KeyedRequest, Outcome, limit_day};
use super::ledger::Intent;
use super::{Wallets, check_amount, keyed, store};
use crate::api::{
    CaptureRequest, HoldId, HoldRequest, HoldStatus, HoldView, Role, TransactionKind,
};
use crate::error::{Error, FieldError, FieldErrors, Result};
use crate::identity::{Credential, Principal};

/// Shortest and longest hold: a minute to let a checkout finish, 30 days as card networks allow.
const HOLD_LIFETIME_SECS: std::ops::RangeInclusive<i64> = 60..=30 * 24 * 3600;

/// A hold's lifetime when none is asked.
const DEFAULT_HOLD_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Expired holds read and released together: bounds the releases in the ledger's queue at once.
const EXPIRY_SWEEP_LIMIT: i64 = 500;

impl Wallets<'_> {
    /// Authorises `amount` on one of the caller's wallets for the payee: held at once (it counts
    /// against what the wallet can spend and against its daily limit), paid only on capture.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`], [`Error::NotFound`], [`Error::InsufficientFunds`],
    /// [`Error::WalletFrozen`], [`Error::LimitExceeded`], [`Error::CurrencyMismatch`];
    /// [`Error::Forbidden`] with an API key.
    pub async fn authorize(
        &self,
        principal: &Principal,
        request: &HoldRequest,
        idempotency_key: Option<&str>,
    ) -> Result<HoldView> {
        let result = self
            .authorize_checked(principal, request, idempotency_key)
            .await;
        self.app.metrics().operation("hold", &result);
        result
    }

    async fn authorize_checked(
        &self,
        principal: &Principal,
        request: &HoldRequest,
        idempotency_key: Option<&str>,
    ) -> Result<HoldView> {
        super::refuse_api_key(principal, "hold money with an API key")?;
        let mut errors = FieldErrors::new();
        errors.check(check_amount(request.amount));
        let lifetime = request
            .expires_in_secs
            .unwrap_or(DEFAULT_HOLD_LIFETIME.as_secs() as i64);
        if !HOLD_LIFETIME_SECS.contains(&lifetime) {
            errors.push(FieldError::new(
                "expires_in_secs",
                "out_of_range",
                "from 60 seconds to 30 days",
            ));
        }
        if request.payer_wallet_id == request.payee_wallet_id {
            errors.push(FieldError::new(
                "payee_wallet_id",
                "same_wallet",
                "a wallet cannot pay itself",
            ));
        }
        let key = keyed(principal, idempotency_key, "hold", request, &mut errors);
        errors.into_result()?;
        let db = self.app.db().primary().await?;
        let payee = self
            .q(
                "wallet.wallet_by_id",
                store::wallet_by_id(&**db, request.payee_wallet_id),
            )
            .await?
            // A system account is nobody's to be paid (checked again under the batch's lock).
            .filter(|w| w.owner_id.is_some())
            .ok_or(Error::NotFound { resource: "wallet" })?;
        drop(db);
        let hold = HoldView {
            id: HoldId(Uuid::now_v7()),
            payer_wallet_id: request.payer_wallet_id,
            payee_wallet_id: request.payee_wallet_id,
            amount: request.amount,
            captured: 0,
            currency: payee.currency.clone(),
            status: HoldStatus::Authorized,
            expires_at: time::OffsetDateTime::now_utc() + time::Duration::seconds(lifetime),
            transaction_id: None,
            // Set to the batch's time when it is posted.
            created_at: time::OffsetDateTime::now_utc(),
        };
        let intent = Intent {
            kind: TransactionKind::HoldCapture,
            currency: Some(payee.currency),
            payer_owner: Some(principal.user_id.0),
            amount: request.amount,
            description: None,
            postings: Vec::new(),
            outgoing_from: Some(request.payer_wallet_id),
            gives_back: None,
            holds: vec![(request.payer_wallet_id, request.amount)],
            settlement: false,
        };
        held(
            self.app
                .ledger()
                .submit(intent, key, Effect::CreateHold(hold))
                .await?,
        )
    }

    /// Captures all or part of an authorised hold (the payee's owner, or the payer's): the
    /// captured amount moves to the payee, the rest is released, in one transaction.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::HoldSettled`], [`Error::Validation`] for more than held,
    /// [`Error::WalletFrozen`]; [`Error::Forbidden`] for an API key of the payer's owner, and
    /// for an administrator who owns neither wallet.
    pub async fn capture(
        &self,
        principal: &Principal,
        id: HoldId,
        request: &CaptureRequest,
        idempotency_key: Option<&str>,
    ) -> Result<HoldView> {
        let result = self
            .capture_checked(principal, id, request, idempotency_key)
            .await;
        self.app.metrics().operation("hold_capture", &result);
        result
    }

    async fn capture_checked(
        &self,
        principal: &Principal,
        id: HoldId,
        request: &CaptureRequest,
        idempotency_key: Option<&str>,
    ) -> Result<HoldView> {
        let hold = self.hold(principal, id).await?;
        self.party_to(principal, &hold, "capture a hold of others")
            .await?;
        // A till's key takes payments: it captures holds made to its owner, never its owner's
        // own holds, whose capture would send the owner's money out.
        if matches!(principal.credential, Credential::ApiKey(_))
            && !self.owns_one_of(principal, &[hold.payee_wallet_id]).await?
        {
            return Err(Error::Forbidden {
                action: "capture with an API key a hold its owner made",
            });
        }
        let amount = request.amount.unwrap_or(hold.amount);
        let mut errors = FieldErrors::new();
        errors.check(check_amount(amount));
        if amount > hold.amount {
            errors.push(FieldError::new(
                "amount",
                "out_of_range",
                format!("at most the {} held", hold.amount),
            ));
        }
        let key = keyed(
            principal,
            idempotency_key,
            &format!("capture {id}"),
            request,
            &mut errors,
        );
        errors.into_result()?;
        let intent = Intent {
            kind: TransactionKind::HoldCapture,
            currency: Some(hold.currency.clone()),
            payer_owner: None,
            amount,
            description: Some(super::history::capture_description(&id.to_string())),
            postings: vec![
                (hold.payer_wallet_id, -amount),
                (hold.payee_wallet_id, amount),
            ],
            outgoing_from: None,
            // What is not captured never goes out.
            gives_back: (amount < hold.amount).then(|| {
                (
                    hold.payer_wallet_id,
                    hold.amount - amount,
                    limit_day(hold.created_at),
                )
            }),
            holds: vec![(hold.payer_wallet_id, -hold.amount)],
            settlement: false,
        };
        let effect = Effect::SettleHold {
            id,
            status: "captured",
            captured: amount,
        };
        let submitted = self.app.ledger().submit(intent, key, effect).await;
        self.app.wrote(principal);
        held(submitted?)
    }

    /// Releases an authorised hold (the payer's or the payee's owner). Under an idempotency key,
    /// a retry is answered as the first call was, the release done once.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::HoldSettled`], [`Error::IdempotencyKeyReused`];
    /// [`Error::Forbidden`] for an administrator who owns neither wallet.
    pub async fn void(
        &self,
        principal: &Principal,
        id: HoldId,
        idempotency_key: Option<&str>,
    ) -> Result<HoldView> {
        let result = async {
            let hold = self.hold(principal, id).await?;
            self.party_to(principal, &hold, "void a hold of others")
                .await?;
            let mut errors = FieldErrors::new();
            let key = keyed(
                principal,
                idempotency_key,
                &format!("void {id}"),
                &(),
                &mut errors,
            );
            errors.into_result()?;
            self.release(&hold, "voided", key).await
        }
        .await;
        self.app.metrics().operation("hold_void", &result);
        result
    }

    /// Refuses `action` on `hold` unless the caller owns its payer's or its payee's wallet: an
    /// administrator sees every hold ([`Wallets::hold`]) but settles only their own. Anybody else
    /// saw `hold` only as a party to it, so only an administrator is looked up again.
    async fn party_to(
        &self,
        principal: &Principal,
        hold: &HoldView,
        action: &'static str,
    ) -> Result<()> {
        if principal.role != Role::Admin
            || self
                .owns_one_of(principal, &[hold.payer_wallet_id, hold.payee_wallet_id])
                .await?
        {
            Ok(())
        } else {
            Err(Error::Forbidden { action })
        }
    }

    /// Releases every authorised hold past its deadline; returns how many. The server runs it
    /// periodically, so holds lapse even if nobody asks. Holds are read [`EXPIRY_SWEEP_LIMIT`] at
    /// a time, each group submitted at once so that its releases share the ledger's batches, and
    /// groups follow one another while full ones come back, so a backlog drains in one call.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub async fn expire_holds(&self) -> Result<usize> {
        let mut released = 0;
        loop {
            let db = self.app.db().primary().await?;
            let due = self
                .q(
                    "wallet.expired_holds",
                    store::expired_holds(&**db, EXPIRY_SWEEP_LIMIT),
                )
                .await?;
            drop(db);
            let full = i64::try_from(due.len()).is_ok_and(|n| n >= EXPIRY_SWEEP_LIMIT);
            let group = self.release_expired(&due).await?;
            released += group;
            // A hold that fails to release stays due and comes back in the next group: go on
            // only while groups make progress.
            if !full || group == 0 {
                return Ok(released);
            }
        }
    }

    /// Releases `due` together; returns how many were released.
    async fn release_expired(&self, due: &[HoldView]) -> Result<usize> {
        // Submitted at once, the releases share the ledger's batches and commits; one at a time,
        // each waited for a commit of its own.
        let releases = futures_util::future::join_all(
            due.iter()
                .map(|hold| async move { (hold, self.release(hold, "expired", None).await) }),
        )
        .await;
        let mut released = 0;
        let mut unavailable = None;
        for (hold, result) in releases {
            match result {
                Ok(_) => released += 1,
                // Captured or voided since it was read: nothing left to release, and nobody's
                // fault, so not counted.
                Err(Error::HoldSettled) => continue,
                // Counted with the others, then given to the caller once all are.
                Err(err) if err.kind() == crate::error::ErrorKind::Unavailable => {
                    let failed: Result<()> = Err(err);
                    self.app.metrics().operation("hold_expiry", &failed);
                    unavailable = unavailable.or(failed.err());
                    continue;
                }
                // One hold's trouble must not keep every later hold held: log it and go on.
                Err(ref err) => {
                    tracing::error!(hold = %hold.id, error = %err, "releasing an expired hold")
                }
            }
            self.app.metrics().operation("hold_expiry", &result);
        }
        match unavailable {
            Some(err) => Err(err),
            None => Ok(released),
        }
    }

    async fn release(
        &self,
        hold: &HoldView,
        status: &'static str,
        key: Option<KeyedRequest>,
    ) -> Result<HoldView> {
        let intent = Intent {
            kind: TransactionKind::HoldCapture,
            currency: Some(hold.currency.clone()),
            payer_owner: None,
            amount: hold.amount,
            description: None,
            postings: Vec::new(),
            outgoing_from: None,
            gives_back: Some((
                hold.payer_wallet_id,
                hold.amount,
                limit_day(hold.created_at),
            )),
            holds: vec![(hold.payer_wallet_id, -hold.amount)],
            // Releasing moves no money: a freeze does not keep funds held for ever.
            settlement: true,
        };
        let effect = Effect::SettleHold {
            id: hold.id,
            status,
            captured: 0,
        };
        held(self.app.ledger().submit(intent, key, effect).await?)
    }

    /// A hold, for the owner of its payer or payee wallet, or an administrator.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn hold(&self, principal: &Principal, id: HoldId) -> Result<HoldView> {
        let db = self.app.db().primary().await?;
        let hold = self
            .q("wallet.hold_by_id", store::hold_by_id(&**db, id, false))
            .await?
            .ok_or(Error::NotFound { resource: "hold" })?;
        // One pooled connection at a time: never hold one while waiting for another.
        drop(db);
        if self
            .involves(principal, &[hold.payer_wallet_id, hold.payee_wallet_id])
            .await?
        {
            Ok(hold)
        } else {
            Err(Error::NotFound { resource: "hold" })
        }
    }
}

fn held(outcome: Outcome) -> Result<HoldView> {
    match outcome {
        Outcome::Hold(view) => Ok(view),
        Outcome::Transaction(_) | Outcome::Withdrawal(_) => {
            Err(Error::internal("holding", "expected a hold"))
        }
    }
}
