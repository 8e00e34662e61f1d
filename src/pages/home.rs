use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{mark_hydrated_when_interactive, set_http_status};
use crate::auth::{current_user, AuthFailure, Login, Logout, RefreshTokens, Register, UserView};

/// `/`: the guest view or the signed-in profile, like the Flask tutorial's index page.
#[component]
pub fn HomePage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let logout = ServerAction::<Logout>::new();
    let refresh = ServerAction::<RefreshTokens>::new();
    // Refetch the user whenever a login, logout or refresh action completes.
    let user = Resource::new(
        move || {
            (
                login.version().get(),
                logout.version().get(),
                refresh.version().get(),
            )
        },
        |_| current_user(),
    );

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(current) => match current.user {
                        Some(user) => view! { <ProfileView user logout refresh/> }.into_any(),
                        None => {
                            view! { <GuestView login register notice=current.notice/> }.into_any()
                        }
                    },
                    Err(_) => view! { <SessionUnavailable/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GuestView(
    login: ServerAction<Login>,
    register: ServerAction<Register>,
    notice: Option<String>,
) -> impl IntoView {
    mark_hydrated_when_interactive();
    let return_to = current_path_and_query();
    let register_return_to = return_to.clone();
    view! {
        <section class="card" aria-labelledby="guest-title">
            {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
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
fn ProfileView(
    user: UserView,
    logout: ServerAction<Logout>,
    refresh: ServerAction<RefreshTokens>,
) -> impl IntoView {
    mark_hydrated_when_interactive();
    let (claims_shown, set_claims_shown) = signal(true);
    let heading = format!("You are logged in as {}", user.email);
    let refresh_error = move || {
        refresh
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="error-message" role="alert">{error_text(&e)}</p> })
    };
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
            <div class="token-status">
                <TokenCountdown expires_at=user.access_token_expires_at rendered_at=user.rendered_at/>
                {user
                    .can_refresh
                    .then(|| {
                        view! {
                            <ActionForm action=refresh>
                                <button type="submit" class="button small">"Refresh now"</button>
                            </ActionForm>
                        }
                    })}
            </div>
            {refresh_error}
            <ActionForm action=logout>
                <button type="submit" class="button primary">"Logout"</button>
            </ActionForm>
        </section>
    }
}

/// "Access token expires in 59:58", ticking every second once hydrated. Both renders start from
/// the server's clock (`rendered_at`), so hydration sees the same text the server sent.
#[component]
fn TokenCountdown(expires_at: Option<i64>, rendered_at: i64) -> impl IntoView {
    let (now, set_now) = signal(rendered_at);
    Effect::new(move |_| {
        let tick = move || set_now.set((web_sys::js_sys::Date::now() / 1000.0) as i64);
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    });
    let remaining = move || expires_at.map(|at| at - now.get());
    view! {
        <p class="token-expiry" id="token-expiry">
            {move || match remaining() {
                None => "The access token has no stated expiry.".to_owned(),
                Some(seconds) if seconds <= 0 => "The access token has expired.".to_owned(),
                Some(seconds) => format!("Access token expires in {}", clock(seconds)),
            }}
        </p>
    }
}

/// 3725 → "1:02:05", 125 → "2:05".
fn clock(seconds: i64) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// A server function error as the person reading it should see it.
fn error_text(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        _ => "The request failed. Please try again.".to_owned(),
    }
}

#[component]
fn SessionUnavailable() -> impl IntoView {
    set_http_status(AuthFailure::SessionUnavailable.status());
    mark_hydrated_when_interactive();
    view! {
        <section class="card error" aria-labelledby="session-error-title">
            <h1 id="session-error-title">"Session store unavailable"</h1>
            <p class="error-message" role="alert">{AuthFailure::SessionUnavailable.message()}</p>
            <p>
                <a class="button" href="/">"Try again"</a>
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

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock(59), "0:59");
        assert_eq!(clock(125), "2:05");
        assert_eq!(clock(3600), "1:00:00");
        assert_eq!(clock(3725), "1:02:05");
    }
}
