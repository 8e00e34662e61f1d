//! `/admin`: for users with the `admin` role who signed in recently. The server function behind
//! it enforces both; this page only shows what it answered.

use leptos::prelude::*;

use crate::auth::{admin_overview, AdminView, AuthError};

#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| admin_overview());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(view) => view! { <AdminOverview view/> }.into_any(),
                    Err(AuthError::MissingRole(role)) => view! { <RoleMissing role/> }.into_any(),
                    Err(AuthError::Failure(failure)) => {
                        view! { <p class="error-message" role="alert">{failure.message()}</p> }
                            .into_any()
                    }
                    // A guest or a stale sign-in: the server function already redirected.
                    Err(_) => view! { <p class="loading">"Signing you in…"</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AdminOverview(view: AdminView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="admin-title">
            <h1 id="admin-title">"Administration"</h1>
            <p>{format!("Signed in as {}, with the roles: {}.", view.email, view.roles.join(", "))}</p>
            <p id="authenticated-at">
                {format!("You typed your password at {} (this page needs a recent sign-in).", view.authenticated_at)}
            </p>
            <p id="open-sessions">{format!("Open sessions of yours here: {}.", view.open_sessions)}</p>
            <p><a class="button" href="/">"Back to the home page"</a></p>
        </section>
    }
}

#[component]
fn RoleMissing(role: String) -> impl IntoView {
    // The 403 is set by the server function's guard (`require`), for this page and its callers.
    view! {
        <section class="card error" aria-labelledby="forbidden-title">
            <h1 id="forbidden-title">"Not allowed"</h1>
            <p class="error-message" role="alert">
                {format!("This page needs the \u{201c}{role}\u{201d} role, which your account does not have for this application.")}
            </p>
            <p><a class="button" href="/">"Back to the home page"</a></p>
        </section>
    }
}
