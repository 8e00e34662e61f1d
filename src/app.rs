//! The HTML shell and the router, shared by the server renderer and the browser.

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

use crate::pages::{AccountPage, AdminPage, AuthErrorPage, HomePage, NotFoundPage};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                // The title and stylesheet are the same on every page, so they are plain tags:
                // no leptos_meta in the browser bundle.
                <title>"Leptos + FusionAuth"</title>
                <link rel="stylesheet" id="leptos" href="/pkg/leptos-fusionauth.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    // Routes render with `SsrMode::Async`: the server waits for the user resource and sends one
    // complete document, so the page works without JavaScript and its HTTP status is final.
    view! {
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"Leptos + FusionAuth"</a>
            </header>
            <main id="main" class="container">
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("auth"), StaticSegment("error"))
                        view=AuthErrorPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>
                    "OpenID Connect with PKCE, tokens kept on the server. "
                    <a href="https://fusionauth.io/docs/">"FusionAuth docs"</a>
                </p>
            </footer>
        </Router>
    }
}
