//! A Leptos app with FusionAuth login: the guest page, Login, the user's name, a server function
//! guarded by a role, Logout. Pages render on the server from the signed-in user the library
//! read for the request; the buttons are islands that call server functions.

use leptos::prelude::*;
use leptos_fusionauth::{AuthError, UserView};
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_query_map,
    path,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <title>"FusionAuth login, minimal"</title>
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
    view! {
        <Router>
            <Routes fallback=|| "Not found.">
                <Route path=path!("/") view=Home/>
                <Route path=path!("/auth/error") view=SignInFailed/>
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    match leptos_fusionauth::visitor() {
        Ok(visitor) => match visitor.user {
            Some(user) => view! { <Profile user/> }.into_any(),
            None => view! { <h1>"Hello Guest"</h1> <LoginButton/> }.into_any(),
        },
        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
    }
}

#[component]
fn Profile(user: UserView) -> impl IntoView {
    view! {
        <h1>"Hello " {user.name.unwrap_or(user.email)}</h1>
        <MembersArea/>
        <LogoutButton/>
    }
}

/// Where a failed sign-in lands (`/auth/error?reason=…`): what went wrong, in words.
#[component]
fn SignInFailed() -> impl IntoView {
    let reason = use_query_map().with_untracked(|query| query.get("reason").unwrap_or_default());
    let failure = leptos_fusionauth::sign_in_failure(&reason);
    view! { <p role="alert">{failure.message()}</p> <a href="/">"Home"</a> }
}

#[island]
fn LoginButton() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    view! { <ActionForm action=login><button type="submit">"Login"</button></ActionForm> }
}

#[island]
fn LogoutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! { <ActionForm action=logout><button type="submit">"Logout"</button></ActionForm> }
}

#[island]
fn MembersArea() -> impl IntoView {
    let enter = ServerAction::<MembersOnly>::new();
    view! {
        <ActionForm action=enter><button type="submit">"Enter the members' area"</button></ActionForm>
        <p id="members">{move || enter.value().get().map(|got| got.unwrap_or_else(|e| e.to_string()))}</p>
    }
}

#[server(endpoint = "login")]
pub async fn login() -> Result<(), ServerFnError> {
    leptos_fusionauth::login(leptos_fusionauth::LoginFlow::SignIn, None).await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    leptos_fusionauth::logout(leptos_fusionauth::SignOutScope::ThisSession).await
}

/// Only for users with the `user` role in this application (a 403 otherwise).
#[server(endpoint = "members_only")]
pub async fn members_only() -> Result<String, AuthError> {
    use leptos_fusionauth::{require, Requirement};
    let user = require(Requirement::role("user"))?;
    Ok(format!("Welcome to the members' area, {}.", user.email()))
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Server-function redirects (to FusionAuth and back) leave the page.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|to| {
        let _ = window().location().set_href(to);
    });
    leptos::mount::hydrate_islands();
}
