//! Step 2: choose a location, from the venues that have bookable events for
//! the chosen course (computed from the one fetch of its events), or any.

use booking_core::calendar::CalendarOptions;
use booking_core::flow::Intent;
use leptos::prelude::*;

use crate::state::{Booking, Load};
use crate::steps::{BackButton, Problem, Skeleton};

/// The venues with seats, and "Any location".
#[component]
pub fn LocationStep() -> impl IntoView {
    let booking = expect_context::<Booking>();
    preselect_location(booking);
    let venues = Memo::new(move |_| {
        booking.events.with(|events| match events {
            Load::Ready(index) => {
                Load::Ready(index.venues(booking.now_utc(), &CalendarOptions::default()))
            }
            Load::Loading => Load::Loading,
            Load::Failed(error) => Load::Failed(error.clone()),
        })
    });
    let retry = Callback::new(move |()| {
        if let Some(course) = booking
            .flow
            .with_untracked(|flow| flow.course().map(|c| c.id))
        {
            booking.load_events(course);
        }
    });
    let choices = move || {
        match venues.get() {
        Load::Loading => view! { <Skeleton rows=4 label="Loading locations"/> }.into_any(),
        Load::Failed(error) => {
            view! { <Problem message=error.message() action="Try again" on_action=retry/> }.into_any()
        }
        Load::Ready(venues) if venues.is_empty() => view! {
            <p class="hbg-empty">
                "There are no dates with seats left for this course. Choose another course or try again later."
            </p>
        }
        .into_any(),
        Load::Ready(venues) => view! {
            <ul class="hbg-choices">
                <li>
                    <button
                        type="button"
                        class="hbg-choice"
                        part="choice"
                        on:click=move |_| booking.dispatch(Intent::ChooseLocation(None))
                    >
                        <span class="hbg-choice-title">"Any location"</span>
                        <span class="hbg-choice-meta">"See every date at every venue"</span>
                    </button>
                </li>
                {venues
                    .into_iter()
                    .map(|venue| {
                        let id = venue.id;
                        let summary = venue.summary();
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="hbg-choice"
                                    part="choice"
                                    on:click=move |_| booking.dispatch(Intent::ChooseLocation(Some(id)))
                                >
                                    <span class="hbg-choice-title">{venue.name}</span>
                                    <span class="hbg-choice-meta">{venue.address}</span>
                                    <span class="hbg-choice-meta">{summary}</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
    };
    view! {
        <p class="hbg-lead">{move || booking.flow.with(|flow| flow.course().map(|c| c.name.clone()))}</p>
        {choices}
        <div class="hbg-actions">
            <BackButton/>
        </div>
    }
}

/// Chooses the location the host page asked for, once, when the events
/// are in and it has seats; otherwise warns and lets the candidate choose.
fn preselect_location(booking: Booking) {
    Effect::new(move |_| {
        let venues = booking.events.with(|events| match events {
            Load::Ready(index) => {
                Some(index.venues(booking.now_utc(), &CalendarOptions::default()))
            }
            _ => None,
        });
        let Some(venues) = venues else {
            return;
        };
        let Some(wanted) = booking.take_preselected_location() else {
            return;
        };
        if venues.iter().any(|venue| venue.id == wanted) {
            booking.dispatch(Intent::ChooseLocation(Some(wanted)));
        } else {
            leptos::logging::warn!(
                "hbg-booking: location {wanted} has no dates for this course; showing every location"
            );
        }
    });
}
