//! Server entry point. The whole server lives in `leptos_fusionauth::server`.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    leptos_fusionauth::server::run().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The binary is only built with the `ssr` feature; the browser bundle starts in `lib.rs`.
}
