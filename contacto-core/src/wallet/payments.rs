//! Merchant payments with fees, and refunds.

use super::batcher::Effect;
use super::ledger::Intent;
use super::{Wallets, check_amount, check_description, keyed, refuse_api_key, store};
use crate::api::{
    MerchantFee, PaymentRequest, PaymentView, RefundRequest, Role, TransactionId, TransactionKind,
    TransactionView, UserId, WalletType,
};
use crate::error::{Error, FieldError, FieldErrors, Result};
use crate::identity::Principal;

impl Wallets<'_> {
    /// A customer pays a merchant's business wallet. The merchant's fee (its configured basis
    /// points, or the default) goes from the merchant's side to fee revenue in the same
    /// transaction; see `fees.rs` for the rounding rule. Only the payer's own credentials can take
    /// money out of the payer's wallet.
    ///
    /// # Errors
    ///
    /// As [`Wallets::transfer`] (an API key is [`Error::Forbidden`]); [`Error::NotFound`] when
    /// the merchant wallet is not a business wallet.
    pub async fn pay(
        &self,
        principal: &Principal,
        request: &PaymentRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        let result = self.pay_checked(principal, request, idempotency_key).await;
        self.app.wrote(principal);
        self.app.metrics().operation("payment", &result);
        result
    }

    async fn pay_checked(
        &self,
        principal: &Principal,
        request: &PaymentRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        refuse_api_key(principal, "pay with an API key")?;
        let mut errors = FieldErrors::new();
        errors.check(check_amount(request.amount));
        errors.check(check_description(request.description.as_deref()));
        if request.payer_wallet_id == request.merchant_wallet_id {
            errors.push(FieldError::new(
                "merchant_wallet_id",
                "same_wallet",
                "a wallet cannot pay itself",
            ));
        }
        let key = keyed(principal, idempotency_key, "payment", request, &mut errors);
        errors.into_result()?;
        // One statement reads both wallets and the merchant's fee. The payer's wallet must be the
        // caller's; checking it here also keeps system accounts (whose ids show in every payment)
        // out of the postings.
        let db = self.app.db().primary().await?;
        let prepared = self.app.db().prepared_statements();
        let (payer_wallet, merchant_wallet, merchant_bps) = self
            .q(
                "wallet.payment_parties",
                store::payment_parties(
                    &db,
                    prepared,
                    request.payer_wallet_id,
                    request.merchant_wallet_id,
                ),
            )
            .await?;
        drop(db);
        // The caller's own, whatever their role: an administrator sees every wallet but pays
        // from none of them but theirs (a system account, nobody's, never pays).
        payer_wallet
            .filter(|w| super::owns(principal, w))
            .ok_or(Error::NotFound { resource: "wallet" })?;
        let merchant_wallet = merchant_wallet
            .filter(|w| w.wallet_type == WalletType::Business && w.owner_id.is_some())
            .ok_or(Error::NotFound {
                resource: "merchant wallet",
            })?;
        let bps = merchant_bps.unwrap_or(self.app.config().wallet.default_merchant_fee_bps);
        let fee = super::fees::fee_minor(request.amount, bps);
        let fee_revenue = self
            .system_account("fee_revenue", &merchant_wallet.currency)
            .await?;
        let mut postings = vec![
            (request.payer_wallet_id, -request.amount),
            (request.merchant_wallet_id, request.amount - fee),
        ];
        if fee > 0 {
            postings.push((fee_revenue, fee));
        }
        // The merchant's share is zero when the fee is the whole amount: no entry for it.
        postings.retain(|(_, amount)| *amount != 0);
        let intent = Intent {
            kind: TransactionKind::Payment,
            currency: Some(merchant_wallet.currency),
            payer_owner: Some(principal.user_id.0),
            amount: request.amount,
            description: request.description.clone(),
            postings,
            outgoing_from: Some(request.payer_wallet_id),
            gives_back: None,
            holds: Vec::new(),
            settlement: false,
        };
        let effect = Effect::RecordPayment {
            payer: request.payer_wallet_id,
            merchant: request.merchant_wallet_id,
            fee,
        };
        let posted = self.app.ledger().post(intent, key, effect).await?;
        Ok(super::visible_to(posted, &[request.payer_wallet_id]))
    }

    /// The merchant gives back all or part of a payment, possibly several times, never more in
    /// total than was paid; the fee is given back pro rata.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] unless the caller owns the merchant wallet,
    /// [`Error::RefundExceedsPayment`], [`Error::InsufficientFunds`] when the merchant wallet
    /// no longer holds enough.
    pub async fn refund(
        &self,
        principal: &Principal,
        payment: TransactionId,
        request: &RefundRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        let result = self
            .refund_checked(principal, payment, request, idempotency_key)
            .await;
        self.app.wrote(principal);
        self.app.metrics().operation("refund", &result);
        result
    }

    async fn refund_checked(
        &self,
        principal: &Principal,
        payment: TransactionId,
        request: &RefundRequest,
        idempotency_key: Option<&str>,
    ) -> Result<TransactionView> {
        let mut errors = FieldErrors::new();
        errors.check(check_amount(request.amount));
        let key = keyed(
            principal,
            idempotency_key,
            &format!("refund {payment}"),
            request,
            &mut errors,
        );
        errors.into_result()?;
        let paid = self.payment(principal, payment).await?;
        let merchant_wallet = self.get(principal, paid.merchant_wallet_id).await?;
        if merchant_wallet.owner_id != Some(principal.user_id) {
            return Err(Error::NotFound {
                resource: "payment",
            });
        }
        let fee_revenue = self.system_account("fee_revenue", &paid.currency).await?;
        // Provisional postings naming every wallet to lock; the batch computes the fee share
        // under the payment's lock and rewrites them.
        // Ownership of the merchant wallet was checked above (it never changes); refunds do not
        // count against a daily outgoing limit.
        let intent = Intent {
            kind: TransactionKind::Refund,
            currency: Some(paid.currency),
            payer_owner: None,
            amount: request.amount,
            description: Some(format!("refund of {payment}")),
            postings: vec![
                (paid.merchant_wallet_id, -request.amount),
                (paid.payer_wallet_id, request.amount),
                (fee_revenue, 0),
            ],
            outgoing_from: None,
            gives_back: None,
            holds: Vec::new(),
            settlement: false,
        };
        let effect = Effect::Refund {
            payment,
            fee_revenue,
        };
        let posted = self.app.ledger().post(intent, key, effect).await?;
        Ok(super::visible_to(posted, &[paid.merchant_wallet_id]))
    }

    /// A payment, for its payer, its merchant or an administrator.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub async fn payment(&self, principal: &Principal, id: TransactionId) -> Result<PaymentView> {
        let db = self.app.db().primary().await?;
        let paid = self
            .q(
                "wallet.payment_by_id",
                store::payment_by_id(&**db, id, false),
            )
            .await?
            .ok_or(Error::NotFound {
                resource: "payment",
            })?
            .view;
        // One pooled connection at a time: never hold one while waiting for another.
        drop(db);
        if self
            .involves(principal, &[paid.payer_wallet_id, paid.merchant_wallet_id])
            .await?
        {
            Ok(paid)
        } else {
            Err(Error::NotFound {
                resource: "payment",
            })
        }
    }

    /// Sets a merchant's fee (administrators).
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`], [`Error::Validation`] outside 0..=10000, [`Error::NotFound`] when the
    /// user is not a merchant.
    pub async fn set_merchant_fee(
        &self,
        principal: &Principal,
        merchant: UserId,
        fee: MerchantFee,
    ) -> Result<MerchantFee> {
        if principal.role != Role::Admin {
            return Err(Error::Forbidden {
                action: "set merchant fees",
            });
        }
        if !(0..=10_000).contains(&fee.fee_bps) {
            return Err(Error::invalid(
                "fee_bps",
                "out_of_range",
                "0 to 10000 basis points",
            ));
        }
        let merchant_user = self.app.identity().user(merchant).await?;
        if merchant_user.map(|u| u.role) != Some(Role::Merchant) {
            return Err(Error::NotFound {
                resource: "merchant",
            });
        }
        let db = self.app.db().primary().await?;
        self.q(
            "wallet.set_merchant_fee",
            store::set_merchant_fee(&**db, merchant, fee.fee_bps),
        )
        .await?;
        Ok(fee)
    }
}
