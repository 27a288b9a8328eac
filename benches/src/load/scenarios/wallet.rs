//! The money scenarios, over `--users` customers registered and funded through the API:
//!
//! - `transfers`: one P2P transfer of one centime per request, both wallets chosen uniformly or
//!   with a Zipf skew;
//! - `payments-hot`: merchant payments, first with the merchant chosen uniformly among
//!   `--merchants` (`payments_uniform`), then with `--hot-share` of them to one merchant
//!   (`payments`); the report divides the second rate by the first;
//! - `bulk`: `POST /transfers/batch` of `--batch-size` transfers from one wallet to others; the
//!   units of work are the transfers posted.

use std::time::Instant;

use contacto_client::Client;
use contacto_client::api::{
    BulkTransferRequest, PaymentRequest, Role, TransferRequest, WalletId, WalletType,
};
use rand::Rng;
use rand::distr::Distribution as _;
use rand_distr::Zipf;

use super::{Context, Distribution, Outcome};
use crate::directory_seed::BoxError;
use crate::load::runner::{Vu, Workload};
use crate::load::setup::{Account, fund, register};
use crate::load::threshold::Figures;

/// What one payment costs the payer, in centimes: 1 DZD, so a fee of 2 centimes at 150 bps.
const PAYMENT_MINOR: i64 = 100;

/// Chooses wallets by index, uniformly or Zipf-skewed.
#[derive(Debug, Clone)]
pub(super) struct Picker {
    count: usize,
    zipf: Option<Zipf<f64>>,
}

impl Picker {
    pub(super) fn new(
        count: usize,
        distribution: Distribution,
        exponent: f64,
    ) -> Result<Self, BoxError> {
        if count < 2 {
            return Err("a scenario that moves money needs at least 2 users".into());
        }
        let zipf = match distribution {
            Distribution::Uniform => None,
            Distribution::Zipf => Some(Zipf::new(count as f64, exponent)?),
        };
        Ok(Self { count, zipf })
    }

    pub(super) fn pick(&self, rng: &mut impl Rng) -> usize {
        match &self.zipf {
            // Zipf draws 1..=count, 1 the most often.
            Some(zipf) => (zipf.sample(rng) as usize)
                .saturating_sub(1)
                .min(self.count - 1),
            None => rng.random_range(0..self.count),
        }
    }

    /// Another index than `not`.
    pub(super) fn pick_other(&self, rng: &mut impl Rng, not: usize) -> usize {
        let other = self.pick(rng);
        if other == not {
            (other + 1) % self.count
        } else {
            other
        }
    }
}

/// `count` customers with funded personal wallets.
pub(super) async fn customers(ctx: &Context, count: usize) -> Result<Vec<Account>, BoxError> {
    let started = Instant::now();
    eprintln!("registering {count} customers, opening and funding their wallets ...");
    let accounts = register(
        &ctx.client,
        &ctx.run_id,
        Role::Customer,
        count,
        Some(WalletType::Personal),
    )
    .await?;
    fund(
        &accounts,
        &ctx.client,
        ctx.secret()?,
        ctx.settings.funding_minor,
    )
    .await?;
    eprintln!("  done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(accounts)
}

/// `count` merchants with business wallets.
pub(super) async fn merchants(ctx: &Context, count: usize) -> Result<Vec<WalletId>, BoxError> {
    eprintln!("registering {count} merchants ...");
    let accounts = register(
        &ctx.client,
        &ctx.run_id,
        Role::Merchant,
        count.max(1),
        Some(WalletType::Business),
    )
    .await?;
    accounts.iter().map(Account::wallet).collect()
}

/// Each account's client and wallet.
fn wallets(accounts: &[Account]) -> Result<Vec<(Client, WalletId)>, BoxError> {
    accounts
        .iter()
        .map(|a| Ok((a.client.clone(), a.wallet()?)))
        .collect()
}

struct Transfers {
    accounts: Vec<(Client, WalletId)>,
    picker: Picker,
}

impl Workload for Transfers {
    async fn iteration(&self, vu: &mut Vu) {
        let from = self.picker.pick(&mut vu.rng);
        let to = self.picker.pick_other(&mut vu.rng, from);
        let (client, from_wallet) = &self.accounts[from];
        let request = TransferRequest {
            from_wallet_id: *from_wallet,
            to_wallet_id: Some(self.accounts[to].1),
            to_email: None,
            to_phone: None,
            amount: 1,
            description: None,
        };
        vu.call("transfers", client.wallet().transfer(&request))
            .await;
    }
}

pub(super) async fn run_transfers(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let accounts = customers(ctx, ctx.settings.users).await?;
    let s = &ctx.settings;
    let workload = Transfers {
        picker: Picker::new(accounts.len(), s.distribution, s.zipf_exponent)?,
        accounts: wallets(&accounts)?,
    };
    outcome.phase(ctx, "transfers", workload).await;
    Ok(())
}

struct Payments {
    payers: Vec<(Client, WalletId)>,
    merchants: Vec<WalletId>,
    hot_share: f64,
    op: &'static str,
}

impl Workload for Payments {
    async fn iteration(&self, vu: &mut Vu) {
        let (client, payer) = &self.payers[vu.rng.random_range(0..self.payers.len())];
        let merchant = if vu.rng.random_bool(self.hot_share) {
            0
        } else {
            vu.rng.random_range(0..self.merchants.len())
        };
        let request = PaymentRequest {
            payer_wallet_id: *payer,
            merchant_wallet_id: self.merchants[merchant],
            amount: PAYMENT_MINOR,
            description: None,
        };
        vu.call(self.op, client.wallet().pay(&request)).await;
    }
}

pub(super) async fn run_payments(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let payers = wallets(&customers(ctx, ctx.settings.users).await?)?;
    let merchants = merchants(ctx, ctx.settings.merchants).await?;
    let hot_share = ctx.settings.hot_share.clamp(0.0, 1.0);
    for (op, share) in [("payments_uniform", 0.0), ("payments", hot_share)] {
        let workload = Payments {
            payers: payers.clone(),
            merchants: merchants.clone(),
            hot_share: share,
            op,
        };
        outcome.phase(ctx, op, workload).await;
    }
    let recordings = &outcome.recordings;
    if let (Some(hot), Some(uniform)) = (
        recordings.rate(Some("payments")),
        recordings.rate(Some("payments_uniform")),
    ) {
        outcome
            .ratios
            .insert("payments hot / uniform".to_owned(), hot / uniform);
    }
    Ok(())
}

struct Bulk {
    accounts: Vec<(Client, WalletId)>,
    picker: Picker,
    batch_size: usize,
}

impl Workload for Bulk {
    async fn iteration(&self, vu: &mut Vu) {
        let from = self.picker.pick(&mut vu.rng);
        let (client, from_wallet) = &self.accounts[from];
        let transfers = (0..self.batch_size)
            .map(|_| TransferRequest {
                from_wallet_id: *from_wallet,
                to_wallet_id: Some(self.accounts[self.picker.pick_other(&mut vu.rng, from)].1),
                to_email: None,
                to_phone: None,
                amount: 1,
                description: None,
            })
            .collect();
        let request = BulkTransferRequest {
            transfers,
            atomic: false,
        };
        vu.call_counting("bulk", client.wallet().transfer_bulk(&request), |r| {
            r.posted as u64
        })
        .await;
    }
}

pub(super) async fn run_bulk(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let accounts = customers(ctx, ctx.settings.users).await?;
    let s = &ctx.settings;
    let workload = Bulk {
        picker: Picker::new(accounts.len(), s.distribution, s.zipf_exponent)?,
        accounts: wallets(&accounts)?,
        batch_size: s.batch_size.clamp(1, contacto_core::MAX_BULK_TRANSFERS),
    };
    outcome.phase(ctx, "bulk", workload).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    #[test]
    fn zipf_favours_the_first_wallets_and_never_pairs_a_wallet_with_itself() {
        let mut rng = SmallRng::seed_from_u64(7);
        let zipf = Picker::new(1000, Distribution::Zipf, 1.0).unwrap();
        let uniform = Picker::new(1000, Distribution::Uniform, 1.0).unwrap();
        let first =
            |p: &Picker, rng: &mut SmallRng| (0..10_000).filter(|_| p.pick(rng) == 0).count();
        assert!(
            first(&zipf, &mut rng) > 1000,
            "Zipf(1.0) over 1000 gives index 0 about 13%"
        );
        assert!(first(&uniform, &mut rng) < 50);
        for _ in 0..10_000 {
            let from = zipf.pick(&mut rng);
            assert!(from < 1000);
            assert_ne!(zipf.pick_other(&mut rng, from), from);
        }
        assert!(Picker::new(1, Distribution::Uniform, 1.0).is_err());
    }
}
