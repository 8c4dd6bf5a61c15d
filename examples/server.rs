//! The demo service: keycard in front of a small HTTP API, for curl, a browser and a second node.
//!
//! ```text
//! cargo run --example server --features axum -- --port 8080
//! cargo run --example server --features axum,redis -- --keys keys.json --store redis://127.0.0.1:6379/0
//! cargo run --example server --features axum,jwks-remote -- --verify-only --issuer http://127.0.0.1:8080 --allow-http --port 8081
//! ```
//!
//! Routes, status codes, cookies and flags: docs/http.md. Binds 127.0.0.1 only; prints
//! `listening on http://127.0.0.1:PORT` when ready; Ctrl-C or SIGTERM end it.

#[path = "server/app.rs"]
mod app;
#[path = "server/config.rs"]
mod config;

use std::net::{Ipv4Addr, SocketAddr};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let cfg = config::Config::parse(std::env::args().skip(1))?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", cfg.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{addr}");
    let built = app::build(&cfg, &base, None).await?;
    println!("listening on {base}");
    // Ctrl-C or SIGTERM end the process at once (their default action): in-flight requests are
    // cut, as in a crash, which the stores are built to survive (docs/http.md).
    app::serve(listener, built.router)
        .await
        .map_err(|e| e.to_string())?;
    built.maintenance.stop().await;
    Ok(())
}
