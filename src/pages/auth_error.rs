//! `/auth/error?reason=…`: where every rejected sign-in ends — a 4xx page (503 when a service is
//! down) that says in words what went wrong and what to do next. The server redirects here; it
//! never imports this page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::AuthFailure;

/// Where every rejected sign-in ends: `/auth/error?reason=<code>`, with the failure's status.
#[component]
pub fn AuthErrorPage() -> impl IntoView {
    let query = use_query_map();
    let failure = query.with_untracked(|query| {
        leptos_fusionauth::sign_in_failure(query.get_str("reason").unwrap_or_default())
    });
    view! {
        <section class="card error" aria-labelledby="error-title">
            <h1 id="error-title">{failure.title()}</h1>
            <p class="error-message" role="alert">
                {failure.message()}
            </p>
            <p class="error-code">"Error code: " <code>{failure.code()}</code></p>
            {(failure == AuthFailure::NotRegistered).then(|| view! { <NotRegisteredActions/> })}
            <p>
                <a class="button primary" href="/">"Back to the home page"</a>
            </p>
        </section>
    }
}

/// A user who is not registered for this application may register, or sign in as someone else
/// (FusionAuth's form again, whatever its single sign-on session).
#[component]
fn NotRegisteredActions() -> impl IntoView {
    view! {
        <div class="actions">
            <a class="button primary" href="/register">"Register for this application"</a>
            <a class="button" href="/login?reauthenticate=always">"Sign in as someone else"</a>
        </div>
    }
}
