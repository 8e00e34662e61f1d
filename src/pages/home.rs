use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::mark_hydrated_when_interactive;
use crate::auth::{current_user, Login, Logout, Register, UserView};

/// `/`: the guest view or the signed-in profile, like the Flask tutorial's index page.
#[component]
pub fn HomePage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let logout = ServerAction::<Logout>::new();
    // Refetch the user whenever a login or logout action completes.
    let user = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| current_user(),
    );

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! { <ProfileView user logout/> }.into_any(),
                    Ok(None) => view! { <GuestView login register/> }.into_any(),
                    Err(_) => view! { <SessionUnavailable/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GuestView(login: ServerAction<Login>, register: ServerAction<Register>) -> impl IntoView {
    mark_hydrated_when_interactive();
    let return_to = current_path_and_query();
    let register_return_to = return_to.clone();
    view! {
        <section class="card" aria-labelledby="guest-title">
            <h1 id="guest-title">"Hello Guest"</h1>
            <p>"Please Login to see your profile"</p>
            <div class="actions">
                <ActionForm action=login>
                    <input type="hidden" name="return_to" value=return_to/>
                    <button type="submit" class="button primary">"Login"</button>
                </ActionForm>
                <ActionForm action=register>
                    <input type="hidden" name="return_to" value=register_return_to/>
                    <button type="submit" class="button">"Register"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn ProfileView(user: UserView, logout: ServerAction<Logout>) -> impl IntoView {
    mark_hydrated_when_interactive();
    let (claims_shown, set_claims_shown) = signal(true);
    let heading = format!("You are logged in as {}", user.email);
    view! {
        <section class="card" aria-labelledby="profile-title">
            <h1 id="profile-title">{heading}</h1>
            <div class="profile-header">
                <h2>"Here is your OpenID profile"</h2>
                <button
                    type="button"
                    class="button small"
                    aria-controls="claims"
                    aria-expanded=move || claims_shown.get().to_string()
                    on:click=move |_| set_claims_shown.update(|shown| *shown = !*shown)
                >
                    {move || if claims_shown.get() { "Hide claims" } else { "Show claims" }}
                </button>
            </div>
            <pre id="claims" tabindex="0" aria-label="OpenID claims" hidden=move || !claims_shown.get()>
                {user.claims_json}
            </pre>
            <ActionForm action=logout>
                <button type="submit" class="button primary">"Logout"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionUnavailable() -> impl IntoView {
    mark_hydrated_when_interactive();
    view! {
        <section class="card error" aria-labelledby="session-error-title">
            <h1 id="session-error-title">"Something went wrong"</h1>
            <p class="error-message" role="alert">
                "We could not load your session. Please reload the page in a moment."
            </p>
        </section>
    }
}

/// The page's own path and query, so a login started here comes back here.
fn current_path_and_query() -> String {
    let location = use_location();
    let path = location.pathname.get_untracked();
    let search = location.search.get_untracked();
    match search.trim_start_matches('?') {
        "" => path,
        query => format!("{path}?{query}"),
    }
}
