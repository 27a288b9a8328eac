//! Core's Prometheus metrics, registered in a registry the embedding application may share.

use prometheus::{IntCounterVec, Opts, Registry};

use crate::error::{Error, Result};

/// The series core records.
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    identity_operations: IntCounterVec,
}

impl Metrics {
    pub(crate) fn new(registry: Registry) -> Result<Self> {
        let identity_operations = IntCounterVec::new(
            Opts::new(
                "contacto_identity_operations_total",
                "Registrations and logins by outcome.",
            ),
            &["operation", "outcome"],
        )
        .map_err(|err| Error::internal("creating metrics", err))?;
        registry
            .register(Box::new(identity_operations.clone()))
            .map_err(|err| Error::internal("registering metrics", err))?;
        Ok(Self {
            registry,
            identity_operations,
        })
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn identity_operation(&self, operation: &str, outcome: &str) {
        self.identity_operations
            .with_label_values(&[operation, outcome])
            .inc();
    }
}
