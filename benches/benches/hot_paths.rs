//! Criterion benchmarks of the per-request work every API call pays, no database needed.
//!
//! Each benchmark names the hot path it guards. Read results as ratios against the previous run
//! on the same machine (criterion prints the change); absolute numbers vary with the machine.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented public function"
)]

use std::hint::black_box;

use contacto_core::api::{ApiSuccess, AuthSession, RegisterRequest, Role, UserId, UserView};
use contacto_server::http::decode_json;
use contacto_server::routes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;

/// Guards routing: every request is parsed from (method, path) before anything else runs.
fn routing(c: &mut Criterion) {
    let paths = [
        (Method::GET, "/health".to_owned()),
        (Method::POST, "/api/v1/auth/login".to_owned()),
        (Method::GET, "/api/v1/users/me".to_owned()),
        (
            Method::DELETE,
            "/api/v1/api-keys/0192f1c4-7a4e-7cc1-9a57-0d3a5f3b2a11".to_owned(),
        ),
        (Method::GET, "/api/v1/unknown/path".to_owned()),
    ];
    c.bench_function("routing/parse 5 paths", |b| {
        b.iter(|| {
            for (method, path) in &paths {
                let _ = black_box(routes::parse(black_box(method), black_box(path)));
            }
        });
    });
}

/// Guards request decoding: every write decodes a JSON body with field-level error paths.
fn decoding(c: &mut Criterion) {
    let body = serde_json::to_vec(&RegisterRequest {
        email: "amina@example.dz".to_owned(),
        password: "une phrase de passe longue".to_owned(),
        full_name: "Amina Benali".to_owned(),
        phone: Some("0550 12 34 56".to_owned()),
        role: Role::Customer,
    })
    .unwrap_or_default();
    c.bench_function("decode/register request", |b| {
        b.iter(|| black_box(decode_json::<RegisterRequest>(black_box(&body)).is_ok()));
    });
}

/// Guards response encoding: every answer is wrapped in the envelope and serialised.
fn encoding(c: &mut Criterion) {
    let session = AuthSession {
        token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkyIn0.c2lnbmF0dXJl".to_owned(),
        expires_at: time::OffsetDateTime::UNIX_EPOCH,
        user: UserView {
            id: UserId(uuid::Uuid::nil()),
            email: "amina@example.dz".to_owned(),
            full_name: "Amina Benali".to_owned(),
            phone: Some("+213550123456".to_owned()),
            role: Role::Customer,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        },
    };
    c.bench_function("encode/auth session envelope", |b| {
        b.iter(|| black_box(serde_json::to_vec(&ApiSuccess::new(black_box(&session))).is_ok()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = routing, decoding, encoding
}
criterion_main!(benches);
