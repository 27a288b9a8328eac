//! Criterion benchmarks of core's pure hot paths, no database: the ledger's in-memory validation
//! and posting, fee arithmetic, search text folding and statement building, bearer tokens and
//! metrics. Core opens them through its `bench` feature (`contacto_core::bench`).
//!
//! Each benchmark names the hot path it guards. Read results as ratios against the previous run
//! on the same machine (criterion prints the change); absolute numbers vary with the machine.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented public function"
)]

use std::hint::black_box;

use contacto_core::bench::{self, LedgerBatch, MetricsRecorder, Tokens};
use contacto_core::{MAX_AMOUNT_MINOR, MAX_BULK_TRANSFERS};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

mod support;

/// Transfers per ledger batch: a quiet moment's batch, a busy one's, and the bulk endpoint's
/// maximum.
const BATCH_SIZES: [usize; 3] = [64, 512, MAX_BULK_TRANSFERS];

/// A French profile text with accents, ligatures and punctuation, as professionals write them.
const FRENCH: &str = "Électricienne agréée à Bab-Ezzouar : dépannage 7j/7, rénovation, \
                      chauffe-eau & façades — cœur de métier depuis 2009.";

/// An Arabic profile text with full tashkeel, hamzas and a taa marbuta.
const ARABIC: &str = "سَبَّاكٌ مُحْتَرِفٌ فِي الجَزَائِرِ العَاصِمَةِ: إِصْلَاحُ تَسَرُّبَاتِ المِيَاهِ \
                      وَتَرْكِيبُ سَخَّانَاتِ الغَازِ مُنْذُ ٢٠٠٩.";

/// Guards the ledger worker's in-memory step: under the batch's wallet locks, every transfer is
/// validated (funds, daily limit, frozen, currency) and posted to the wallet states one by one,
/// so this time is spent inside the database transaction while wallets stay locked.
fn ledger_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger/validate and post");
    for transfers in BATCH_SIZES {
        // Twice as many wallets as transfers: most transfers touch two wallets no other one does,
        // as under a uniform load; the batch's wallet map is as large as the worker's would be.
        let batch = LedgerBatch::transfers(2 * transfers, transfers);
        assert_eq!(
            batch.post(),
            transfers,
            "every benchmark transfer must post"
        );
        group.throughput(Throughput::Elements(transfers as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(transfers),
            &batch,
            |b, batch| {
                b.iter(|| black_box(batch.post()));
            },
        );
    }
    group.finish();
}

/// Guards fee arithmetic: every merchant payment computes its fee, and every refund its share
/// of it, in i128 with half-up rounding.
fn fees(c: &mut Criterion) {
    let cases: [(i64, i32); 8] = [
        (10_000, 150),
        (99, 150),
        (1, 5_000),
        (12_345, 175),
        (150_000, 150),
        (999_999, 250),
        (7, 0),
        (MAX_AMOUNT_MINOR, 10_000),
    ];
    c.bench_function("fees/fee_minor 8 amounts", |b| {
        b.iter(|| {
            black_box(&cases)
                .iter()
                .map(|&(amount, bps)| bench::fee_minor(amount, bps))
                .sum::<i64>()
        });
    });
}

/// Guards search text folding: every search folds its `q`, and every profile write folds its
/// names, biographies and services into the search words (French accents, Arabic tashkeel).
fn folding(c: &mut Criterion) {
    let mut group = c.benchmark_group("search/fold");
    for (language, text) in [("french", FRENCH), ("arabic", ARABIC)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(language), text, |b, text| {
            b.iter(|| black_box(bench::fold(black_box(text))));
        });
    }
    group.finish();
}

/// Guards the consonant skeletons that let Arabic and Latin spellings of a name meet: computed
/// for every word of a query and of every profile write.
fn skeletons(c: &mut Criterion) {
    let mut group = c.benchmark_group("search/skeletons");
    for (language, text) in [("french", FRENCH), ("arabic", ARABIC)] {
        let folded = bench::fold(text);
        group.bench_with_input(
            BenchmarkId::from_parameter(language),
            &folded,
            |b, folded| {
                b.iter(|| {
                    black_box(folded)
                        .split(' ')
                        .filter_map(bench::skeleton)
                        .count()
                });
            },
        );
    }
    group.finish();
}

/// Guards search query building: every search turns its text into terms and builds the page and
/// facet statements (ranking, category, wilaya, rating, language and distance filters).
fn search_statements(c: &mut Criterion) {
    let mut group = c.benchmark_group("search/build statements");
    for (language, q) in [
        ("french", "plombier chauffe-eau Bab Ezzouar"),
        ("arabic", "سَبَّاك بَاب الزَّوَار"),
    ] {
        assert!(bench::search_statements(q) > 0);
        group.bench_with_input(BenchmarkId::from_parameter(language), q, |b, q| {
            b.iter(|| black_box(bench::search_statements(black_box(q))));
        });
    }
    group.finish();
}

/// Guards bearer tokens: every login issues one; a token's first request verifies it in full
/// (HS256 signature and claims), later ones find it among the verified tokens (a SHA-256 and a
/// lookup).
fn tokens(c: &mut Criterion) {
    let Ok(tokens) = Tokens::new("a benchmark secret of at least thirty-two bytes") else {
        panic!("the benchmark's token secret must be accepted");
    };
    let Ok(token) = tokens.issue() else {
        panic!("issuing the benchmark's token must succeed");
    };
    assert!(tokens.verify(&token), "the benchmark's token must verify");
    c.bench_function("tokens/verify", |b| {
        b.iter(|| black_box(tokens.verify_in_full(black_box(&token))));
    });
    c.bench_function("tokens/verify remembered", |b| {
        b.iter(|| black_box(tokens.verify(black_box(&token))));
    });
    c.bench_function("tokens/issue and verify", |b| {
        b.iter(|| {
            black_box(
                tokens
                    .issue()
                    .is_ok_and(|token| tokens.verify_in_full(&token)),
            )
        });
    });
}

/// Guards metrics recording: every posted transfer records its operation, the amount moved and
/// its ledger batch, on the request's path.
fn metrics(c: &mut Criterion) {
    let Ok(recorder) = MetricsRecorder::new() else {
        panic!("core's metrics must register in a fresh registry");
    };
    c.bench_function("metrics/record transfer", |b| {
        b.iter(|| recorder.record_transfer());
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = ledger_batch, fees, folding, skeletons, search_statements, tokens, metrics
}

fn main() {
    support::print_machine();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
