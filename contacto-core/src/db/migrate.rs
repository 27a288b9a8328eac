//! Migrations from `migrations/`, embedded at build time.

use tokio_postgres::GenericClient;

use super::error::PgResultExt;
use crate::error::{Error, Result};

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Advisory lock key held while migrating, so that instances starting together apply migrations
/// once: the first takes the lock, the others wait and then find nothing left to do.
const MIGRATION_LOCK_KEY: i64 = 0x636f_6e74_6163_746f; // "contacto"

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// `(version, name)` of each migration applied by this run, oldest first.
    pub applied: Vec<(i64, String)>,
}

/// The newest migration this build knows.
pub(crate) fn expected_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// The newest migration applied to the database, `None` before the first migration.
pub(crate) async fn applied_version(client: &impl GenericClient) -> Result<Option<i64>> {
    let table = client
        .query_typed_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .db("looking for the migration history")?;
    if !table.get::<_, bool>(0) {
        return Ok(None);
    }
    let row = client
        .query_typed_one(
            "SELECT max(version)::bigint FROM refinery_schema_history",
            &[],
        )
        .await
        .db("reading the schema version")?;
    Ok(row.get(0))
}

/// Applies pending migrations in one transaction under an advisory lock.
pub(crate) async fn run_migrations(client: &mut tokio_postgres::Client) -> Result<MigrationReport> {
    client
        .query_typed(
            "SELECT pg_advisory_lock($1)",
            &[(&MIGRATION_LOCK_KEY, tokio_postgres::types::Type::INT8)],
        )
        .await
        .db("taking the migration lock")?;
    let outcome = embedded::migrations::runner()
        .set_grouped(true)
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run_async(client)
        .await;
    // Session-level lock: released explicitly here, or by the server when the connection closes.
    let unlock = client
        .query_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&MIGRATION_LOCK_KEY, tokio_postgres::types::Type::INT8)],
        )
        .await
        .db("releasing the migration lock");
    let report = outcome.map_err(from_refinery)?;
    unlock?;
    Ok(MigrationReport {
        applied: report
            .applied_migrations()
            .iter()
            .map(|m| (i64::from(m.version()), m.name().to_owned()))
            .collect(),
    })
}

fn from_refinery(err: refinery::Error) -> Error {
    use refinery::error::Kind;
    match err.kind() {
        Kind::MissingVersion(m) => Error::SchemaAhead(format!(
            "migration V{}__{} is applied but unknown to this build",
            m.version(),
            m.name()
        )),
        Kind::DivergentVersion(applied, ours) => Error::SchemaAhead(format!(
            "applied migration V{}__{} differs from this build's V{}__{}",
            applied.version(),
            applied.name(),
            ours.version(),
            ours.name()
        )),
        _ => Error::internal("applying migrations", err),
    }
}
