//! TLS to PostgreSQL: managed databases (RDS, Azure Flexible Server) refuse plain connections, so
//! `sslmode=require` in `DATABASE_URL` must give an encrypted session. The local test server has
//! TLS on (Debian's snakeoil certificate), so the session is checked in `pg_stat_ssl`.

use icosistem_store_postgres::PgStore;
use icosistem_store_postgres::testing::services_required;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_gives_an_encrypted_session() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        assert!(
            !services_required(),
            "DATABASE_URL is not set, but CI/ICOSISTEM_REQUIRE_SERVICES requires PostgreSQL"
        );
        eprintln!("skipped: DATABASE_URL is not set");
        return;
    };
    let url = format!("{url}{}sslmode=require", if url.contains('?') { '&' } else { '?' });
    let store = match PgStore::connect(&url, 1).await {
        Ok(store) => store,
        // A server without TLS cannot serve this test; say so rather than fail the suite there.
        Err(e) if e.to_string().contains("does not support SSL") || e.to_string().contains("TLS") => {
            assert!(!services_required(), "the CI PostgreSQL must accept TLS: {e}");
            eprintln!("skipped: this PostgreSQL has no TLS ({e})");
            return;
        }
        Err(e) => panic!("connect with sslmode=require: {e}"),
    };
    let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .expect("pg_stat_ssl");
    assert!(encrypted, "sslmode=require must give a TLS session");
}
