//! Migrations from `migrations/`, embedded at build time.
//!
//! A run is one transaction under an advisory lock: instances starting together apply each
//! migration once, a failing migration leaves the schema as it was, and a database that has a
//! migration this build does not know (a newer version was deployed) is refused untouched.

use refinery::{Migration, Runner};
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

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

/// Whether refinery's history table exists yet (it does not before the first migration).
async fn history_exists(client: &impl GenericClient) -> Result<bool> {
    let table = client
        .query_typed_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .db("looking for the migration history")?;
    Ok(table.get(0))
}

/// The newest migration applied to the database, `None` before the first migration.
pub(crate) async fn applied_version(client: &impl GenericClient) -> Result<Option<i64>> {
    if !history_exists(client).await? {
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
    run_with(embedded::migrations::runner(), client).await
}

/// Applies `runner`'s pending migrations as [`run_migrations`] does; tests pass their own set.
pub(crate) async fn run_with(
    runner: Runner,
    client: &mut tokio_postgres::Client,
) -> Result<MigrationReport> {
    client
        .query_typed(
            "SELECT pg_advisory_lock($1)",
            &[(&MIGRATION_LOCK_KEY, Type::INT8)],
        )
        .await
        .db("taking the migration lock")?;
    // Grouped: every pending migration and its history row in one transaction, so a failure
    // half way leaves neither schema changes nor history behind.
    let runner = runner
        .set_grouped(true)
        .set_abort_divergent(true)
        .set_abort_missing(true);
    let outcome = runner.run_async(client).await;
    // Session-level lock: released explicitly here, or by the server when the connection closes.
    let unlock = client
        .query_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&MIGRATION_LOCK_KEY, Type::INT8)],
        )
        .await
        .db("releasing the migration lock");
    let report = outcome.map_err(|err| from_refinery(err, runner.get_migrations()))?;
    unlock?;
    Ok(MigrationReport {
        applied: report
            .applied_migrations()
            .iter()
            .map(|m| (i64::from(m.version()), m.name().to_owned()))
            .collect(),
    })
}

/// `(version, name)` of each migration [`run_migrations`] would apply now, oldest first; reads
/// only, and creates nothing (not even the history table).
pub(crate) async fn pending_migrations(client: &impl GenericClient) -> Result<Vec<(i64, String)>> {
    pending_with(embedded::migrations::runner().get_migrations(), client).await
}

async fn pending_with(
    ours: &[Migration],
    client: &impl GenericClient,
) -> Result<Vec<(i64, String)>> {
    let applied = if history_exists(client).await? {
        client
            .query_typed(
                "SELECT version::bigint, coalesce(name, ''), coalesce(checksum, '') \
                 FROM refinery_schema_history ORDER BY version",
                &[],
            )
            .await
            .db("reading the migration history")?
            .iter()
            .map(|row| Applied {
                version: row.get(0),
                name: row.get(1),
                checksum: row.get(2),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(plan(&applied, ours)?
        .into_iter()
        .map(|m| (i64::from(m.version()), m.name().to_owned()))
        .collect())
}

/// A row of refinery's history table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    version: i64,
    name: String,
    checksum: String,
}

/// The migrations of `ours` a run would apply over `applied`, with the checks refinery makes
/// when it is told to abort on divergent and missing migrations (`set_abort_divergent`,
/// `set_abort_missing`), and the same refusals.
fn plan<'a>(applied: &[Applied], ours: &'a [Migration]) -> Result<Vec<&'a Migration>> {
    for row in applied {
        match ours.iter().find(|m| i64::from(m.version()) == row.version) {
            None => return Err(unknown_applied(row.version, &row.name)),
            Some(ours)
                if ours.name() != row.name || ours.checksum().to_string() != row.checksum =>
            {
                return Err(divergent(row.version, &row.name, ours));
            }
            Some(_) => {}
        }
    }
    let current = applied.iter().map(|row| row.version).max();
    let mut pending: Vec<&Migration> = ours
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == i64::from(m.version())))
        .collect();
    pending.sort_by_key(|m| m.version());
    if let Some(skipped) = pending
        .iter()
        .find(|m| current.is_some_and(|current| i64::from(m.version()) <= current))
    {
        return Err(skipped_migration(skipped));
    }
    Ok(pending)
}

fn unknown_applied(version: i64, name: &str) -> Error {
    Error::SchemaAhead(format!(
        "migration V{version}__{name} is applied but unknown to this build"
    ))
}

fn divergent(version: i64, name: &str, ours: &Migration) -> Error {
    Error::SchemaAhead(format!(
        "applied migration V{version}__{name} differs from this build's V{}__{}",
        ours.version(),
        ours.name()
    ))
}

fn skipped_migration(ours: &Migration) -> Error {
    Error::SchemaAhead(format!(
        "this build's migration V{}__{} was never applied, yet newer ones were",
        ours.version(),
        ours.name()
    ))
}

fn from_refinery(err: refinery::Error, ours: &[Migration]) -> Error {
    use refinery::error::Kind;
    match err.kind() {
        // Refinery reports both an applied migration this build lacks and one of this build's
        // that was skipped as "missing"; only the first is unknown to us.
        Kind::MissingVersion(m) if ours.iter().any(|o| o == m) => skipped_migration(m),
        Kind::MissingVersion(m) => unknown_applied(i64::from(m.version()), m.name()),
        Kind::DivergentVersion(applied, ours) => {
            divergent(i64::from(applied.version()), applied.name(), ours)
        }
        _ => Error::internal(
            "applying migrations (rolled back: nothing was applied)",
            err,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Vec<Migration> {
        ["V1__a", "V2__b", "V3__c"]
            .iter()
            .filter_map(|name| Migration::unapplied(name, &format!("SELECT '{name}';")).ok())
            .collect()
    }

    fn applied(m: &Migration) -> Applied {
        Applied {
            version: i64::from(m.version()),
            name: m.name().to_owned(),
            checksum: m.checksum().to_string(),
        }
    }

    fn versions(pending: &[&Migration]) -> Vec<u32> {
        pending.iter().map(|m| m.version()).collect()
    }

    #[test]
    fn what_is_not_applied_yet_is_pending_in_order() {
        let ours = ours();
        assert_eq!(versions(&plan(&[], &ours).unwrap()), [1, 2, 3]);
        let some = [applied(&ours[0])];
        assert_eq!(versions(&plan(&some, &ours).unwrap()), [2, 3]);
        let all: Vec<Applied> = ours.iter().map(applied).collect();
        assert!(plan(&all, &ours).unwrap().is_empty());
    }

    #[test]
    fn histories_this_build_cannot_continue_are_refused() {
        let ours = ours();
        let future = Applied {
            version: 999,
            name: "from_the_future".into(),
            checksum: "0".into(),
        };
        let edited = Applied {
            checksum: "1".into(),
            ..applied(&ours[1])
        };
        let cases = [
            (vec![applied(&ours[0]), future], "unknown to this build"),
            (vec![applied(&ours[0]), edited], "differs from this build's"),
            (vec![applied(&ours[0]), applied(&ours[2])], "never applied"),
        ];
        for (history, why) in cases {
            let err = plan(&history, &ours).unwrap_err();
            assert_eq!(err.code(), "SCHEMA_AHEAD", "{why}");
            assert!(err.to_string().contains(why), "{err}");
        }
    }
}

/// Runs migrations against a real, empty database: the atomicity that a unit test of [`plan`]
/// cannot show.
#[cfg(all(test, feature = "testing"))]
mod database_tests {
    use super::*;
    use crate::testing::TestDatabase;

    /// A fresh test database emptied of the embedded schema, and a direct connection to it.
    async fn empty_database() -> (TestDatabase, tokio_postgres::Client) {
        let db = TestDatabase::create().await;
        let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|err| panic!("connecting to the test database: {err}"));
        tokio::spawn(connection);
        client
            .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            .await
            .unwrap_or_else(|err| panic!("emptying the test database: {err}"));
        (db, client)
    }

    fn migrations(files: &[(&str, &str)]) -> Vec<Migration> {
        files
            .iter()
            .map(|(name, sql)| {
                Migration::unapplied(name, sql).unwrap_or_else(|err| panic!("{name}: {err}"))
            })
            .collect()
    }

    async fn exists(client: &tokio_postgres::Client, table: &str) -> bool {
        client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await
            .map(|row| row.get(0))
            .unwrap_or_else(|err| panic!("looking for {table}: {err}"))
    }

    async fn history(client: &tokio_postgres::Client) -> Vec<i32> {
        client
            .query(
                "SELECT version FROM refinery_schema_history ORDER BY 1",
                &[],
            )
            .await
            .unwrap_or_else(|err| panic!("reading the history: {err}"))
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    #[tokio::test]
    async fn a_migration_failing_half_way_leaves_the_schema_as_it_was() {
        let (_db, mut client) = empty_database().await;
        let first = [("V1__people", "CREATE TABLE people (id int PRIMARY KEY);")];
        let report = run_with(Runner::new(&migrations(&first)), &mut client)
            .await
            .unwrap_or_else(|err| panic!("the first migration: {err}"));
        assert_eq!(report.applied, [(1, "people".to_owned())]);

        let batch = [
            first[0],
            ("V2__cars", "CREATE TABLE cars (id int PRIMARY KEY);"),
            (
                "V3__broken",
                "CREATE TABLE boats (id int); ALTER TABLE people ADD COLUMN age int; \
                 SELECT 1 / 0;",
            ),
        ];
        let ours = migrations(&batch);
        let pending = pending_with(&ours, &client)
            .await
            .unwrap_or_else(|err| panic!("planning: {err}"));
        assert_eq!(pending, [(2, "cars".to_owned()), (3, "broken".to_owned())]);
        let err = run_with(Runner::new(&ours), &mut client)
            .await
            .expect_err("V3 divides by zero");
        assert_eq!(err.code(), "INTERNAL", "{err}");

        assert!(!exists(&client, "cars").await, "V2 was rolled back with V3");
        assert!(
            !exists(&client, "boats").await,
            "V3's first half was rolled back"
        );
        let columns: i64 = client
            .query_one(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'people'",
                &[],
            )
            .await
            .map(|row| row.get(0))
            .unwrap_or_else(|err| panic!("reading columns: {err}"));
        assert_eq!(columns, 1, "people keeps its one column");
        assert_eq!(history(&client).await, [1], "the history is unchanged");
        // The lock was released: the next run does not wait forever, and fails the same way.
        let again = run_with(Runner::new(&ours), &mut client).await;
        assert!(again.is_err());
    }
}
