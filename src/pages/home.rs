//! `/`: the guest view or the signed-in profile, like the Flask tutorial's index page.
//!
//! The page is rendered on the server; the parts that react in the browser are islands
//! (`#[island]`), hydrated by the small wasm bundle: the login/register/logout forms, the claims
//! toggle and the token countdown with its "Refresh now" action.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::status::set_http_status;
use crate::auth::{
    admin::display_time, AuthFailure, Login, Logout, LogoutEverywhere, RefreshTokens, Register,
    UserView,
};

/// Rendered on the server from the visitor the library's layer read for this request (the
/// access token already refreshed when it was due): no round trip, no loading state.
#[component]
pub fn HomePage() -> impl IntoView {
    match leptos_fusionauth::visitor() {
        Ok(visitor) => match visitor.user {
            Some(user) => view! { <ProfileView user/> }.into_any(),
            None => view! { <GuestView notice=visitor.notice/> }.into_any(),
        },
        Err(_) => view! { <SessionUnavailable/> }.into_any(),
    }
}

#[component]
fn GuestView(notice: Option<String>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="guest-title">
            {notice.map(|text| view! { <p class="notice" role="status">{text}</p> })}
            <h1 id="guest-title">"Hello Guest"</h1>
            <p>"Please Login to see your profile"</p>
            <GuestActions return_to=current_path_and_query()/>
        </section>
    }
}

/// Login and Register: server functions behind `ActionForm`s — plain form posts before the
/// wasm loads (or without JavaScript), `fetch` calls after; either way they end at FusionAuth.
#[island]
fn GuestActions(return_to: String) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let register_return_to = return_to.clone();
    view! {
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
    }
}

#[component]
fn ProfileView(user: UserView) -> impl IntoView {
    let heading = format!("You are logged in as {}", user.email);
    view! {
        <section class="card" aria-labelledby="profile-title">
            <h1 id="profile-title">{heading}</h1>
            <ClaimsPanel claims_json=user.claims_json/>
            <TokenStatus
                expires_at=user.access_token_expires_at
                rendered_at=user.rendered_at
                can_refresh=user.can_refresh
            />
            <p class="roles" id="roles">{roles_text(&user.roles)}</p>
            <nav class="links" aria-label="Your pages">
                <a href="/account">"Your account"</a>
                " · "
                <a href="/admin">"Administration"</a>
            </nav>
            <p class="session-end" id="session-end">
                {format!(
                    "Your session ends at the latest on {}.",
                    display_time(Some(user.session_ends_at)),
                )}
            </p>
            <LogoutButton/>
        </section>
    }
}

/// The claims as pretty JSON, with a toggle that works once hydrated. The JSON is rendered on
/// the server only, outside the island: not copied into the island's props (which the browser
/// would receive twice), not re-rendered by the browser, and no island-children machinery in
/// the bundle (it cost more than the bundle budget had left).
#[component]
fn ClaimsPanel(claims_json: String) -> impl IntoView {
    view! {
        <ClaimsToggle/>
        <div id=CLAIMS_BOX class="claims-box">
            <pre id="claims" tabindex="0" aria-label="OpenID claims">{claims_json}</pre>
        </div>
    }
}

/// The box [`ClaimsToggle`] shows and hides.
const CLAIMS_BOX: &str = "claims-box";

/// "Hide claims" / "Show claims": hides the box around the claims. The box is server-rendered
/// markup next to the island, so the click sets its `hidden` attribute directly.
#[island]
fn ClaimsToggle() -> impl IntoView {
    let (shown, set_shown) = signal(true);
    let toggle = move |_| {
        let show = !shown.get_untracked();
        set_shown.set(show);
        if let Some(claims_box) = document().get_element_by_id(CLAIMS_BOX) {
            let _ = claims_box.toggle_attribute_with_force("hidden", !show);
        }
    };
    view! {
        <div class="profile-header">
            <h2>"Here is your OpenID profile"</h2>
            <button
                type="button"
                class="button small"
                aria-controls=CLAIMS_BOX
                aria-expanded=move || shown.get().to_string()
                on:click=toggle
            >
                {move || if shown.get() { "Hide claims" } else { "Show claims" }}
            </button>
        </div>
    }
}

/// "Access token expires in 59:58", ticking every second once hydrated, and "Refresh now".
/// Both renders start from the server's clock (`rendered_at`), so hydration sees the text the
/// server sent; a refresh updates the countdown in place.
#[island]
fn TokenStatus(expires_at: Option<i64>, rendered_at: i64, can_refresh: bool) -> impl IntoView {
    let (expires, set_expires) = signal(expires_at);
    let (now, set_now) = signal(rendered_at);
    let browser_now = || (web_sys::js_sys::Date::now() / 1000.0) as i64;
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_now.set(browser_now()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let refresh = ServerAction::<RefreshTokens>::new();
    Effect::new(move |_| {
        if let Some(Ok(renewed)) = refresh.value().get() {
            set_expires.set(renewed);
            set_now.set(browser_now());
        }
    });
    let text = move || match expires.get().map(|at| at - now.get()) {
        None => "The access token has no stated expiry.".to_owned(),
        Some(seconds) if seconds <= 0 => "The access token has expired.".to_owned(),
        Some(seconds) => format!("Access token expires in {}", clock(seconds)),
    };
    let error = move || {
        refresh
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="error-message" role="alert">{error_text(&e)}</p> })
    };
    view! {
        <div class="token-status">
            <p class="token-expiry" id="token-expiry">{text}</p>
            {can_refresh
                .then(|| {
                    view! {
                        <ActionForm action=refresh>
                            <button type="submit" class="button small">"Refresh now"</button>
                        </ActionForm>
                    }
                })}
        </div>
        {error}
    }
}

/// Logout, and "Sign out everywhere" (every browser and device, every application).
#[island]
fn LogoutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    view! {
        <div class="actions">
            <ActionForm action=logout>
                <button type="submit" class="button primary">"Logout"</button>
            </ActionForm>
            <ActionForm action=everywhere>
                <button type="submit" class="button">"Sign out everywhere"</button>
            </ActionForm>
        </div>
    }
}

/// "Your roles here: admin, user." or "You have no roles in this application."
fn roles_text(roles: &[String]) -> String {
    if roles.is_empty() {
        "You have no roles in this application.".to_owned()
    } else {
        format!("Your roles here: {}.", roles.join(", "))
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
