//! One file per step of the booking flow, plus the small pieces they share.
//! Steps render the flow's state and send intents; they never decide what
//! comes next.
//!
//! Every optional or repeated part of a view is an `AnyView` (lists are
//! `Vec<AnyView>`) and every reactive text a `String`: Leptos compiles its
//! rendering code once per type, so few types keep the module small.

use booking_core::flow::{BookingFact, Chosen};
use leptos::prelude::*;

pub mod confirmation;
pub mod course;
pub mod details;
pub mod event;
pub mod hold;
pub mod location;
pub mod payment;
pub mod product;
pub mod timeslot;
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
            {(0..rows)
                .map(|_| view! { <div class="hbg-skeleton-row"></div> }.into_any())
                .collect::<Vec<_>>()}
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

/// One entry of a [`ChoiceList`]: a button that chooses it, or, without an
/// action, a line that cannot be chosen (a full event).
pub struct Choice {
    /// Read before the title by screen readers only (e.g. the date).
    pub hidden: Option<String>,
    /// The entry's name.
    pub title: String,
    /// Lines under the title.
    pub meta: Vec<String>,
    /// What choosing it does; `None` when it cannot be chosen.
    pub action: Option<Callback<()>>,
}

/// A list of choices (courses, locations, events), one button each.
#[component]
pub fn ChoiceList(
    /// The entries, in order.
    choices: Vec<Choice>,
) -> impl IntoView {
    view! { <ul class="hbg-choices">{choices.into_iter().map(choice_view).collect_view()}</ul> }
}

fn choice_view(choice: Choice) -> AnyView {
    let hidden = match choice.hidden {
        Some(hidden) => view! { <span class="hbg-visually-hidden">{hidden}", "</span> }.into_any(),
        None => ().into_any(),
    };
    let meta = choice
        .meta
        .into_iter()
        .map(|line| view! { <span class="hbg-choice-meta">{line}</span> }.into_any())
        .collect::<Vec<_>>();
    let content = view! {
        {hidden}
        <span class="hbg-choice-title">{choice.title}</span>
        {meta}
    };
    match choice.action {
        Some(action) => view! {
            <li>
                <button type="button" class="hbg-choice" part="choice" on:click=move |_| action.run(())>
                    {content}
                </button>
            </li>
        }
        .into_any(),
        None => view! { <li class="hbg-event-full">{content}</li> }.into_any(),
    }
}

/// The "Back" button every step after the first has.
#[component]
pub fn BackButton() -> impl IntoView {
    let state = expect_context::<crate::state::WidgetState>();
    view! {
        <button
            type="button"
            class="hbg-button hbg-button-secondary"
            part="button"
            on:click=move |_| state.dispatch(booking_core::flow::Intent::Back)
        >
            "Back"
        </button>
    }
}

/// The chosen course's name, above the steps that choose where and when.
#[component]
pub fn CourseLead() -> impl IntoView {
    let state = expect_context::<crate::state::WidgetState>();
    view! {
        <p class="hbg-lead">
            {move || {
                state.flow.with(|flow| flow.course().map(|c| c.name.clone()).unwrap_or_default())
            }}
        </p>
    }
}

/// A description list of what is booked, as `booking-core` lists it.
pub fn summary(rows: Vec<BookingFact>) -> AnyView {
    let rows = rows
        .into_iter()
        .map(|row| {
            let lines = row
                .lines
                .into_iter()
                .enumerate()
                .map(|(index, line)| {
                    if index == 0 {
                        line.into_any()
                    } else {
                        view! { <br/>{line} }.into_any()
                    }
                })
                .collect::<Vec<_>>();
            view! {
                <div>
                    <dt>{row.label}</dt>
                    <dd class:hbg-reference=row.reference>{lines}</dd>
                </div>
            }
            .into_any()
        })
        .collect::<Vec<_>>();
    view! { <dl class="hbg-summary" part="summary">{rows}</dl> }.into_any()
}

/// What is being booked, as `booking-core` lists it: course, when
/// (venue-local), where (the venue, or Zoom) and the price.
#[component]
pub fn EventSummary() -> impl IntoView {
    let state = expect_context::<crate::state::WidgetState>();
    view! {
        {move || {
            state
                .flow
                .with(|flow| flow.chosen().map(Chosen::summary))
                .map_or_else(|| ().into_any(), summary)
        }}
    }
}
