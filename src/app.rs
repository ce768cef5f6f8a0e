//! The widget's root component: the booking flow, one step at a time.

use leptos::prelude::*;

/// The booking flow.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <section class="hbg-widget" aria-labelledby="hbg-step-heading">
            <h2 id="hbg-step-heading" tabindex="-1">"Choose a course"</h2>
        </section>
    }
}
