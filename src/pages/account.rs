//! `/account`: the user as FusionAuth describes them now — the server asks FusionAuth with the
//! user's access token, which never reaches the browser.

use leptos::prelude::*;

use crate::auth::{account, AccountUnavailable, AccountView};

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| account());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Ok(view)) => view! { <AccountDetails view/> }.into_any(),
                    Ok(Err(problem)) => view! { <AccountProblem problem/> }.into_any(),
                    // A guest: the server function already redirected to the login.
                    Err(_) => view! { <p class="loading">"Signing you in…"</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountDetails(view: AccountView) -> impl IntoView {
    let unknown = || "—".to_owned();
    let verified = match view.email_verified {
        Some(true) => "yes",
        Some(false) => "no",
        None => "—",
    };
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <p class="hint">"Fetched just now from FusionAuth by the server, with your access token."</p>
            <dl class="account">
                <dt>"Name"</dt>
                <dd id="account-name">{view.name.unwrap_or_else(unknown)}</dd>
                <dt>"Email"</dt>
                <dd id="account-email">{view.email.unwrap_or_else(unknown)}</dd>
                <dt>"Email verified"</dt>
                <dd id="account-verified">{verified}</dd>
                <dt>"Registered for"</dt>
                <dd id="account-registration">{view.registered_for.unwrap_or_else(unknown)}</dd>
                <dt>"Roles"</dt>
                <dd id="account-roles">{view.roles.join(", ")}</dd>
                <dt>"Last sign-in"</dt>
                <dd id="account-signed-in">{view.authenticated_at}</dd>
            </dl>
            <p><a class="button" href="/">"Back to the home page"</a></p>
        </section>
    }
}

#[component]
fn AccountProblem(problem: AccountUnavailable) -> impl IntoView {
    // The status (401, 503) is set by the server function that found the problem.
    let message = match problem {
        AccountUnavailable::TokenRefused => {
            "FusionAuth no longer accepts this session. Please log in again."
        }
        AccountUnavailable::ProviderUnavailable => {
            "The identity provider is unreachable right now. Please try again in a moment."
        }
    };
    view! {
        <section class="card error" aria-labelledby="account-error-title">
            <h1 id="account-error-title">"Your account"</h1>
            <p class="error-message" role="alert">{message}</p>
            <p><a class="button" href="/login?return_to=%2Faccount">"Log in again"</a></p>
        </section>
    }
}
