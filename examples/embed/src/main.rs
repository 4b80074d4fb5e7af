//! `icosistem-example-embed`: serves the host app of the library (its own routes plus the
//! Icosistem API under `/ecosystem`) on `EMBED_ADDR` (default `127.0.0.1:3000`) until ctrl-c.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use icosistem_core::model::secret::SecretString;
use icosistem_example_embed::{Eco, PREFIX, app, state};
use icosistem_http::ServeLimits;
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
    let state = state(jwt_secret()?);
    spawn_outbox_delivery(Arc::clone(&state.eco));

    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    println!("host app on http://{addr}/ ; Icosistem API under http://{addr}{PREFIX}/api/v2");
    // `icosistem_http::serve` rather than `axum::serve`: header, keep-alive and body timeouts,
    // connection caps, `ConnectInfo` (Icosistem's audit log and rate limiting see the client's
    // address), and a shutdown that neither waits for idle or half-open clients nor for the
    // live notification streams (they get a final event).
    icosistem_http::serve(listener, app(state), ServeLimits::default(), async {
        // If ctrl-c cannot be listened for, serve until killed rather than stop at once.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await?;
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

/// Emails are committed to the outbox with the change that caused them; delivering them is the
/// embedder's job. Every 5 s is what `icosistem-server` does by default.
fn spawn_outbox_delivery(eco: Arc<Eco>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = eco.deliver_outbox(100).await {
                eprintln!("outbox delivery failed: {e}");
            }
        }
    });
}
