//! Throughput ceiling: the least an axum server on this machine can do per request for a page of
//! the guest page's size. `bench/run.sh throughput` reports the app's pages as a share of it.
//!
//! Usage: `bench-ceiling [HTML_FILE]` — serves HTML_FILE (read once at start-up; run.sh passes
//! the guest page it has just fetched, so both bodies have the same size) or, without an
//! argument, the copy of the guest page in `page.html`, on 127.0.0.1:5101
//! (`CEILING_ADDR` overrides).

use axum::{http::header, response::IntoResponse, routing::get, Router};

static BUILT_IN: &str = include_str!("../page.html");

#[tokio::main]
async fn main() {
    let page: &'static str = match std::env::args().nth(1) {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Box::leak(text.into_boxed_str()),
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                std::process::exit(1);
            }
        },
        None => BUILT_IN,
    };
    let addr = std::env::var("CEILING_ADDR").unwrap_or_else(|_| "127.0.0.1:5101".to_owned());
    let app = Router::new().route(
        "/",
        get(move || async move {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }),
    );
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("ceiling: {} bytes on http://{addr}/", page.len());
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
