//! Server entry point. `leptos-fusionauth` serves the app; `leptos-fusionauth setup` configures
//! an existing FusionAuth for it (see the `setup` module).

/// mimalloc instead of glibc's malloc: a request allocates and frees hundreds of small buffers
/// (bench/PROFILE.md measures the difference).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((command, rest)) if command == "setup" => {
            leptos_fusionauth_demo::setup::cli(rest).await
        }
        _ => leptos_fusionauth_demo::server::run().await,
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The binary is only built with the `ssr` feature; the browser bundle starts in `lib.rs`.
}
