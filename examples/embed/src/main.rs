//! `icosistem-example-embed`: serves the host app of the library (its own routes plus the
//! Icosistem API under `/ecosystem`) on `EMBED_ADDR` (default `127.0.0.1:3000`) until ctrl-c,
//! with the outbox and the due jobs running in the background.

use std::net::SocketAddr;
use std::sync::Arc;

use icosistem_core::model::secret::SecretString;
use icosistem_example_embed::{PREFIX, Schedule, app, host, spawn_background};
use icosistem_http::ServeLimits;
use icosistem_runner::Shutdown;
use tokio::net::TcpListener;

/// The listen address when `EMBED_ADDR` is unset.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("EMBED_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .as_deref()
        .unwrap_or(DEFAULT_ADDR)
        .trim()
        .parse()?;
    // A `JWT_SECRET_KEY` shorter than 32 bytes is refused here, by the library.
    let host = host(jwt_secret()?, "Hello")?;
    let shutdown = Shutdown::new();
    let background = spawn_background(Arc::clone(&host.ecosystem.eco), Schedule::default(), &shutdown);

    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    println!("host app on http://{addr}/ ; Icosistem API under http://{addr}{PREFIX}/api/v2, docs at {PREFIX}/docs");
    // `icosistem_http::serve` rather than `axum::serve`: header, keep-alive and body timeouts,
    // connection caps, `ConnectInfo` (Icosistem's audit log and rate limiting see the client's
    // address), and a shutdown that neither waits for idle or half-open clients nor for the
    // live notification streams (they get a final event).
    let served = icosistem_http::serve(listener, app(host), ServeLimits::default(), async {
        // If ctrl-c cannot be listened for, serve until killed rather than stop at once.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await;
    // The background work makes a last delivery round before it ends.
    shutdown.trigger();
    background.await?;
    served?;
    Ok(())
}

/// `JWT_SECRET_KEY`, or 32 random bytes (tokens then die with the process, fine for a demo).
fn jwt_secret() -> Result<SecretString, String> {
    if let Ok(secret) = std::env::var("JWT_SECRET_KEY")
        && !secret.trim().is_empty()
    {
        return Ok(SecretString::new(secret));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("the OS random number generator failed: {e}"))?;
    Ok(SecretString::new(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}
