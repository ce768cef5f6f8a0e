//! The steps that explain a problem and offer a way on: the hold lapsed,
//! someone else holds the seat (and the wait for it, with its countdown),
//! or a request failed. Nothing typed is lost in any of them. What to say
//! and which ways out to offer is the flow's (`Flow::trouble`).

use booking_core::flow::Flow;
use leptos::prelude::*;

use crate::state::WidgetState;
use crate::steps::EventSummary;

/// What went wrong and the buttons that recover.
#[component]
pub fn TroubleStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    view! {
        {move || {
            let Some(trouble) = state.flow.with(Flow::trouble) else {
                return ().into_any();
            };
            let buttons = trouble
                .recoveries
                .into_iter()
                .map(|recovery| {
                    view! {
                        <button
                            type="button"
                            class="hbg-button" part="button"
                            class:hbg-button-secondary=!recovery.is_primary()
                            on:click=move |_| {
                                state.now_ms.set(crate::browser::monotonic_ms());
                                state.dispatch(recovery.intent());
                            }
                        >
                            {recovery.label()}
                        </button>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>();
            view! {
                <div class="hbg-problem" role="alert">
                    <p>{trouble.message}</p>
                </div>
                <SeatWait/>
                <EventSummary/>
                <div class="hbg-actions">{buttons}</div>
            }
            .into_any()
        }}
    }
}

/// While waiting for a seat: the time left until it frees, each second (a
/// timer, not announced each tick).
#[component]
fn SeatWait() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let text = move || {
        state
            .flow
            .with(|flow| flow.seat_wait_text(state.now_ms.get()))
    };
    move || {
        text().map(|text| {
            view! {
                <div class="hbg-hold">
                    <p class="hbg-hold-text" role="timer" aria-live="off">{text}</p>
                </div>
            }
        })
    }
}
