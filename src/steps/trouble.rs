//! The steps that explain a problem and offer a way on: the hold lapsed,
//! someone else holds the seat, or a request failed. Nothing typed is lost
//! in any of them.

use booking_core::flow::{FailureKind, Intent, Step};
use leptos::prelude::*;

use crate::state::Booking;
use crate::steps::EventSummary;

/// One way out of a problem.
#[derive(Clone, Copy)]
struct Action {
    text: &'static str,
    intent: fn() -> Intent,
    primary: bool,
}

const HOLD_AGAIN: Action = Action {
    text: "Hold this seat again",
    intent: || Intent::HoldAgain,
    primary: true,
};
const TRY_AGAIN: Action = Action {
    text: "Try again",
    intent: || Intent::Retry,
    primary: true,
};
const OTHER_DATE: Action = Action {
    text: "Choose another date",
    intent: || Intent::Back,
    primary: false,
};
const BACK_TO_PAYMENT: Action = Action {
    text: "Back",
    intent: || Intent::Back,
    primary: false,
};
const START_AGAIN: Action = Action {
    text: "Start again",
    intent: || Intent::StartOver,
    primary: false,
};

/// What went wrong and the buttons that recover.
#[component]
pub fn TroubleStep() -> impl IntoView {
    let booking = expect_context::<Booking>();
    let content = move || {
        booking.flow.with(|flow| match flow.step() {
            Step::HoldExpired => (
                "Seats are held for 30 minutes and this hold has ended. Everything you entered is kept: hold the seat again to carry on.".to_owned(),
                vec![HOLD_AGAIN, OTHER_DATE],
            ),
            Step::HoldConflict => (
                flow.conflict()
                    .map(|conflict| conflict.message.clone())
                    .filter(|message| !message.is_empty())
                    .unwrap_or_else(|| "Someone else is holding this seat at the moment. Choose another date, or try again shortly.".to_owned()),
                vec![TRY_AGAIN, OTHER_DATE],
            ),
            _ => {
                let failure = flow.failure();
                let message = failure
                    .map(|failure| failure.message.clone())
                    .unwrap_or_else(|| "Something went wrong.".to_owned());
                let actions = match failure.map(|failure| failure.kind) {
                    Some(FailureKind::HoldFailed) => vec![TRY_AGAIN, OTHER_DATE],
                    Some(FailureKind::HoldRefused) => vec![OTHER_DATE],
                    Some(FailureKind::BookingOutcomeUnknown) => vec![TRY_AGAIN, BACK_TO_PAYMENT],
                    _ => vec![START_AGAIN],
                };
                (message, actions)
            }
        })
    };
    view! {
        {move || {
            let (message, actions) = content();
            let buttons = actions
                .into_iter()
                .map(|action| {
                    view! {
                        <button
                            type="button"
                            class="hbg-button" part="button"
                            class:hbg-button-secondary=!action.primary
                            on:click=move |_| booking.dispatch((action.intent)())
                        >
                            {action.text}
                        </button>
                    }
                    .into_any()
                })
                .collect::<Vec<_>>();
            view! {
                <div class="hbg-problem" role="alert">
                    <p>{message}</p>
                </div>
                <EventSummary/>
                <div class="hbg-actions">{buttons}</div>
            }
            .into_any()
        }}
    }
}
