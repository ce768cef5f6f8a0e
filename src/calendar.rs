//! The month calendar: the WAI-ARIA date grid over `booking-core`'s
//! `MonthGrid`, and the list of a day's (or a month's) events.
//!
//! Keys and dates come from `booking_core::calendar` (`GridKey::moved`);
//! this module only moves focus and renders. Exactly one day button is in
//! the tab order (roving `tabindex`); days without events stay focusable but
//! are `aria-disabled`, so arrow keys move continuously.

use booking_core::calendar::{AgendaEntry, DayAgenda, GridDay, GridKey, MonthGrid, YearMonth};
use booking_core::flow::Intent;
use chrono::{Datelike, NaiveDate};
use leptos::html::Table;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::{Load, WidgetState};
use crate::steps::{Choice, ChoiceList};

/// Weekday column headers: abbreviation and full name.
const WEEKDAYS: [(&str, &str); 7] = [
    ("Mon", "Monday"),
    ("Tue", "Tuesday"),
    ("Wed", "Wednesday"),
    ("Thu", "Thursday"),
    ("Fri", "Friday"),
    ("Sat", "Saturday"),
    ("Sun", "Sunday"),
];

/// Previous and next month buttons, named with the month they go to and
/// disabled when no earlier or later month has seats.
#[component]
pub fn MonthNavigation(
    /// The month shown.
    month: RwSignal<Option<YearMonth>>,
    /// The nearest earlier month with seats.
    previous: Callback<(), Option<YearMonth>>,
    /// The nearest later month with seats.
    next: Callback<(), Option<YearMonth>>,
    /// Called with the month to show.
    on_change: Callback<YearMonth>,
) -> impl IntoView {
    view! {
        <div class="hbg-month-nav">
            {month_button(previous, "Previous", "‹", on_change)}
            <p class="hbg-month-label" id="hbg-month-label" aria-live="polite">
                {move || month.get().map(|month| month.to_string()).unwrap_or_default()}
            </p>
            {month_button(next, "Next", "›", on_change)}
        </div>
    }
}

/// A button to the month `target` gives, named after it.
fn month_button(
    target: Callback<(), Option<YearMonth>>,
    word: &'static str,
    arrow: &'static str,
    on_change: Callback<YearMonth>,
) -> AnyView {
    view! {
        <button
            type="button"
            class="hbg-button hbg-button-secondary hbg-month-button" part="button"
            disabled=move || target.run(()).is_none()
            aria-label=move || match target.run(()) {
                Some(to) => format!("{word} month, {to}"),
                None => format!("{word} month: no earlier or later dates"),
            }
            on:click=move |_| {
                if let Some(to) = untrack(|| target.run(())) {
                    on_change.run(to);
                }
            }
        >
            {match word {
                "Previous" => format!("{arrow} {word}"),
                _ => format!("{word} {arrow}"),
            }}
        </button>
    }
    .into_any()
}

/// The month grid with keyboard navigation.
#[component]
pub fn DateGrid(
    /// The grid to show.
    grid: Memo<Option<MonthGrid>>,
    /// The day whose events are listed.
    selected: RwSignal<Option<NaiveDate>>,
    /// Called when keyboard focus leaves the month shown.
    on_month: Callback<YearMonth>,
) -> impl IntoView {
    let focused = RwSignal::new(None::<NaiveDate>);
    let table = NodeRef::<Table>::new();
    let tab_stop = move || {
        grid.with(|grid| {
            grid.as_ref()
                .map(|grid| grid.tab_stop(focused.get(), selected.get()))
        })
    };
    let focus_date = move |date: NaiveDate| {
        request_animation_frame(move || {
            let selector = format!("[data-date=\"{date}\"]");
            let button = table
                .try_get_untracked()
                .flatten()
                .and_then(|table| table.query_selector(&selector).ok().flatten())
                .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(button) = button {
                let _ = button.focus();
            }
        });
    };
    let on_key = move |date: NaiveDate, event: web_sys::KeyboardEvent| {
        let Some(key) = GridKey::from_key(&event.key()) else {
            return;
        };
        event.prevent_default();
        let target = key.moved(date);
        focused.set(Some(target));
        let month = YearMonth::of(target);
        if !month.contains(date) {
            on_month.run(month);
        }
        focus_date(target);
    };
    let day_view = move |day: GridDay| {
        let date = day.date;
        let has_events = day.event_count > 0;
        let class = format!(
            "hbg-day hbg-day-{}{}",
            status_class(day.status),
            if day.in_month { "" } else { " hbg-day-outside" },
        );
        view! {
            <td>
                <button
                    type="button"
                    class=class
                    data-date=date.to_string()
                    tabindex=move || if tab_stop() == Some(date) { "0" } else { "-1" }
                    aria-label=day.label
                    aria-disabled=(!has_events).then_some("true")
                    aria-pressed=move || if selected.get() == Some(date) { "true" } else { "false" }
                    aria-current=day.is_today.then_some("date")
                    on:click=move |_| {
                        focused.set(Some(date));
                        if has_events {
                            selected.set(Some(date));
                        }
                    }
                    on:keydown=move |event| on_key(date, event)
                >
                    {date.day().to_string()}
                </button>
            </td>
        }
        .into_any()
    };
    let headers = WEEKDAYS
        .iter()
        .map(|(short, full)| view! { <th scope="col" abbr=*full>{*short}</th> }.into_any())
        .collect::<Vec<_>>();

    view! {
        <table class="hbg-grid" role="grid" aria-labelledby="hbg-month-label" node_ref=table>
            <thead>
                <tr>{headers}</tr>
            </thead>
            <tbody>
                {move || {
                    grid.get()
                        .map(|grid| {
                            grid.weeks
                                .into_iter()
                                .map(|week| {
                                    let days = week.days.into_iter().map(day_view).collect::<Vec<_>>();
                                    view! { <tr>{days}</tr> }.into_any()
                                })
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                }}
            </tbody>
        </table>
    }
}

fn status_class(status: booking_core::calendar::DayStatus) -> &'static str {
    use booking_core::calendar::DayStatus;
    match status {
        DayStatus::Available => "available",
        DayStatus::FewSeats => "few",
        DayStatus::Full => "full",
        DayStatus::NoEvents => "none",
        DayStatus::Past => "past",
    }
}

/// One day's events: a button per bookable event, sold-out ones listed as
/// "Full" and not choosable.
#[component]
pub fn Agenda(
    /// The day.
    agenda: DayAgenda,
) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let choices = agenda
        .entries
        .into_iter()
        .map(|entry| entry_choice(state, agenda.label.clone(), entry))
        .collect();
    view! {
        <section class="hbg-agenda">
            <h3 class="hbg-agenda-heading">{agenda.label}</h3>
            <ChoiceList choices=choices/>
        </section>
    }
}

fn entry_choice(state: WidgetState, date_label: String, entry: AgendaEntry) -> Choice {
    let event_id = entry.event_id;
    let action = (!entry.full).then(|| {
        Callback::new(move |()| {
            let event = state.events.with_untracked(|events| match events {
                Load::Ready(index) => index.event(event_id).cloned(),
                _ => None,
            });
            if let Some(event) = event {
                state.dispatch(Intent::ChooseEvent(event));
            }
        })
    });
    Choice {
        hidden: Some(date_label),
        title: entry.label,
        meta: if entry.full {
            Vec::new()
        } else {
            vec![entry.cost.to_string()]
        },
        action,
    }
}
