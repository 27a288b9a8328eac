//! The ledger's pure rules: validating an operation against locked wallet states and computing
//! its entries. No I/O; the batcher calls it once per operation, in order, inside one database
//! transaction.

use std::collections::BTreeMap;

use time::Date;

use crate::api::{EntryView, TransactionKind, WalletId};
use crate::error::{Error, Result};

/// A wallet as locked for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalletState {
    /// `None` for system accounts.
    pub(crate) owner: Option<uuid::Uuid>,
    pub(crate) currency: String,
    pub(crate) posted: i64,
    pub(crate) pending: i64,
    pub(crate) may_go_negative: bool,
    pub(crate) frozen: bool,
    pub(crate) verification_level: i16,
    pub(crate) entry_count: i64,
    pub(crate) outgoing_day: Option<Date>,
    pub(crate) outgoing_minor: i64,
}

impl WalletState {
    fn available(&self) -> i64 {
        self.posted - self.pending
    }

    fn outgoing_on(&self, today: Date) -> i64 {
        if self.outgoing_day == Some(today) {
            self.outgoing_minor
        } else {
            0
        }
    }
}

/// An operation to post: balanced postings and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Intent {
    pub(crate) kind: TransactionKind,
    /// `None`: the currency of the paying wallet (`outgoing_from`), read under its lock.
    pub(crate) currency: Option<String>,
    /// The user the paying wallet must belong to; checked under the lock, first, so a caller
    /// learns nothing about wallets that are not theirs.
    pub(crate) payer_owner: Option<uuid::Uuid>,
    pub(crate) amount: i64,
    pub(crate) description: Option<String>,
    /// `(wallet, signed amount)`: credits positive, debits negative; they sum to zero.
    pub(crate) postings: Vec<(WalletId, i64)>,
    /// The wallet whose daily outgoing limit this operation counts against, if any.
    pub(crate) outgoing_from: Option<WalletId>,
    /// `(wallet, amount, day)`: what a hold or a withdrawal counted against `wallet`'s daily
    /// limit on `day` and that ends without going out (released, captured in part, refused by
    /// the bank). Given back to that day's count if it is still that day; a day over has been
    /// forgotten already.
    pub(crate) gives_back: Option<(WalletId, i64, Date)>,
    /// `(wallet, change of its pending balance)`: positive holds money (a withdrawal waiting for
    /// the bank), negative releases it. An intent may only hold, with no postings.
    pub(crate) holds: Vec<(WalletId, i64)>,
    /// Settles what was decided before a freeze (a release, a withdrawal the bank already took):
    /// frozen wallets do not block it.
    pub(crate) settlement: bool,
}

impl Intent {
    /// Every wallet the intent touches.
    pub(crate) fn wallets(&self) -> impl Iterator<Item = WalletId> + '_ {
        self.postings
            .iter()
            .chain(self.holds.iter())
            .map(|(wallet, _)| *wallet)
    }
}

/// Daily outgoing limits by verification level (index 0, 1, 2), in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyLimits(pub [i64; 3]);

impl DailyLimits {
    fn for_level(self, level: i16) -> i64 {
        let index = usize::try_from(level).unwrap_or(0).min(2);
        self.0[index]
    }
}

/// An entry computed for a posted intent, with the wallet's sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) wallet_id: WalletId,
    pub(crate) seq: i64,
    pub(crate) amount: i64,
    pub(crate) balance_after: i64,
}

impl Entry {
    pub(crate) fn view(&self) -> EntryView {
        EntryView {
            wallet_id: self.wallet_id,
            amount: self.amount,
            balance_after: Some(self.balance_after),
        }
    }
}

/// A posted intent: its entries and the currency it was posted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Posted {
    pub(crate) entries: Vec<Entry>,
    pub(crate) currency: String,
}

/// Checks `intent` against `states` and, when every rule holds, applies it: balances, sequence
/// numbers and daily totals change in `states`, and the entries are returned. A rejected intent
/// leaves `states` untouched, so the rest of the batch proceeds as if it never came.
pub(crate) fn apply(
    states: &mut BTreeMap<WalletId, WalletState>,
    intent: &Intent,
    limits: DailyLimits,
    today: Date,
) -> Result<Posted> {
    check_shape(intent)?;
    if let (Some(payer), Some(owner)) = (intent.outgoing_from, intent.payer_owner) {
        let theirs = states.get(&payer).is_some_and(|s| s.owner == Some(owner));
        if !theirs {
            return Err(Error::NotFound { resource: "wallet" });
        }
    }
    let currency = match (&intent.currency, intent.outgoing_from) {
        (Some(currency), _) => currency.clone(),
        (None, Some(payer)) => states
            .get(&payer)
            .ok_or(Error::NotFound { resource: "wallet" })?
            .currency
            .clone(),
        (None, None) => return Err(Error::internal("posting", "an intent without a currency")),
    };
    for wallet in intent.wallets() {
        let state = states
            .get(&wallet)
            .ok_or(Error::NotFound { resource: "wallet" })?;
        if state.currency != currency {
            return Err(Error::CurrencyMismatch(format!(
                "wallet {wallet} holds {}, the operation is in {currency}",
                state.currency
            )));
        }
        if state.frozen && !intent.settlement {
            return Err(Error::WalletFrozen(wallet));
        }
    }
    // A transfer goes to somebody: a system account (funding, fee revenue...) has no owner to
    // give the money back, and is shown as a wallet that does not exist.
    if intent.kind == TransactionKind::Transfer
        && intent
            .postings
            .iter()
            .any(|(wallet, amount)| *amount > 0 && states[wallet].owner.is_none())
    {
        return Err(Error::NotFound { resource: "wallet" });
    }
    if let Some(payer) = intent.outgoing_from {
        let state = &states[&payer];
        let limit = limits.for_level(state.verification_level);
        let used = state.outgoing_on(today);
        if used.saturating_add(intent.amount) > limit {
            return Err(Error::LimitExceeded { limit, used });
        }
    }
    // What each wallet can spend changes by its postings less its new holds.
    let mut spendable: BTreeMap<WalletId, (i64, i64)> = BTreeMap::new();
    for (wallet, amount) in &intent.postings {
        spendable.entry(*wallet).or_default().0 += amount;
    }
    for (wallet, held) in &intent.holds {
        spendable.entry(*wallet).or_default().1 += held;
    }
    for (wallet, (posted, held)) in &spendable {
        let state = &states[wallet];
        if state.pending + held < 0 {
            return Err(Error::internal(
                "posting",
                "a release larger than what is held",
            ));
        }
        let change = posted - held;
        if change < 0 && !state.may_go_negative && state.available() + change < 0 {
            return Err(Error::InsufficientFunds {
                available: state.available(),
                requested: -change,
            });
        }
    }
    for (wallet, held) in &intent.holds {
        if let Some(state) = states.get_mut(wallet) {
            state.pending += held;
        }
    }
    let mut entries = Vec::with_capacity(intent.postings.len());
    for (wallet, amount) in &intent.postings {
        let Some(state) = states.get_mut(wallet) else {
            return Err(Error::internal("posting", "a checked wallet vanished"));
        };
        state.posted += amount;
        state.entry_count += 1;
        entries.push(Entry {
            wallet_id: *wallet,
            seq: state.entry_count,
            amount: *amount,
            balance_after: state.posted,
        });
    }
    if let Some(payer) = intent.outgoing_from
        && let Some(state) = states.get_mut(&payer)
    {
        state.outgoing_minor = state.outgoing_on(today) + intent.amount;
        state.outgoing_day = Some(today);
    }
    if let Some((wallet, amount, day)) = intent.gives_back
        && day == today
        && let Some(state) = states.get_mut(&wallet)
    {
        state.outgoing_minor = (state.outgoing_on(today) - amount).max(0);
    }
    Ok(Posted { entries, currency })
}

/// Rules of construction: a bug in core if broken, never the caller's fault.
fn check_shape(intent: &Intent) -> Result<()> {
    let sum: i128 = intent.postings.iter().map(|(_, a)| i128::from(*a)).sum();
    let distinct = {
        let mut wallets: Vec<WalletId> = intent.postings.iter().map(|(w, _)| *w).collect();
        wallets.sort_unstable();
        wallets.dedup();
        wallets.len()
    };
    // A pure hold has no postings; anything that posts needs two balanced sides.
    let holds_only = intent.postings.is_empty() && !intent.holds.is_empty();
    if (!holds_only && intent.postings.len() < 2)
        || intent.holds.iter().any(|(_, h)| *h == 0)
        || sum != 0
        || intent.postings.iter().any(|(_, a)| *a == 0)
        || distinct != intent.postings.len()
        || intent.amount <= 0
    {
        return Err(Error::internal(
            "posting",
            format!("malformed intent: {intent:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    const LIMITS: DailyLimits = DailyLimits([10_000, 100_000, 1_000_000]);

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 25).unwrap()
    }

    /// A user's wallet (a system account has no owner).
    fn wallet(posted: i64) -> WalletState {
        WalletState {
            owner: Some(Uuid::from_u128(0xA11CE)),
            currency: "DZD".into(),
            posted,
            pending: 0,
            may_go_negative: false,
            frozen: false,
            verification_level: 2,
            entry_count: 0,
            outgoing_day: None,
            outgoing_minor: 0,
        }
    }

    fn id(n: u128) -> WalletId {
        WalletId(Uuid::from_u128(n))
    }

    fn transfer(from: WalletId, to: WalletId, amount: i64) -> Intent {
        Intent {
            kind: TransactionKind::Transfer,
            currency: Some("DZD".into()),
            payer_owner: None,
            amount,
            description: None,
            postings: vec![(from, -amount), (to, amount)],
            outgoing_from: Some(from),
            gives_back: None,
            holds: Vec::new(),
            settlement: false,
        }
    }

    #[test]
    fn a_transfer_moves_money_and_numbers_entries() {
        let mut states = BTreeMap::from([(id(1), wallet(500)), (id(2), wallet(0))]);
        let entries = apply(&mut states, &transfer(id(1), id(2), 200), LIMITS, today())
            .unwrap()
            .entries;
        assert_eq!(states[&id(1)].posted, 300);
        assert_eq!(states[&id(2)].posted, 200);
        assert_eq!(entries[0].seq, 1);
        assert_eq!(entries[1].balance_after, 200);
        assert_eq!(states[&id(1)].outgoing_minor, 200);
    }

    /// A release gives back what its hold counted on the same day, never below zero, and nothing
    /// when the day it counted on is over (that day's count is forgotten already).
    #[test]
    fn a_release_gives_back_only_the_same_days_count() {
        let release = |amount, day| Intent {
            kind: TransactionKind::HoldCapture,
            currency: Some("DZD".into()),
            payer_owner: None,
            amount,
            description: None,
            postings: Vec::new(),
            outgoing_from: None,
            gives_back: Some((id(1), amount, day)),
            holds: vec![(id(1), -amount)],
            settlement: true,
        };
        let yesterday = today().previous_day().unwrap();
        let mut states = BTreeMap::from([(id(1), wallet(1_000))]);
        let payer = states.get_mut(&id(1)).unwrap();
        (payer.pending, payer.outgoing_day, payer.outgoing_minor) = (900, Some(today()), 700);
        apply(&mut states, &release(300, yesterday), LIMITS, today()).unwrap();
        assert_eq!(states[&id(1)].outgoing_minor, 700);
        apply(&mut states, &release(400, today()), LIMITS, today()).unwrap();
        assert_eq!(states[&id(1)].outgoing_minor, 300);
        apply(&mut states, &release(200, today()), LIMITS, today()).unwrap();
        assert_eq!(states[&id(1)].outgoing_minor, 100);
        assert_eq!(states[&id(1)].pending, 0);
        let mut more = states.clone();
        more.get_mut(&id(1)).unwrap().pending = 500;
        apply(&mut more, &release(500, today()), LIMITS, today()).unwrap();
        assert_eq!(more[&id(1)].outgoing_minor, 0, "never below zero");
    }

    #[test]
    fn rejections_leave_every_state_untouched() {
        let base = BTreeMap::from([(id(1), wallet(100)), (id(2), wallet(0))]);
        let mut frozen = base.clone();
        frozen.get_mut(&id(2)).unwrap().frozen = true;
        let mut euro = base.clone();
        euro.get_mut(&id(2)).unwrap().currency = "EUR".into();
        let mut held = base.clone();
        held.get_mut(&id(1)).unwrap().pending = 60;
        let mut low_level = base.clone();
        low_level.get_mut(&id(1)).unwrap().verification_level = 0;
        low_level.get_mut(&id(1)).unwrap().posted = 50_000;
        let cases = [
            (
                base.clone(),
                transfer(id(1), id(2), 101),
                "INSUFFICIENT_FUNDS",
                "more than posted",
            ),
            (
                held,
                transfer(id(1), id(2), 50),
                "INSUFFICIENT_FUNDS",
                "holds count",
            ),
            (
                frozen,
                transfer(id(1), id(2), 10),
                "WALLET_FROZEN",
                "frozen receiver",
            ),
            (
                euro,
                transfer(id(1), id(2), 10),
                "CURRENCY_MISMATCH",
                "other currency",
            ),
            (
                base.clone(),
                transfer(id(1), id(3), 10),
                "NOT_FOUND",
                "unknown wallet",
            ),
            (
                low_level,
                transfer(id(1), id(2), 10_001),
                "LIMIT_EXCEEDED",
                "level 0 daily limit",
            ),
        ];
        for (states, intent, code, why) in cases {
            let mut after = states.clone();
            let err = apply(&mut after, &intent, LIMITS, today()).unwrap_err();
            assert_eq!(err.code(), code, "{why}");
            assert_eq!(after, states, "{why}: states changed");
        }
    }

    #[test]
    fn only_the_owner_pays_and_the_currency_is_the_payers() {
        let owner = Uuid::from_u128(42);
        let mut payer = wallet(100);
        payer.owner = Some(owner);
        payer.currency = "EUR".into();
        let mut payee = wallet(0);
        payee.currency = "EUR".into();
        let mut states = BTreeMap::from([(id(1), payer), (id(2), payee)]);
        let mut intent = transfer(id(1), id(2), 10);
        intent.currency = None;
        intent.payer_owner = Some(Uuid::from_u128(7));
        let before = states.clone();
        assert_eq!(
            apply(&mut states, &intent, LIMITS, today())
                .unwrap_err()
                .code(),
            "NOT_FOUND"
        );
        assert_eq!(states, before);
        intent.payer_owner = Some(owner);
        assert_eq!(
            apply(&mut states, &intent, LIMITS, today())
                .unwrap()
                .currency,
            "EUR"
        );
    }

    #[test]
    fn the_daily_limit_resets_on_a_new_day() {
        let mut payer = wallet(50_000);
        payer.verification_level = 0;
        payer.outgoing_day = today().previous_day();
        payer.outgoing_minor = 10_000;
        let mut states = BTreeMap::from([(id(1), payer), (id(2), wallet(0))]);
        apply(
            &mut states,
            &transfer(id(1), id(2), 10_000),
            LIMITS,
            today(),
        )
        .unwrap();
        let err = apply(&mut states, &transfer(id(1), id(2), 1), LIMITS, today()).unwrap_err();
        assert_eq!(err.code(), "LIMIT_EXCEEDED");
    }

    #[test]
    fn holds_count_against_what_can_be_spent_and_completions_do_not_count_twice() {
        let mut states = BTreeMap::from([(id(1), wallet(1_000)), (id(2), wallet(0))]);
        let hold = |amount| Intent {
            postings: Vec::new(),
            holds: vec![(id(1), amount)],
            ..transfer(id(1), id(2), 600)
        };
        assert!(
            apply(&mut states, &hold(600), LIMITS, today())
                .unwrap()
                .entries
                .is_empty()
        );
        assert_eq!(
            (states[&id(1)].posted, states[&id(1)].pending),
            (1_000, 600)
        );
        let err = apply(&mut states, &transfer(id(1), id(2), 500), LIMITS, today()).unwrap_err();
        assert_eq!(err.code(), "INSUFFICIENT_FUNDS", "400 available, 500 asked");
        // Completing the held withdrawal: posted and pending both drop, available is unchanged.
        let complete = Intent {
            holds: vec![(id(1), -600)],
            outgoing_from: None,
            gives_back: None,
            ..transfer(id(1), id(2), 600)
        };
        apply(&mut states, &complete, LIMITS, today()).unwrap();
        assert_eq!((states[&id(1)].posted, states[&id(1)].pending), (400, 0));
    }

    #[test]
    fn a_transfer_to_a_system_account_is_refused_untouched() {
        let mut fee_revenue = wallet(0);
        fee_revenue.owner = None;
        let mut states = BTreeMap::from([(id(1), wallet(500)), (id(2), fee_revenue)]);
        let before = states.clone();
        let err = apply(&mut states, &transfer(id(1), id(2), 200), LIMITS, today()).unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND");
        assert_eq!(states, before);
    }

    #[test]
    fn system_accounts_may_go_negative() {
        let mut funding = wallet(0);
        funding.may_go_negative = true;
        let mut states = BTreeMap::from([(id(1), funding), (id(2), wallet(0))]);
        let mut deposit = transfer(id(1), id(2), 700);
        deposit.outgoing_from = None;
        apply(&mut states, &deposit, LIMITS, today()).unwrap();
        assert_eq!(states[&id(1)].posted, -700);
    }

    #[test]
    fn malformed_intents_are_bugs_not_rejections() {
        let mut states = BTreeMap::from([(id(1), wallet(100)), (id(2), wallet(0))]);
        let mut unbalanced = transfer(id(1), id(2), 10);
        unbalanced.postings[1].1 = 11;
        let err = apply(&mut states, &unbalanced, LIMITS, today()).unwrap_err();
        assert_eq!(err.code(), "INTERNAL");
        let to_self = transfer(id(1), id(1), 10);
        assert_eq!(
            apply(&mut states, &to_self, LIMITS, today())
                .unwrap_err()
                .code(),
            "INTERNAL"
        );
    }

    proptest! {
        /// Whatever sequence of transfers is attempted, money is conserved, every posted intent's
        /// entries sum to zero, balances equal their entries, and no wallet goes negative.
        #[test]
        fn money_is_conserved_and_never_negative(
            start in proptest::collection::vec(0i64..10_000, 4),
            moves in proptest::collection::vec((0usize..4, 0usize..4, 1i64..5_000), 0..60),
        ) {
            let mut states: BTreeMap<WalletId, WalletState> = start
                .iter()
                .enumerate()
                .map(|(i, posted)| (id(i as u128), wallet(*posted)))
                .collect();
            let total: i64 = start.iter().sum();
            let mut sums: BTreeMap<WalletId, i64> = states.iter().map(|(id, s)| (*id, s.posted)).collect();
            for (from, to, amount) in moves {
                if from == to { continue; }
                let intent = transfer(id(from as u128), id(to as u128), amount);
                if let Ok(posted) = apply(&mut states, &intent, DailyLimits([i64::MAX; 3]), today()) {
                    let entries = posted.entries;
                    prop_assert_eq!(entries.iter().map(|e| e.amount).sum::<i64>(), 0);
                    for entry in entries {
                        *sums.get_mut(&entry.wallet_id).unwrap() += entry.amount;
                        prop_assert_eq!(entry.balance_after, sums[&entry.wallet_id]);
                    }
                }
            }
            prop_assert_eq!(states.values().map(|s| s.posted).sum::<i64>(), total);
            for state in states.values() {
                prop_assert!(state.posted >= 0);
            }
        }
    }
}
