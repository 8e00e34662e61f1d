//! The page of every path no route knows: a 404 with a way home.

use leptos::prelude::*;

use super::status::set_http_status;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_http_status(404);
    view! {
        <section class="card" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p>
                <a class="button" href="/">"Back to the home page"</a>
            </p>
        </section>
    }
}
