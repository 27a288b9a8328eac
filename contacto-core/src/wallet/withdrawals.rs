//! Withdrawals to Algerian bank accounts: held at once, then completed or failed.

use uuid::Uuid;

use super::batcher::{Effect, Outcome, limit_day};
use super::ledger::Intent;
use super::{Wallets, check_amount, keyed, store};
use crate::api::{Role, TransactionKind, WithdrawalId, WithdrawalRequest, WithdrawalView};
use crate::error::{Error, FieldErrors, Result};
use crate::identity::Principal;

impl Wallets<'_> {
    /// Holds `amount` of one of the caller's wallets for a payout to the given RIB: the wallet's
    /// pending balance grows, so what it can spend shrinks at once. Counts against the daily
    /// outgoing limit.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (a RIB whose structure or key is wrong), [`Error::NotFound`],
    /// [`Error::InsufficientFunds`], [`Error::WalletFrozen`], [`Error::LimitExceeded`],
    /// [`Error::IdempotencyKeyReused`].
    pub async fn withdraw(
        &self,
        principal: &Principal,
        request: &WithdrawalRequest,
        idempotency_key: Option<&str>,
    ) -> Result<WithdrawalView> {
        let result = self
            .withdraw_checked(principal, request, idempotency_key)
            .await;
        self.app.wrote(principal);
        self.app.metrics().operation("withdrawal", &result);
        result
    }

    async fn withdraw_checked(
        &self,
        principal: &Principal,
        request: &WithdrawalRequest,
        idempotency_key: Option<&str>,
    ) -> Result<WithdrawalView> {
        super::refuse_api_key(principal, "withdraw with an API key")?;
        let mut errors = FieldErrors::new();
        errors.check(check_amount(request.amount));
        let rib = errors.check(super::rib::parse_rib(&request.rib));
        let key = keyed(
            principal,
            idempotency_key,
            "withdrawal",
            request,
            &mut errors,
        );
        errors.into_result()?;
        let rib = rib.ok_or_else(|| Error::internal("withdrawing", "validation lost the RIB"))?;
        let intent = Intent {
            kind: TransactionKind::Withdrawal,
            currency: None,
            payer_owner: Some(principal.user_id.0),
            amount: request.amount,
            description: None,
            postings: Vec::new(),
            outgoing_from: Some(request.wallet_id),
            gives_back: None,
            holds: vec![(request.wallet_id, request.amount)],
            settlement: false,
        };
        let effect = Effect::CreateWithdrawal {
            id: WithdrawalId(Uuid::now_v7()),
            rib,
        };
        withdrawal(self.app.ledger().submit(intent, key, effect).await?)
    }

    /// Completes (the money moves to payouts in transit) or fails (the hold is released) a
    /// pending withdrawal; administrators, standing in for the bank's answer. Under an
    /// idempotency key, a retry is answered as the first call was, the settlement done once.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`], [`Error::NotFound`], [`Error::WithdrawalSettled`],
    /// [`Error::IdempotencyKeyReused`].
    pub async fn settle_withdrawal(
        &self,
        principal: &Principal,
        id: WithdrawalId,
        completed: bool,
        idempotency_key: Option<&str>,
    ) -> Result<WithdrawalView> {
        let result = self
            .settle_withdrawal_checked(principal, id, completed, idempotency_key)
            .await;
        let kind = if completed {
            "withdrawal_completion"
        } else {
            "withdrawal_failure"
        };
        self.app.metrics().operation(kind, &result);
        result
    }

    async fn settle_withdrawal_checked(
        &self,
        principal: &Principal,
        id: WithdrawalId,
        completed: bool,
        idempotency_key: Option<&str>,
    ) -> Result<WithdrawalView> {
        if principal.role != Role::Admin {
            return Err(Error::Forbidden {
                action: "settle withdrawals",
            });
        }
        let mut errors = FieldErrors::new();
        let operation = if completed { "complete" } else { "fail" };
        let key = keyed(
            principal,
            idempotency_key,
            &format!("{operation} withdrawal {id}"),
            &(),
            &mut errors,
        );
        errors.into_result()?;
        let db = self.app.db().primary().await?;
        let (pending, _) = self
            .q(
                "wallet.withdrawal_by_id",
                store::withdrawal_by_id(&**db, id, false),
            )
            .await?
            .ok_or(Error::NotFound {
                resource: "withdrawal",
            })?;
        drop(db);
        let wallet = pending.wallet_id;
        let amount = pending.amount;
        let postings = if completed {
            let in_transit = self
                .system_account("payouts_in_transit", &pending.currency)
                .await?;
            vec![(wallet, -amount), (in_transit, amount)]
        } else {
            Vec::new()
        };
        let intent = Intent {
            kind: TransactionKind::WithdrawalCompletion,
            currency: Some(pending.currency),
            payer_owner: None,
            amount,
            description: Some(super::history::payout_description(&pending.rib)),
            postings,
            outgoing_from: None,
            // Refused by the bank, the money never went out.
            gives_back: (!completed).then(|| (wallet, amount, limit_day(pending.created_at))),
            holds: vec![(wallet, -amount)],
            // The bank has already answered: a freeze since then does not undo it.
            settlement: true,
        };
        let effect = Effect::SettleWithdrawal { id, completed };
        withdrawal(self.app.ledger().submit(intent, key, effect).await?)
    }

    /// A withdrawal, for its wallet's owner or an administrator.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn withdrawal(
        &self,
        principal: &Principal,
        id: WithdrawalId,
    ) -> Result<WithdrawalView> {
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.withdrawal_by_id",
            store::withdrawal_by_id(&**db, id, false),
        )
        .await?
        .filter(|(_, owner)| principal.role == Role::Admin || *owner == Some(principal.user_id))
        .map(|(view, _)| view)
        .ok_or(Error::NotFound {
            resource: "withdrawal",
        })
    }
}

fn withdrawal(outcome: Outcome) -> Result<WithdrawalView> {
    match outcome {
        Outcome::Withdrawal(view) => Ok(view),
        Outcome::Transaction(_) | Outcome::Hold(_) => {
            Err(Error::internal("withdrawing", "expected a withdrawal"))
        }
    }
}
