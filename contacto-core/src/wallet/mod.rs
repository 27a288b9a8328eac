//! The wallet: a double-entry ledger with group commit, exactly-once money movement, deposits
//! confirmed by a signed webhook, and reconciliation.

pub(crate) mod batcher;
mod bulk;
pub(crate) mod fees;
mod history;
mod holds;
pub(crate) mod ledger;
mod payments;
mod rib;
pub(crate) mod store;
mod withdrawals;

use std::future::Future;

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub(crate) use batcher::Ledger;
pub use bulk::MAX_BULK_TRANSFERS;
pub use history::HistoryQuery;
pub use ledger::DailyLimits;

use self::batcher::{Effect, KeyedRequest, Outcome, Replay};
use self::ledger::Intent;
use crate::Contacto;
use crate::api::{
    DepositId, DepositRequest, DepositStatus, DepositView, DepositWebhook, OpenWalletRequest,
    ReconciliationReport, Role, TransactionId, TransactionKind, TransactionView, TransferRequest,
    WalletId, WalletType, WalletView,
};
use crate::error::{Error, FieldError, FieldErrors, Result};
use crate::identity::{Credential, Principal};

/// Largest amount of one operation, in minor units (100 billion dinars): far above any real
/// payment, far below where sums of many could overflow `i64`.
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000_000;

/// Longest description of a transfer, payment or hold, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 500;

/// Longest accepted idempotency key.
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 255;

/// Largest history page.
pub const MAX_PAGE_SIZE: i64 = 100;

/// The currencies with system accounts; a wallet can only be opened in one of them.
const SUPPORTED_CURRENCIES: &[&str] = &["DZD"];

/// Longest payer reference of a bank-transfer deposit.
const DEPOSIT_REFERENCE_MAX_CHARS: usize = 100;

/// The wallet use cases: `contacto.wallet().transfer(..)`.
#[derive(Clone, Copy)]
pub struct Wallets<'a> {
    app: &'a Contacto,
}

impl<'a> Wallets<'a> {
    pub(crate) fn new(app: &'a Contacto) -> Self {
        Self { app }
    }

    pub(crate) async fn q<T>(
        &self,
        statement: &str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        self.app.metrics().query(statement, work).await
    }

    /// Whether the caller may see something that involves `wallets`: an administrator always, a
    /// user when one of them is theirs.
    pub(crate) async fn involves(
        &self,
        principal: &Principal,
        wallets: &[WalletId],
    ) -> Result<bool> {
        if principal.role == Role::Admin {
            return Ok(true);
        }
        self.owns_one_of(principal, wallets).await
    }

    /// Whether one of `wallets` is the caller's own, whatever the caller's role: what acting on
    /// something between wallets (settling a hold) takes, where seeing it does not.
    pub(crate) async fn owns_one_of(
        &self,
        principal: &Principal,
        wallets: &[WalletId],
    ) -> Result<bool> {
        let db = self.app.db().primary().await?;
        let mine = self
            .q(
                "wallet.wallets_of_owner",
                store::wallets_of_owner(&**db, principal.user_id),
            )
            .await?;
        Ok(mine.iter().any(|w| wallets.contains(&w.id)))
    }

    /// Opens the caller's wallet in a currency: `personal` for customers and professionals,
    /// `business` for merchants.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (wrong type for the role, unsupported currency),
    /// [`Error::Forbidden`] for administrators, [`Error::WalletExists`].
    pub async fn open(
        &self,
        principal: &Principal,
        request: &OpenWalletRequest,
    ) -> Result<WalletView> {
        let expected = match principal.role {
            Role::Customer | Role::Professional => WalletType::Personal,
            Role::Merchant => WalletType::Business,
            Role::Admin => {
                return Err(Error::Forbidden {
                    action: "open a wallet as an administrator",
                });
            }
        };
        let mut errors = FieldErrors::new();
        if request.wallet_type != expected {
            errors.push(FieldError::new(
                "type",
                "not_allowed",
                format!("your role opens {expected:?} wallets").to_lowercase(),
            ));
        }
        if !SUPPORTED_CURRENCIES.contains(&request.currency.as_str()) {
            errors.push(FieldError::new(
                "currency",
                "unsupported",
                format!("supported currencies: {}", SUPPORTED_CURRENCIES.join(", ")),
            ));
        }
        errors.into_result()?;
        let db = self.app.db().primary().await?;
        let opened = self
            .q(
                "wallet.insert_wallet",
                store::insert_wallet(&**db, principal.user_id, expected, &request.currency),
            )
            .await;
        self.app.wrote(principal);
        opened
    }

    /// A wallet the caller owns (any wallet, for administrators).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when it does not exist or is someone else's.
    pub async fn get(&self, principal: &Principal, id: WalletId) -> Result<WalletView> {
        let db = self.app.db().primary().await?;
        self.owned(&**db, principal, id).await
    }

    /// A wallet the caller owns, read on `client`.
    async fn owned(
        &self,
        client: &impl tokio_postgres::GenericClient,
        principal: &Principal,
        id: WalletId,
    ) -> Result<WalletView> {
        let wallet = self
            .q("wallet.wallet_by_id", store::wallet_by_id(client, id))
            .await?
            .filter(|w| may_see(principal, w));
        wallet.ok_or(Error::NotFound { resource: "wallet" })
    }

    /// The caller's wallets.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub async fn list(&self, principal: &Principal) -> Result<Vec<WalletView>> {
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.wallets_of_owner",
            store::wallets_of_owner(&**db, principal.user_id),
        )
        .await
    }

    /// Moves money from one of the caller's wallets to another wallet of the same currency,
    /// exactly once per idempotency key.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`], [`Error::NotFound`] (a wallet that is not the caller's, or does not
    /// exist), [`Error::InsufficientFunds`], [`Error::CurrencyMismatch`],
    /// [`Error::WalletFrozen`], [`Error::LimitExceeded`], [`Error::IdempotencyKeyReused`];
    /// [`Error::Forbidden`] with an API key (money leaves a wallet on its owner's login only);
    /// [`Error::RateLimited`] for a receiver named by email or phone while the caller's look-ups
    /// are locked.
    pub async fn transfer(
        &self,
        principal: &Principal,
        request: &TransferRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        let result = self
            .transfer_checked(principal, request, idempotency_key)
            .await;
        self.app.wrote(principal);
        self.app.metrics().operation("transfer", &result);
        result
    }

    async fn transfer_checked(
        &self,
        principal: &Principal,
        request: &TransferRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        refuse_api_key(principal, "send money with an API key")?;
        let mut errors = FieldErrors::new();
        check_transfer(request, &mut errors);
        let key = keyed(principal, idempotency_key, "transfer", request, &mut errors);
        errors.into_result()?;
        // A retry of a transfer to an email or phone is answered from its record before the
        // receiver is looked up again: the look-up may now be locked, or find someone else.
        if request.to_wallet_id.is_none()
            && let Some(key) = &key
            && let Some(replay) = self.app.ledger().recorded(key).await?
        {
            return match replay {
                Replay::One(Ok(Outcome::Transaction(view))) => {
                    Ok(visible_to(view, &[request.from_wallet_id]))
                }
                Replay::One(Err(err)) => Err(err),
                Replay::One(Ok(_)) | Replay::Group(_) => Err(Error::IdempotencyKeyReused),
            };
        }
        let intent = self.transfer_intent(principal, request).await?;
        let posted = self.app.ledger().post(intent, key, Effect::None).await?;
        Ok(visible_to(posted, &[request.from_wallet_id]))
    }

    /// What a transfer posts, its receiver found by wallet, email or phone. The request's fields
    /// are checked already ([`check_transfer`]); ownership and currency are checked under the
    /// batch's lock, with no extra round trip.
    async fn transfer_intent(
        &self,
        principal: &Principal,
        request: &TransferRequest,
    ) -> Result<Intent> {
        let to = match request.to_wallet_id {
            Some(wallet) => wallet,
            None => self.wallet_of_contact(principal, request).await?,
        };
        if to == request.from_wallet_id {
            return Err(Error::invalid(
                "to_email",
                "same_wallet",
                "a wallet cannot pay itself",
            ));
        }
        Ok(Intent {
            kind: TransactionKind::Transfer,
            currency: None,
            payer_owner: Some(principal.user_id.0),
            amount: request.amount,
            description: request.description.clone(),
            postings: vec![
                (request.from_wallet_id, -request.amount),
                (to, request.amount),
            ],
            outgoing_from: Some(request.from_wallet_id),
            gives_back: None,
            holds: Vec::new(),
            settlement: false,
        })
    }

    /// The receiver's wallet in the payer wallet's currency, found by email or phone.
    ///
    /// A miss answers that the address belongs to nobody, so misses are counted per caller
    /// ([`crate::ContactLookupThrottle`]): past the limit within the window, the caller's
    /// look-ups are all refused, hits too, until the lock ends. A hit is never counted.
    async fn wallet_of_contact(
        &self,
        principal: &Principal,
        request: &TransferRequest,
    ) -> Result<WalletId> {
        use crate::identity::store::{ThrottleScope, count_failure, locked_until};

        let from = self.get(principal, request.from_wallet_id).await?;
        let email = request.to_email.as_deref().map(|e| e.trim().to_lowercase());
        let phone = match request.to_phone.as_deref() {
            Some(raw) => Some(crate::identity::parse_phone_e164(raw).map_err(Error::from)?),
            None => None,
        };
        let policy = self.app.config().wallet.contact_lookups;
        let (scope, caller) = (
            ThrottleScope::ContactLookup,
            principal.user_id.0.to_string(),
        );
        let db = self.app.db().primary().await?;
        // Both on one connection, pipelined: one round trip.
        let (found, locked) = tokio::try_join!(
            self.q(
                "wallet.wallet_of_contact",
                store::wallet_of_contact(&**db, email.as_deref(), phone.as_deref(), &from.currency),
            ),
            self.q(
                "wallet.contact_lookup_lock",
                locked_until(&**db, scope, &caller)
            ),
        )?;
        if let Some(until) = locked {
            return Err(crate::identity::rate_limited(until));
        }
        if let Some(wallet) = found {
            return Ok(wallet);
        }
        // Counted after the look-up, in one statement that concurrent misses queue on, so no
        // burst of them slips under the limit.
        let locked = self
            .q(
                "wallet.count_contact_miss",
                count_failure(
                    &**db,
                    scope,
                    &caller,
                    policy.max_misses,
                    policy.window.as_secs_f64(),
                    policy.lockout.as_secs_f64(),
                ),
            )
            .await?;
        match locked {
            Some(until) => Err(crate::identity::rate_limited(until)),
            None => Err(Error::NotFound { resource: "wallet" }),
        }
    }

    /// The posted balance of a wallet at a past moment, read back from its entries.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn balance_at(
        &self,
        principal: &Principal,
        wallet: WalletId,
        at: time::OffsetDateTime,
    ) -> Result<crate::api::BalanceAt> {
        // History: a replica may answer once it has replayed the caller's last write.
        let posted = crate::db::read_on!(self.app.db(), Some(principal.user_id), |db| {
            self.owned(&***db, principal, wallet).await?;
            self.q("wallet.balance_at", store::balance_at(&***db, wallet, at))
                .await
        })?;
        Ok(crate::api::BalanceAt {
            wallet_id: wallet,
            at,
            posted,
        })
    }

    /// Freezes, unfreezes or re-levels a wallet (administrators). A frozen wallet neither sends
    /// nor receives; the change waits for any batch holding the wallet's lock, so no posting
    /// straddles it.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`], [`Error::Validation`] for a level outside 0..=2, [`Error::NotFound`].
    pub async fn administer(
        &self,
        principal: &Principal,
        wallet: WalletId,
        update: &crate::api::WalletAdminUpdate,
    ) -> Result<WalletView> {
        if principal.role != Role::Admin {
            return Err(Error::Forbidden {
                action: "administer wallets",
            });
        }
        if update
            .verification_level
            .is_some_and(|level| !(0..=2).contains(&level))
        {
            return Err(Error::invalid(
                "verification_level",
                "out_of_range",
                "0, 1 or 2",
            ));
        }
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.update_wallet_admin",
            store::update_wallet_admin(&**db, wallet, update.frozen, update.verification_level),
        )
        .await?
        .ok_or(Error::NotFound { resource: "wallet" })
    }

    /// One transaction with all its entries, if the caller owns one of its wallets.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn transaction(
        &self,
        principal: &Principal,
        id: TransactionId,
    ) -> Result<TransactionView> {
        let db = self.app.db().primary().await?;
        let view = self
            .q(
                "wallet.transaction_by_id",
                store::transaction_by_id(&**db, id),
            )
            .await?
            .ok_or(Error::NotFound {
                resource: "transaction",
            })?;
        if principal.role == Role::Admin {
            return Ok(view);
        }
        let mine = self
            .q(
                "wallet.wallets_of_owner",
                store::wallets_of_owner(&**db, principal.user_id),
            )
            .await?;
        let owned: Vec<WalletId> = mine.iter().map(|w| w.id).collect();
        if view.entries.iter().any(|e| owned.contains(&e.wallet_id)) {
            Ok(visible_to(view, &owned))
        } else {
            Err(Error::NotFound {
                resource: "transaction",
            })
        }
    }

    /// Starts a top-up of one of the caller's wallets; it stays pending until the payment
    /// provider confirms it through the signed webhook.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`], [`Error::NotFound`], [`Error::WalletFrozen`];
    /// [`Error::Forbidden`] for an administrator naming a wallet not their own.
    pub async fn deposit(
        &self,
        principal: &Principal,
        request: &DepositRequest,
    ) -> Result<DepositView> {
        let mut errors = FieldErrors::new();
        errors.check(check_amount(request.amount));
        match request.reference.as_deref() {
            Some(reference)
                if reference.trim().is_empty()
                    || reference.chars().count() > DEPOSIT_REFERENCE_MAX_CHARS =>
            {
                errors.push(FieldError::new(
                    "reference",
                    "invalid_format",
                    format!("1 to {DEPOSIT_REFERENCE_MAX_CHARS} characters"),
                ));
            }
            None if request.method == crate::api::DepositMethod::BankTransfer => {
                errors.push(FieldError::new(
                    "reference",
                    "required",
                    "bank transfers quote a reference",
                ));
            }
            _ => {}
        }
        errors.into_result()?;
        let wallet = self.get(principal, request.wallet_id).await?;
        // An administrator sees every wallet, but tops up only their own: a deposit is the
        // owner's, and a system account is credited by its own postings, never by a provider.
        if !owns(principal, &wallet) {
            return Err(Error::Forbidden {
                action: "deposit into a wallet of somebody else",
            });
        }
        if wallet.frozen {
            return Err(Error::WalletFrozen(wallet.id));
        }
        let db = self.app.db().primary().await?;
        let result = self
            .q(
                "wallet.insert_deposit",
                store::insert_deposit(
                    &**db,
                    principal.user_id,
                    &wallet,
                    request.amount,
                    request.method,
                    request.reference.as_deref(),
                ),
            )
            .await;
        self.app.wrote(principal);
        self.app.metrics().operation("deposit", &result);
        result
    }

    /// One of the caller's deposits.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn deposit_status(
        &self,
        principal: &Principal,
        id: DepositId,
    ) -> Result<DepositView> {
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.deposit_by_id",
            store::deposit_by_id(&**db, id, false),
        )
        .await?
        .filter(|(_, owner)| principal.role == Role::Admin || *owner == principal.user_id)
        .map(|(deposit, _)| deposit)
        .ok_or(Error::NotFound {
            resource: "deposit",
        })
    }

    /// Handles the payment provider's notification: `raw_body` signed with HMAC-SHA256 under the
    /// configured secret, `signature` as sent (`sha256=<hex>`). Success credits the wallet from
    /// the funding account in the same transaction that settles the deposit; failure settles it
    /// with no balance change; a repeated delivery of the same event changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSignature`] (nothing is read or written), [`Error::Validation`] for a body
    /// that is not a notification, [`Error::NotFound`], [`Error::DepositSettled`] when the
    /// deposit was settled the other way.
    pub async fn deposit_webhook(
        &self,
        raw_body: &[u8],
        signature: Option<&str>,
    ) -> Result<DepositView> {
        self.verify_signature(raw_body, signature)?;
        let event: DepositWebhook = serde_json::from_slice(raw_body)
            .map_err(|err| Error::invalid("body", "invalid_format", err.to_string()))?;
        // Refused here, not by the database: a success settles inside a ledger batch, where a
        // text PostgreSQL cannot store (a NUL) would fail the whole batch.
        if event.provider_reference.trim().is_empty()
            || event.provider_reference.chars().count() > 200
            || event.provider_reference.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "provider_reference",
                "invalid_format",
                "1 to 200 characters, none of them control characters",
            ));
        }
        let db = self.app.db().primary().await?;
        let (deposit, _) = self
            .q(
                "wallet.deposit_by_id",
                store::deposit_by_id(&**db, event.deposit_id, false),
            )
            .await?
            .ok_or(Error::NotFound {
                resource: "deposit",
            })?;
        drop(db);
        match (deposit.status, event.status) {
            (current, wanted) if current == wanted => return Ok(deposit),
            (DepositStatus::Pending, DepositStatus::Succeeded) => {
                let funding = self.system_account("funding", &deposit.currency).await?;
                let intent = Intent {
                    kind: TransactionKind::Deposit,
                    currency: Some(deposit.currency.clone()),
                    payer_owner: None,
                    amount: deposit.amount,
                    description: Some(history::deposit_description(deposit.method.as_str())),
                    postings: vec![
                        (funding, -deposit.amount),
                        (deposit.wallet_id, deposit.amount),
                    ],
                    outgoing_from: None,
                    gives_back: None,
                    holds: Vec::new(),
                    // The deposit was opened before any freeze (a frozen wallet opens none) and
                    // the money has reached the platform: it is credited, and stays in the
                    // frozen wallet. Refused, it would be in no book, and the provider, told
                    // 409, would not call again.
                    settlement: true,
                };
                let effect = Effect::SettleDeposit {
                    deposit: deposit.id,
                    provider_reference: event.provider_reference.clone(),
                };
                let posted = self.app.ledger().post(intent, None, effect).await;
                // Counted when this call settled it, not when another had (a repeated delivery).
                if !matches!(posted, Err(Error::DepositSettled(_))) {
                    self.app
                        .metrics()
                        .operation("deposit_confirmation", &posted);
                }
                match posted {
                    Ok(_) | Err(Error::DepositSettled(_)) => {}
                    Err(err) => return Err(err),
                }
            }
            (DepositStatus::Pending, DepositStatus::Failed) => {
                let db = self.app.db().primary().await?;
                let closed = store::settle_deposit(
                    &**db,
                    deposit.id,
                    DepositStatus::Failed,
                    &event.provider_reference,
                    None,
                )
                .await;
                // Counted when this call closed it, not when another had (a repeated delivery).
                if !matches!(closed, Ok(false)) {
                    self.app.metrics().operation("deposit_failure", &closed);
                }
                closed?;
            }
            (_, DepositStatus::Pending) => {
                return Err(Error::invalid(
                    "status",
                    "invalid_value",
                    "succeeded or failed",
                ));
            }
            _ => {}
        }
        let db = self.app.db().primary().await?;
        let (settled, _) = store::deposit_by_id(&**db, event.deposit_id, false)
            .await?
            .ok_or(Error::NotFound {
                resource: "deposit",
            })?;
        if settled.status == event.status {
            Ok(settled)
        } else {
            Err(Error::DepositSettled(match settled.status {
                DepositStatus::Succeeded => "succeeded",
                DepositStatus::Failed => "failed",
                DepositStatus::Pending => "pending",
            }))
        }
    }

    fn verify_signature(&self, raw_body: &[u8], signature: Option<&str>) -> Result<()> {
        let secret = self
            .app
            .config()
            .wallet
            .webhook_secret
            .as_ref()
            // An empty key would let anyone sign: it counts as no key.
            .filter(|secret| !secret.expose_secret().is_empty())
            .ok_or(Error::InvalidSignature)?;
        let given = signature
            .and_then(|s| s.trim().strip_prefix("sha256="))
            .and_then(crate::hex::decode)
            .ok_or(Error::InvalidSignature)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .map_err(|e| Error::internal("keying the webhook HMAC", e.to_string()))?;
        mac.update(raw_body);
        // Constant-time comparison: the signature cannot be guessed byte by byte.
        mac.verify_slice(&given)
            .map_err(|_| Error::InvalidSignature)
    }

    pub(crate) async fn system_account(&self, role: &str, currency: &str) -> Result<WalletId> {
        let key = (role.to_owned(), currency.to_owned());
        let cached = self
            .app
            .system_accounts()
            .read()
            .ok()
            .and_then(|accounts| accounts.get(&key).copied());
        if let Some(id) = cached {
            return Ok(id);
        }
        let db = self.app.db().primary().await?;
        let id = self
            .q(
                "wallet.system_wallet",
                store::system_wallet(&**db, role, currency),
            )
            .await?
            .ok_or_else(|| {
                Error::internal(
                    "finding a system account",
                    format!("no {role} account in {currency}"),
                )
            })?;
        if let Ok(mut accounts) = self.app.system_accounts().write() {
            accounts.insert(key, id);
        }
        Ok(id)
    }

    /// Checks the books: every transaction sums to zero, every stored balance equals the sum of
    /// its entries (and its last entry's balance), and each currency sums to zero. Discrepancies
    /// are reported in detail and published as `contacto_reconciliation_discrepancies`.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] for anyone but an administrator (`None` is the operator's own
    /// command line), [`Error::Unavailable`].
    pub async fn reconcile(&self, principal: Option<&Principal>) -> Result<ReconciliationReport> {
        if principal.is_some_and(|p| p.role != Role::Admin) {
            return Err(Error::Forbidden {
                action: "run reconciliation",
            });
        }
        let mut db = self.app.db().primary().await?;
        // One snapshot for the three checks, so concurrent postings cannot look like errors.
        let tx = db
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| crate::db::error::from_pg(e, "starting reconciliation"))?;
        let (unbalanced_transactions, transactions_checked) =
            store::unbalanced_transactions(&*tx).await?;
        let (mismatched_wallets, wallets_checked) = store::mismatched_wallets(&*tx).await?;
        let unbalanced_currencies = store::unbalanced_currencies(&*tx).await?;
        let discrepancies =
            unbalanced_transactions.len() + mismatched_wallets.len() + unbalanced_currencies.len();
        self.app.metrics().reconciliation(discrepancies);
        Ok(ReconciliationReport {
            balanced: discrepancies == 0,
            unbalanced_transactions,
            mismatched_wallets,
            unbalanced_currencies,
            transactions_checked,
            wallets_checked,
        })
    }

    /// Deletes idempotency records past the configured retention.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`].
    pub async fn purge_idempotency_keys(&self) -> Result<u64> {
        let keep = self.app.config().wallet.idempotency_retention.as_secs_f64();
        let db = self.app.db().primary().await?;
        store::purge_idempotency(&**db, keep).await
    }
}

pub(crate) fn check_amount(amount: i64) -> std::result::Result<(), FieldError> {
    if (1..=MAX_AMOUNT_MINOR).contains(&amount) {
        Ok(())
    } else {
        Err(FieldError::new(
            "amount",
            "out_of_range",
            format!("a whole number of minor units from 1 to {MAX_AMOUNT_MINOR}"),
        ))
    }
}

pub(crate) fn check_description(description: Option<&str>) -> std::result::Result<(), FieldError> {
    match description {
        Some(text) if text.chars().count() > DESCRIPTION_MAX_CHARS => Err(FieldError::new(
            "description",
            "too_long",
            format!("at most {DESCRIPTION_MAX_CHARS} characters"),
        )),
        Some(text) if text.chars().any(char::is_control) => Err(FieldError::new(
            "description",
            "invalid_format",
            "must not contain control characters",
        )),
        _ => Ok(()),
    }
}

/// A transfer request's own fields: the amount, the description, exactly one receiver.
fn check_transfer(request: &TransferRequest, errors: &mut FieldErrors) {
    errors.check(check_amount(request.amount));
    errors.check(check_description(request.description.as_deref()));
    let named = [
        request.to_wallet_id.is_some(),
        request.to_email.is_some(),
        request.to_phone.is_some(),
    ]
    .iter()
    .filter(|given| **given)
    .count();
    if named != 1 {
        errors.push(FieldError::new(
            "to_wallet_id",
            "required",
            "give exactly one of to_wallet_id, to_email, to_phone",
        ));
    }
    if request.to_wallet_id == Some(request.from_wallet_id) {
        errors.push(FieldError::new(
            "to_wallet_id",
            "same_wallet",
            "a wallet cannot pay itself",
        ));
    }
}

/// Money leaves a wallet on its owner's own login only. An API key is a till's: it may refund
/// payments made to its owner and capture or void holds made to them, never send money out
/// (transfers, payments, holds on its owner's wallets, withdrawals), so a leaked till key cannot
/// empty the shop.
pub(crate) fn refuse_api_key(principal: &Principal, action: &'static str) -> Result<()> {
    match principal.credential {
        Credential::ApiKey(_) => Err(Error::Forbidden { action }),
        Credential::Token => Ok(()),
    }
}

/// Checks an idempotency key and binds it to the caller and a hash of the request.
pub(crate) fn keyed(
    principal: &Principal,
    key: Option<&str>,
    operation: &str,
    request: &impl serde::Serialize,
    errors: &mut FieldErrors,
) -> Option<KeyedRequest> {
    let key = key?;
    let printable = key.chars().all(|c| (' '..='~').contains(&c));
    if key.is_empty() || key.chars().count() > IDEMPOTENCY_KEY_MAX_CHARS || !printable {
        errors.push(FieldError::new(
            "Idempotency-Key",
            "invalid_format",
            format!("1 to {IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters"),
        ));
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(request).unwrap_or_default());
    Some(KeyedRequest {
        caller: principal.user_id.0,
        key: key.to_owned(),
        request_hash: hasher.finalize().into(),
    })
}

/// Whether `principal` may read `wallet`: its owner, or an administrator.
pub(crate) fn may_see(principal: &Principal, wallet: &WalletView) -> bool {
    principal.role == Role::Admin || owns(principal, wallet)
}

/// Whether `wallet` is the caller's own, whatever the caller's role: what moving money out of it
/// or into it on the owner's behalf takes. A system account is nobody's.
pub(crate) fn owns(principal: &Principal, wallet: &WalletView) -> bool {
    wallet.owner_id == Some(principal.user_id)
}

/// `view` as a caller owning `owned` may see it: the other wallets' balances after the entries are
/// theirs to know, not the caller's.
pub(crate) fn visible_to(mut view: TransactionView, owned: &[WalletId]) -> TransactionView {
    for entry in &mut view.entries {
        if !owned.contains(&entry.wallet_id) {
            entry.balance_after = None;
        }
    }
    view
}

/// A fresh idempotency key, for embedders that retry their own calls: a UUIDv7, which begins
/// with the time it was made, so that the keys of a busy ledger are written next to one another
/// in their index instead of each at a random place in it (V20).
pub fn new_idempotency_key() -> String {
    Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_valid_and_sort_in_the_order_they_are_made() {
        let keys: Vec<String> = (0..2_000).map(|_| new_idempotency_key()).collect();
        let principal = Principal {
            user_id: crate::api::UserId(Uuid::nil()),
            role: crate::api::Role::Customer,
            credential: Credential::Token,
        };
        for key in &keys {
            let mut errors = FieldErrors::new();
            assert!(keyed(&principal, Some(key), "transfer", &(), &mut errors).is_some());
            assert_eq!(Uuid::parse_str(key).unwrap().get_version_num(), 7);
        }
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "made within the same millisecond too, each key sorts after the one before"
        );
    }
}
