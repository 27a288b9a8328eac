//! Contacto's benchmarks: `cargo bench -p contacto-benches` runs the criterion benchmarks in
//! `benches/`, none of which needs a database. The load-test harness will live here too.
