//! One file per step of the booking flow, plus the small pieces they share.
//! Steps render the flow's state and send intents; they never decide what
//! comes next.

use leptos::prelude::*;

pub mod confirmation;
pub mod course;
pub mod details;
pub mod event;
pub mod hold;
pub mod location;
pub mod payment;
pub mod trouble;

/// A placeholder while something loads: grey blocks in a busy region.
#[component]
pub fn Skeleton(
    /// How many rows to show.
    rows: usize,
    /// What is loading, for screen readers.
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="hbg-skeleton" aria-busy="true" role="status">
            <span class="hbg-visually-hidden">{label}</span>
            {(0..rows).map(|_| view! { <div class="hbg-skeleton-row"></div> }).collect_view()}
        </div>
    }
}

/// A message while a request is in flight.
#[component]
pub fn Waiting(
    /// What is happening.
    text: &'static str,
) -> impl IntoView {
    view! {
        <p class="hbg-waiting" role="status" aria-busy="true">
            <span class="hbg-spinner" aria-hidden="true"></span>
            {text}
        </p>
    }
}

/// A failure with one action that recovers from it.
#[component]
pub fn Problem(
    /// What went wrong, for people.
    message: String,
    /// The button's text.
    action: &'static str,
    /// What the button does.
    on_action: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="hbg-problem" role="alert">
            <p>{message}</p>
            <button type="button" class="hbg-button" part="button" on:click=move |_| on_action.run(())>
                {action}
            </button>
        </div>
    }
}

/// The "Back" button every step after the first has.
#[component]
pub fn BackButton() -> impl IntoView {
    let booking = expect_context::<crate::state::Booking>();
    view! {
        <button
            type="button"
            class="hbg-button hbg-button-secondary"
            part="button"
            on:click=move |_| booking.dispatch(booking_core::flow::Intent::Back)
        >
            "Back"
        </button>
    }
}

/// What is being booked: course, when (venue-local), where and the price.
#[component]
pub fn EventSummary() -> impl IntoView {
    let booking = expect_context::<crate::state::Booking>();
    let summary = move || {
        booking.flow.with(|flow| {
            let event = flow.event()?;
            Some((
                event.course.name.clone(),
                booking_core::calendar::when_label(event.start_date, event.end_date),
                event.location.name.clone(),
                event.location.address.clone(),
                event.cost_inc_vat.to_string(),
            ))
        })
    };
    move || {
        summary().map(|(course, when, place, address, price)| {
            view! {
                <dl class="hbg-summary" part="summary">
                    <div><dt>"Course"</dt><dd>{course}</dd></div>
                    <div><dt>"When"</dt><dd>{when}</dd></div>
                    <div><dt>"Where"</dt><dd>{place}<br/>{address}</dd></div>
                    <div><dt>"Price"</dt><dd>{price}</dd></div>
                </dl>
            }
        })
    }
}
