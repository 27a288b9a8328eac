use std::net::SocketAddr;

use contacto_client::Client;
use contacto_client::api::{AuthSession, RegisterRequest, Role};
use contacto_core::Contacto;
use contacto_core::testing::TestDatabase;
use contacto_server::HttpOptions;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const PASSWORD: &str = "a long enough password";

/// A running server on its own database; dropping it shuts the server down.
pub(crate) struct TestApp {
    pub(crate) address: SocketAddr,
    pub(crate) client: Client,
    pub(crate) db: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(HttpOptions::default()).await
}

pub(crate) async fn spawn_app_with(options: HttpOptions) -> TestApp {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut app = spawn_server(core, options).await;
    app.db = Some(db);
    app
}

/// Serves `core` on a fresh port.
pub(crate) async fn spawn_server(core: Contacto, options: HttpOptions) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, stop) = oneshot::channel::<()>();
    let handle = tokio::spawn(contacto_server::serve(
        listener,
        core,
        options,
        async move {
            let _ = stop.await;
        },
    ));
    let client = Client::builder(format!("http://{address}"))
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        db: None,
        shutdown: Some(shutdown),
        handle: Some(handle),
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub(crate) async fn register(&self, email: &str, role: Role) -> AuthSession {
        self.client
            .identity()
            .register(&registration(email, role))
            .await
            .unwrap()
    }

    /// A fresh administrator (created through `create_admin`, the only door there is), logged in.
    pub(crate) async fn admin_session(&self) -> AuthSession {
        let core = self
            .db
            .as_ref()
            .expect("this app has a test database")
            .contacto();
        core.identity()
            .create_admin("ops@example.dz", "an admin passphrase", "Ops")
            .await
            .unwrap();
        self.client
            .identity()
            .login("ops@example.dz", "an admin passphrase")
            .await
            .unwrap()
    }

    /// Rows in `table`, read directly from the database.
    pub(crate) async fn count(&self, table: &str) -> i64 {
        let db = self.db.as_ref().expect("this app has a test database");
        let (client, connection) = tokio_postgres::connect(db.direct_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0)
    }

    pub(crate) fn trigger_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    pub(crate) fn take_handle(&mut self) -> JoinHandle<()> {
        self.handle.take().unwrap()
    }
}

pub(crate) fn registration(email: &str, role: Role) -> RegisterRequest {
    RegisterRequest {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        full_name: "Yacine Haddad".to_owned(),
        phone: None,
        role,
    }
}
