//! Bulk transfers: many transfers in one request, each posted on its own or all as one.

use super::batcher::{Effect, GroupAnswer, GroupItem, KeyedRequest, Rejection, Replay};
use super::ledger::Intent;
use super::{Wallets, keyed, store};
use crate::api::{
    ApiErrorBody, BulkTransferRequest, BulkTransferResponse, BulkTransferResult, TransactionId,
    TransactionKind, TransactionView, TransferRequest, WalletId,
};
use crate::error::{Error, ErrorKind, FieldErrors, Result};
use crate::identity::Principal;

/// Most transfers in one bulk request: a payroll of thousands fits, and one request cannot hold a
/// batch's lock set beyond what one commit handles well.
pub const MAX_BULK_TRANSFERS: usize = 8_000;

impl Wallets<'_> {
    /// Posts many transfers. Non-atomic: each is validated and posted or rejected on its own,
    /// all of them in one batch (sharing its commit with everything else in flight), and the
    /// request is exactly once under its key: one idempotency record names each transfer's
    /// transaction or rejection. Atomic: all come from one wallet and are posted as one
    /// transaction, or none is.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] for an empty or oversized request or a malformed key, or (atomic)
    /// any invalid transfer or more than one paying wallet; [`Error::IdempotencyKeyReused`];
    /// [`Error::Forbidden`] with an API key;
    /// (atomic) the ledger's rejection of the whole.
    pub async fn transfer_bulk(
        &self,
        principal: &Principal,
        request: &BulkTransferRequest,
        idempotency_key: &str,
    ) -> Result<BulkTransferResponse> {
        super::refuse_api_key(principal, "send money with an API key")?;
        if request.transfers.is_empty() || request.transfers.len() > MAX_BULK_TRANSFERS {
            return Err(Error::invalid(
                "transfers",
                "out_of_range",
                format!("from 1 to {MAX_BULK_TRANSFERS} transfers"),
            ));
        }
        let mut errors = FieldErrors::new();
        let key = keyed(
            principal,
            Some(idempotency_key),
            "bulk transfer",
            request,
            &mut errors,
        );
        if request.atomic {
            return self
                .transfer_all_or_nothing(principal, request, key, errors)
                .await;
        }
        errors.into_result()?;
        if self
            .posted_one_by_one(principal, idempotency_key, request.transfers.len())
            .await?
        {
            return self
                .transfer_one_by_one(principal, request, idempotency_key)
                .await;
        }
        // A retry is answered from its record before any receiver named by email or phone is
        // looked up again: the look-ups may now be locked, and would count their misses again.
        let by_contact = request.transfers.iter().any(|t| t.to_wallet_id.is_none());
        if by_contact
            && let Some(key) = &key
            && let Some(replay) = self.app.ledger().recorded(key).await?
        {
            let Replay::Group(items) = replay else {
                return Err(Error::IdempotencyKeyReused);
            };
            let outcomes = self.replayed(items).await?;
            self.app.wrote(principal);
            return Ok(self.answer(request, outcomes));
        }
        // Receivers named by email or phone are looked up concurrently.
        let intents = futures_util::future::join_all(
            request
                .transfers
                .iter()
                .map(|transfer| self.bulk_item(principal, transfer)),
        )
        .await;
        let mut items = Vec::with_capacity(intents.len());
        for intent in intents {
            items.push(match intent {
                Ok(intent) => Ok(intent),
                // Nothing is posted when a lookup failed: the request can be retried whole. A
                // look-up refused by the caller's lock is that transfer's result, as a receiver
                // not found is: the others post, and the refused ones go in a new request once
                // the lock is over (refusing the whole request would refuse it again at every
                // retry whose misses lock the caller anew).
                Err(err) if matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Internal) => {
                    return Err(err);
                }
                Err(err) => Err(Rejection::of(&err)),
            });
        }
        let answer = self.app.ledger().post_group(items, key).await;
        self.app.wrote(principal);
        let outcomes: Vec<(usize, Result<TransactionView>)> = match answer? {
            GroupAnswer::Posted(results) => results.into_iter().enumerate().collect(),
            GroupAnswer::Replayed(items) => self.replayed(items).await?,
        };
        Ok(self.answer(request, outcomes))
    }

    /// The response to a non-atomic request: each transfer's outcome as its payer may see it.
    fn answer(
        &self,
        request: &BulkTransferRequest,
        outcomes: Vec<(usize, Result<TransactionView>)>,
    ) -> BulkTransferResponse {
        let outcomes = outcomes
            .into_iter()
            .map(|(index, outcome)| {
                self.app.metrics().operation("transfer", &outcome);
                let payer = request.transfers[index].from_wallet_id;
                (index, outcome.map(|view| super::visible_to(view, &[payer])))
            })
            .collect();
        summarise(outcomes, None)
    }

    /// One transfer of a non-atomic request, checked as `POST /transfers` checks it.
    async fn bulk_item(&self, principal: &Principal, transfer: &TransferRequest) -> Result<Intent> {
        let mut errors = FieldErrors::new();
        super::check_transfer(transfer, &mut errors);
        errors.into_result()?;
        self.transfer_intent(principal, transfer).await
    }

    /// A recorded group's transactions, read back from the ledger, and its rejections.
    async fn replayed(
        &self,
        items: Vec<GroupItem>,
    ) -> Result<Vec<(usize, Result<TransactionView>)>> {
        let ids: Vec<TransactionId> = items
            .iter()
            .filter_map(|item| match item {
                GroupItem::Posted(id) => Some(*id),
                GroupItem::Rejected(_) => None,
            })
            .collect();
        let mut views = self.app.ledger().transactions(&ids).await?;
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let outcome = match item {
                    GroupItem::Posted(id) => Ok(views.remove(&id).ok_or_else(|| {
                        Error::internal(
                            "replaying a bulk request",
                            "a recorded transaction is missing",
                        )
                    })?),
                    GroupItem::Rejected(rejection) => Err(rejection.into_error()),
                };
                Ok((index, outcome))
            })
            .collect()
    }

    /// Whether this request was posted before bulk requests were recorded as one group (each
    /// transfer `i` under `"{key}#{i}"`): a retry of such a request must go on that way, or it
    /// would post again what was posted then. Such records expire with the retention of keys.
    ///
    /// Every item's key is looked up (one index probe each, on a pooled connection, outside the
    /// ledger's batch): that way recorded nothing for an item refused before the ledger (a
    /// validation error, an unknown receiver), so the first and last items' keys alone could both
    /// be missing from a request whose other items were posted.
    async fn posted_one_by_one(
        &self,
        principal: &Principal,
        idempotency_key: &str,
        count: usize,
    ) -> Result<bool> {
        let keys: Vec<String> = (0..count)
            .map(|i| format!("{idempotency_key}#{i}"))
            .collect();
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.idempotency_keys_exist",
            store::idempotency_keys_exist(&**db, principal.user_id.0, &keys),
        )
        .await
    }

    /// A non-atomic request as it was posted before groups: each transfer under its own key.
    async fn transfer_one_by_one(
        &self,
        principal: &Principal,
        request: &BulkTransferRequest,
        idempotency_key: &str,
    ) -> Result<BulkTransferResponse> {
        let posts = request
            .transfers
            .iter()
            .enumerate()
            .map(|(index, transfer)| {
                let key = format!("{idempotency_key}#{index}");
                async move { (index, self.transfer(principal, transfer, Some(&key)).await) }
            });
        let outcomes = futures_util::future::join_all(posts).await;
        Ok(summarise(outcomes, None))
    }

    async fn transfer_all_or_nothing(
        &self,
        principal: &Principal,
        request: &BulkTransferRequest,
        key: Option<KeyedRequest>,
        mut errors: FieldErrors,
    ) -> Result<BulkTransferResponse> {
        let from = request.transfers[0].from_wallet_id;
        // The one transaction's description: the transfers' own, when they give one.
        let description = request
            .transfers
            .iter()
            .find_map(|transfer| transfer.description.clone());
        let mut postings: Vec<(WalletId, i64)> = Vec::new();
        let mut total: i64 = 0;
        for (index, transfer) in request.transfers.iter().enumerate() {
            let field = |name: &str| format!("transfers[{index}].{name}");
            if transfer.from_wallet_id != from {
                errors.push(crate::error::FieldError::new(
                    &field("from_wallet_id"),
                    "not_allowed",
                    "an atomic request pays from one wallet",
                ));
            }
            // What one transaction cannot keep per transfer is refused, not dropped.
            for (name, given) in [
                ("to_email", transfer.to_email.is_some()),
                ("to_phone", transfer.to_phone.is_some()),
            ] {
                if given {
                    errors.push(crate::error::FieldError::new(
                        &field(name),
                        "not_allowed",
                        "atomic requests name wallets",
                    ));
                }
            }
            if let Err(mut e) = super::check_description(transfer.description.as_deref()) {
                e.field = field("description");
                errors.push(e);
            } else if transfer.description.is_some() && transfer.description != description {
                errors.push(crate::error::FieldError::new(
                    &field("description"),
                    "not_allowed",
                    "an atomic request is one transaction: its transfers share one description",
                ));
            }
            let Some(to) = transfer.to_wallet_id else {
                errors.push(crate::error::FieldError::new(
                    &field("to_wallet_id"),
                    "required",
                    "atomic requests name wallets",
                ));
                continue;
            };
            if let Err(mut e) = super::check_amount(transfer.amount) {
                e.field = field("amount");
                errors.push(e);
                continue;
            }
            if to == from {
                errors.push(crate::error::FieldError::new(
                    &field("to_wallet_id"),
                    "same_wallet",
                    "a wallet cannot pay itself",
                ));
                continue;
            }
            total = total.saturating_add(transfer.amount);
            match postings.iter_mut().find(|(w, _)| *w == to) {
                Some((_, amount)) => *amount += transfer.amount,
                None => postings.push((to, transfer.amount)),
            }
        }
        if total > super::MAX_AMOUNT_MINOR {
            errors.push(crate::error::FieldError::new(
                "transfers",
                "out_of_range",
                "the total is too large",
            ));
        }
        errors.into_result()?;
        postings.insert(0, (from, -total));
        let intent = Intent {
            kind: TransactionKind::Transfer,
            currency: None,
            payer_owner: Some(principal.user_id.0),
            amount: total,
            description: Some(
                description
                    .unwrap_or_else(|| format!("bulk of {} transfers", request.transfers.len())),
            ),
            postings,
            outgoing_from: Some(from),
            gives_back: None,
            holds: Vec::new(),
            settlement: false,
        };
        let posted = self.app.ledger().post(intent, key, Effect::None).await;
        self.app.wrote(principal);
        self.app.metrics().operation("transfer", &posted);
        let view = super::visible_to(posted?, &[from]);
        // The one transaction goes in the response once; each result names it by id (a payroll
        // of thousands would otherwise repeat thousands of entries thousands of times).
        let outcomes = (0..request.transfers.len())
            .map(|index| (index, Ok(view.id)))
            .collect();
        Ok(summarise_ids(outcomes, Some(view)))
    }
}

fn summarise(
    outcomes: Vec<(usize, Result<TransactionView>)>,
    transaction: Option<TransactionView>,
) -> BulkTransferResponse {
    let mut response = summarise_ids(
        outcomes
            .iter()
            .map(|(index, outcome)| (*index, outcome.as_ref().map(|v| v.id).map_err(clone_error)))
            .collect(),
        transaction,
    );
    for ((_, outcome), result) in outcomes.into_iter().zip(&mut response.results) {
        result.transaction = outcome.ok();
    }
    response
}

/// The caller-facing copy of an error: its code and message are all a result carries.
fn clone_error(err: &Error) -> Error {
    Error::Replayed {
        kind: err.kind(),
        code: err.code().to_owned(),
        message: err.public_message(),
    }
}

fn summarise_ids(
    outcomes: Vec<(usize, Result<crate::api::TransactionId>)>,
    transaction: Option<TransactionView>,
) -> BulkTransferResponse {
    let mut response = BulkTransferResponse {
        transaction,
        posted: 0,
        rejected: 0,
        results: Vec::with_capacity(outcomes.len()),
    };
    for (index, outcome) in outcomes {
        let result = match outcome {
            Ok(id) => {
                response.posted += 1;
                BulkTransferResult {
                    index,
                    transaction_id: Some(id),
                    transaction: None,
                    error: None,
                }
            }
            Err(err) => {
                response.rejected += 1;
                BulkTransferResult {
                    index,
                    transaction_id: None,
                    transaction: None,
                    error: Some(ApiErrorBody {
                        code: err.code().to_owned(),
                        message: err.public_message(),
                        details: None,
                    }),
                }
            }
        };
        response.results.push(result);
    }
    response
}
