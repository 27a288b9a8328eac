//! `mixed`, the realistic day: each virtual user is one customer who, between pauses (think
//! time, 1 s by default), mostly reads the directory, sometimes looks at their wallet, reviews a
//! professional, pays a merchant or sends money, and now and then tops up or withdraws.
//!
//! | share | what | operation |
//! |---|---|---|
//! | 50% | a search of the directory mix | `search` |
//! | 15% | a professional's profile | `profile` |
//! | 8% | a professional's reviews | `reviews` |
//! | 5% | one's wallets | `wallets` |
//! | 5% | one's history, last 20 | `history` |
//! | 4% | a review of a professional not yet reviewed | `review` |
//! | 5% | a payment of 50 DZD to a merchant | `payments` |
//! | 5% | a transfer of 10 DZD to another customer | `transfers` |
//! | 2% | a top-up of 1,000 DZD: the deposit, then the provider's webhook | `deposits`, `webhooks` |
//! | 1% | a withdrawal of 20 DZD to a bank account | `withdrawals` |

use std::sync::atomic::{AtomicUsize, Ordering};

use contacto_client::api::{
    PaymentRequest, ReviewRequest, ReviewSort, TransferRequest, WalletId, WithdrawalRequest,
};
use contacto_client::{Client, HistoryFilter};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::directory::{ensure_directory, one_search};
use super::wallet::{customers, merchants};
use super::{Context, Outcome};
use crate::directory_queries::Mix;
use crate::directory_seed::BoxError;
use crate::load::runner::{Vu, Workload};
use crate::load::setup::{Account, rib, webhook};

/// The operations `mixed` records.
pub(super) const OPERATIONS: &[&str] = &[
    "search",
    "profile",
    "reviews",
    "wallets",
    "history",
    "review",
    "payments",
    "transfers",
    "deposits",
    "webhooks",
    "withdrawals",
];

const REVIEW_TEXTS: &[&str] = &[
    "Travail soigné, je recommande.",
    "Ponctuel et aimable, prix correct.",
    "خدمة ممتازة وسعر معقول",
    "Rapide mais un peu cher.",
];

struct Mixed {
    client: Client,
    mix: Mix,
    customers: Vec<Account>,
    /// Per customer: how many professionals it has reviewed, so it never reviews one twice.
    reviewed: Vec<AtomicUsize>,
    merchants: Vec<WalletId>,
    professionals: Vec<String>,
    secret: String,
    rib: String,
}

impl Mixed {
    fn professional(&self, rng: &mut impl Rng) -> &str {
        self.professionals
            .choose(rng)
            .map_or("no-professional", String::as_str)
    }

    async fn review(&self, vu: &mut Vu, me: usize) {
        let done = self.reviewed[me].fetch_add(1, Ordering::Relaxed);
        if done >= self.professionals.len() {
            return one_search(&self.client, &self.mix, vu).await;
        }
        // Each customer walks the professionals in its own order, one new one per review.
        let slug = &self.professionals[(me * 7919 + done) % self.professionals.len()];
        let request = ReviewRequest {
            overall_rating: vu.rng.random_range(3..=5),
            quality_rating: None,
            professionalism_rating: None,
            value_rating: None,
            punctuality_rating: None,
            communication_rating: None,
            text: REVIEW_TEXTS.choose(&mut vu.rng).map(|t| (*t).to_owned()),
            would_recommend: true,
        };
        let client = &self.customers[me].client;
        vu.call("review", client.directory().review(slug, &request))
            .await;
    }

    async fn money(&self, vu: &mut Vu, me: usize, roll: u32) {
        let account = &self.customers[me];
        let (client, Some(wallet)) = (&account.client, account.wallet) else {
            return;
        };
        match roll {
            87..92 => {
                let request = PaymentRequest {
                    payer_wallet_id: wallet,
                    merchant_wallet_id: *self.merchants.choose(&mut vu.rng).unwrap_or(&wallet),
                    amount: 5_000,
                    description: Some("Commande".to_owned()),
                };
                vu.call("payments", client.wallet().pay(&request)).await;
            }
            92..97 => {
                let other = (me + vu.rng.random_range(1..self.customers.len().max(2)))
                    % self.customers.len();
                let request = TransferRequest {
                    from_wallet_id: wallet,
                    to_wallet_id: self.customers[other].wallet,
                    to_email: None,
                    to_phone: None,
                    amount: 1_000,
                    description: Some("Remboursement".to_owned()),
                };
                vu.call("transfers", client.wallet().transfer(&request))
                    .await;
            }
            97..99 => {
                let deposit = contacto_client::api::DepositRequest {
                    wallet_id: wallet,
                    amount: 100_000,
                    method: contacto_client::api::DepositMethod::Edahabia,
                    reference: None,
                };
                let Some(pending) = vu.call("deposits", client.wallet().deposit(&deposit)).await
                else {
                    return;
                };
                let (body, signature) = webhook(&self.secret, &pending.id.to_string());
                let webhook = self.client.wallet();
                vu.call("webhooks", webhook.deposit_webhook(&body, &signature))
                    .await;
            }
            _ => {
                let request = WithdrawalRequest {
                    wallet_id: wallet,
                    amount: 2_000,
                    rib: self.rib.clone(),
                };
                vu.call("withdrawals", client.wallet().withdraw(&request))
                    .await;
            }
        }
    }
}

impl Workload for Mixed {
    async fn iteration(&self, vu: &mut Vu) {
        let me = vu.index % self.customers.len();
        let roll: u32 = vu.rng.random_range(0..100);
        let account = &self.customers[me];
        match roll {
            0..50 => one_search(&self.client, &self.mix, vu).await,
            50..65 => {
                let slug = self.professional(&mut vu.rng).to_owned();
                vu.call("profile", self.client.directory().profile(&slug))
                    .await;
            }
            65..73 => {
                let slug = self.professional(&mut vu.rng).to_owned();
                let directory = self.client.directory();
                vu.call(
                    "reviews",
                    directory.reviews(&slug, ReviewSort::Newest, None, None),
                )
                .await;
            }
            73..78 => {
                vu.call("wallets", account.client.wallet().list()).await;
            }
            78..83 => {
                let Some(wallet) = account.wallet else { return };
                let filter = HistoryFilter {
                    limit: Some(20),
                    ..HistoryFilter::default()
                };
                let wallets = account.client.wallet();
                vu.call("history", wallets.history(wallet, &filter)).await;
            }
            83..87 => self.review(vu, me).await,
            _ => self.money(vu, me, roll).await,
        }
    }
}

pub(super) async fn run(ctx: &Context, outcome: &mut Outcome) -> Result<(), BoxError> {
    let professionals = ensure_directory(ctx).await?;
    if professionals.is_empty() {
        return Err(
            "mixed needs professionals in the directory (give --database-url to seed)".into(),
        );
    }
    let customers = customers(ctx, ctx.settings.users).await?;
    let merchants = merchants(ctx, ctx.settings.merchants).await?;
    let secret = ctx.secret()?.to_owned();
    let workload = Mixed {
        client: ctx.client.clone(),
        mix: Mix::new(),
        reviewed: customers.iter().map(|_| AtomicUsize::new(0)).collect(),
        customers,
        merchants,
        professionals,
        secret,
        rib: rib(2_001_234_567_890_123),
    };
    outcome.phase(ctx, "mixed", workload).await;
    Ok(())
}
