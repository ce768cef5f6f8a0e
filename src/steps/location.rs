//! Step 2: choose a location, from the venues that have bookable events for
//! the chosen course (computed from the one fetch of its events), or any.

use booking_core::calendar::CalendarOptions;
use booking_core::flow::Intent;
use leptos::prelude::*;

use crate::state::{effect, Load, WidgetState};
use crate::steps::{BackButton, Choice, ChoiceList, CourseLead, Problem, Skeleton};

/// The venues with seats, and "Any location".
#[component]
pub fn LocationStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    preselect_location(state);
    let retry = Callback::new(move |()| state.dispatch(Intent::RetryDates));
    let venues = move || {
        state.events.with(|events| match events {
            Load::Ready(index) => Some(Ok(
                index.venues(state.now_utc(), &CalendarOptions::default())
            )),
            Load::Loading => None,
            Load::Failed(reason) => Some(Err(reason.clone())),
        })
    };
    view! {
        <CourseLead/>
        {move || match venues() {
            None => view! { <Skeleton rows=4 label="Loading locations"/> }.into_any(),
            Some(Err(message)) => {
                view! { <Problem message=message action="Try again" on_action=retry/> }.into_any()
            }
            Some(Ok(venues)) if venues.is_empty() => view! {
                <p class="hbg-empty">
                    "There are no dates with seats left for this course. Choose another course or try again later."
                </p>
            }
            .into_any(),
            Some(Ok(venues)) => {
                let any = Choice {
                    hidden: None,
                    title: "Any location".to_owned(),
                    meta: vec!["See every date at every venue".to_owned()],
                    action: Some(Callback::new(move |()| {
                        state.dispatch(Intent::ChooseLocation(None))
                    })),
                };
                let choices = std::iter::once(any)
                    .chain(venues.into_iter().map(|venue| {
                        let id = venue.id;
                        let meta = venue.details();
                        Choice {
                            hidden: None,
                            title: venue.name,
                            meta,
                            action: Some(Callback::new(move |()| {
                                state.dispatch(Intent::ChooseLocation(Some(id)))
                            })),
                        }
                    }))
                    .collect();
                view! { <ChoiceList choices=choices/> }.into_any()
            }
        }}
        <div class="hbg-actions">
            <BackButton/>
        </div>
    }
}

/// Chooses the location the host page asked for, once, when the events
/// are in and it has seats; otherwise warns and lets the candidate choose.
fn preselect_location(state: WidgetState) {
    effect(move || {
        if !state.events.with(|events| matches!(events, Load::Ready(_))) {
            return;
        }
        let Some(wanted) = state.take_preselected_location() else {
            return;
        };
        let offered = state.events.with_untracked(|events| match events {
            Load::Ready(index) => index
                .bookable_venue(wanted, state.now_utc(), &CalendarOptions::default())
                .is_some(),
            _ => false,
        });
        if offered {
            state.dispatch(Intent::ChooseLocation(Some(wanted)));
        } else {
            leptos::logging::warn!(
                "hbg-booking: location {wanted} has no dates for this course; showing every location"
            );
        }
    });
}
