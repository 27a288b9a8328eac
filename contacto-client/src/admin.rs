//! Operators' calls that belong to no feature: `client.admin().top_statements(..)`.

use contacto_core::api::StatementsReport;

use crate::client::Client;
use crate::error::Error;

/// Administrators' view of the database.
pub struct AdminApi<'a> {
    client: &'a Client,
}

impl<'a> AdminApi<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `GET /api/v1/admin/statements`: the statements that took the most database time, `limit`
    /// of them (the server's default, 20, when `None`; at most 100).
    ///
    /// # Errors
    ///
    /// `FORBIDDEN` (not an administrator), `VALIDATION_FAILED` (a limit out of range),
    /// `STATEMENTS_UNAVAILABLE` (`pg_stat_statements` is not enabled; the message says how).
    pub async fn top_statements(&self, limit: Option<u32>) -> Result<StatementsReport, Error> {
        match limit {
            Some(limit) => {
                let path = format!("/api/v1/admin/statements?limit={limit}");
                self.client.get(&path).await
            }
            None => self.client.get("/api/v1/admin/statements").await,
        }
    }
}
