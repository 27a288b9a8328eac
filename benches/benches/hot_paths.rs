//! Criterion benchmarks of the per-request work the HTTP shell adds to every API call, no database
//! needed: routing, query strings, request decoding, response encoding (and the client's decoding
//! of the same envelope).
//!
//! Each benchmark names the hot path it guards. Read results as ratios against the previous run
//! on the same machine (criterion prints the change); absolute numbers vary with the machine.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented public function"
)]

use std::hint::black_box;

use std::collections::BTreeMap;

use contacto_core::api::{
    ApiSuccess, AuthSession, CategoryRef, OpeningHours, ProfessionalId, ProfessionalRequest,
    RatingSummary, RegisterRequest, Role, SearchFacets, SearchHit, SearchPage, TimeRange,
    TransferRequest, UserId, UserView, WalletId,
};
use contacto_server::http::{Reply, decode_json};
use contacto_server::{query, routes};
use criterion::{Criterion, criterion_group};
use http::Method;

mod support;

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

/// Guards routing of the directory's routes, the deepest of the table (`/api/v1/professionals/
/// {id_or_slug}/reviews`, `/api/v1/reviews/{id}/reply`, ...): every directory request checks its
/// slug or id here, and junk must be a cheap 404.
fn directory_routing(c: &mut Criterion) {
    let id = "0192f1c4-7a4e-7cc1-9a57-0d3a5f3b2a11";
    let paths = [
        (Method::GET, "/api/v1/professionals".to_owned()),
        (
            Method::GET,
            "/api/v1/professionals/karim-benali-2".to_owned(),
        ),
        (
            Method::GET,
            "/api/v1/professionals/karim-benali-2/reviews".to_owned(),
        ),
        (
            Method::POST,
            "/api/v1/professionals/karim-benali-2/reviews".to_owned(),
        ),
        (Method::GET, "/api/v1/categories/plombier".to_owned()),
        (Method::GET, "/api/v1/wilayas".to_owned()),
        (Method::PATCH, "/api/v1/professionals/me".to_owned()),
        (
            Method::PATCH,
            format!("/api/v1/professionals/me/services/{id}"),
        ),
        (Method::PUT, format!("/api/v1/reviews/{id}")),
        (Method::POST, format!("/api/v1/reviews/{id}/reply")),
        (Method::PATCH, format!("/api/v1/admin/professionals/{id}")),
        (Method::GET, "/api/v1/professionals/Not_A_Slug".to_owned()),
    ];
    let routed = paths
        .iter()
        .filter(|(method, path)| routes::parse(method, path).is_ok())
        .count();
    assert_eq!(routed, paths.len() - 1, "all but the junk path must route");
    c.bench_function("routing/parse 12 directory paths", |b| {
        b.iter(|| {
            for (method, path) in &paths {
                let _ = black_box(routes::parse(black_box(method), black_box(path)));
            }
        });
    });
}

/// Guards query-string parsing: every search request types and checks its parameters before
/// core sees them.
fn search_query(c: &mut Criterion) {
    let query = "q=plombier%20bab%20ezzouar&category=plombier&wilaya=16&min_rating=3.5\
                 &open_now=true&language=fr&lat=36.7538&lng=3.0588&radius_km=10&sort=distance\
                 &page=2&limit=20";
    assert!(
        query::search(Some(query)).is_ok(),
        "the benchmark's query must parse"
    );
    c.bench_function("query/parse search string", |b| {
        b.iter(|| black_box(query::search(black_box(Some(query))).is_ok()));
    });
}

/// Guards decoding of the ledger's busiest body: every `POST /api/v1/transfers`.
fn decoding_transfer(c: &mut Criterion) {
    let body = serde_json::to_vec(&TransferRequest {
        from_wallet_id: WalletId(uuid::Uuid::from_u128(1)),
        to_wallet_id: Some(WalletId(uuid::Uuid::from_u128(2))),
        to_email: None,
        to_phone: None,
        amount: 150_000,
        description: Some("Loyer novembre".to_owned()),
    })
    .unwrap_or_default();
    assert!(decode_json::<TransferRequest>(&body).is_ok());
    c.bench_function("decode/transfer request", |b| {
        b.iter(|| black_box(decode_json::<TransferRequest>(black_box(&body)).is_ok()));
    });
}

/// Guards decoding of the directory's largest request: a profile with both biographies and a
/// week of opening hours (`POST /api/v1/professionals`).
fn decoding_professional(c: &mut Criterion) {
    let day = || {
        vec![
            TimeRange {
                open: "08:00".to_owned(),
                close: "12:00".to_owned(),
            },
            TimeRange {
                open: "14:00".to_owned(),
                close: "18:30".to_owned(),
            },
        ]
    };
    let body = serde_json::to_vec(&ProfessionalRequest {
        display_name: "Karim Benali".to_owned(),
        business_name: Some("Plomberie Benali & Fils".to_owned()),
        bio_ar: Some("سَبَّاكٌ مُحْتَرِفٌ مُنْذُ خَمْسَ عَشْرَةَ سَنَةً فِي بَابِ الزَّوَارِ".to_owned()),
        bio_fr: Some(
            "Plombier depuis quinze ans : dépannage, chauffe-eau, salles de bain.".to_owned(),
        ),
        category: "plombier".to_owned(),
        wilaya: "16".to_owned(),
        commune: "Bab Ezzouar".to_owned(),
        address: Some("Cité 5 Juillet, bâtiment 12".to_owned()),
        latitude: Some(36.7167),
        longitude: Some(3.1833),
        phone: Some("0550 12 34 56".to_owned()),
        email: Some("karim@example.dz".to_owned()),
        website: Some("https://plomberie-benali.example.dz".to_owned()),
        languages: vec!["ar".to_owned(), "fr".to_owned(), "kab".to_owned()],
        opening_hours: OpeningHours {
            sat: day(),
            sun: day(),
            mon: day(),
            tue: day(),
            wed: day(),
            thu: vec![TimeRange {
                open: "08:00".to_owned(),
                close: "12:00".to_owned(),
            }],
            fri: Vec::new(),
        },
        years_experience: Some(15),
    })
    .unwrap_or_default();
    assert!(decode_json::<ProfessionalRequest>(&body).is_ok());
    c.bench_function("decode/professional request", |b| {
        b.iter(|| black_box(decode_json::<ProfessionalRequest>(black_box(&body)).is_ok()));
    });
}

/// A full page of search results (the default page size, 20) with its facets.
fn search_page() -> SearchPage {
    let communes = ["Bab Ezzouar", "Hydra", "El Biar", "Kouba", "Chéraga"];
    let items = (0..20u32)
        .map(|i| SearchHit {
            id: ProfessionalId(uuid::Uuid::from_u128(u128::from(i) + 1)),
            slug: format!("karim-benali-{i}"),
            display_name: format!("Karim Benali {i}"),
            business_name: (i % 2 == 0).then(|| "Plomberie Benali & Fils".to_owned()),
            category: CategoryRef {
                slug: "plombier".to_owned(),
                name_fr: "Plombier".to_owned(),
                name_ar: "سباك".to_owned(),
            },
            wilaya: "16".to_owned(),
            commune: communes[i as usize % communes.len()].to_owned(),
            latitude: Some(36.7 + f64::from(i) / 1000.0),
            longitude: Some(3.1 + f64::from(i) / 1000.0),
            distance_km: Some(f64::from(i) * 0.37),
            languages: vec!["ar".to_owned(), "fr".to_owned()],
            verified: i % 3 == 0,
            open_now: i % 4 != 0,
            rating: RatingSummary {
                count: i64::from(i) * 7,
                average: Some(3.5 + f64::from(i % 15) / 10.0),
                distribution: (1..=5)
                    .map(|star| (star.to_string(), i64::from(i) * star))
                    .collect(),
            },
        })
        .collect();
    let counts = |keys: &[&str]| -> BTreeMap<String, i64> {
        keys.iter()
            .zip(1..)
            .map(|(key, n)| ((*key).to_owned(), n * 13))
            .collect()
    };
    SearchPage {
        items,
        total: 137,
        page: 1,
        limit: 20,
        facets: SearchFacets {
            category: counts(&["batiment", "plombier", "electricien", "peintre", "sante"]),
            wilaya: counts(&["09", "16", "31", "35", "42"]),
        },
    }
}

/// Guards encoding of the directory's busiest answer, as the server builds it: a page of 20
/// search hits with facets, enveloped into a response (`GET /api/v1/professionals`).
fn encoding_search_page(c: &mut Criterion) {
    let page = search_page();
    c.bench_function("encode/search page of 20 hits", |b| {
        b.iter(|| {
            black_box(
                Reply::ok(black_box(&page))
                    .map(Reply::into_response)
                    .is_ok(),
            )
        });
    });
}

/// Guards the client's side of the same answer: decoding the enveloped page of 20 hits.
fn client_decoding_search_page(c: &mut Criterion) {
    let body = serde_json::to_vec(&ApiSuccess::new(search_page())).unwrap_or_default();
    assert!(serde_json::from_slice::<ApiSuccess<SearchPage>>(&body).is_ok());
    c.bench_function("decode/search page of 20 hits (client)", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<ApiSuccess<SearchPage>>(black_box(&body)).is_ok())
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = routing, directory_routing, search_query, decoding, decoding_transfer,
        decoding_professional, encoding, encoding_search_page, client_decoding_search_page
}

fn main() {
    support::print_machine();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
