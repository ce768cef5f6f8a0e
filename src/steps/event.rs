//! Step 3: choose a date and an event. Everything here is computed in the
//! browser by `booking-core` from the one fetch of the course's events:
//! switching month, location or view makes no request.

use booking_core::calendar::{CalendarOptions, DayAgenda, YearMonth};
use booking_core::flow::Intent;
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;

use crate::calendar::{Agenda, CalendarPanel, CalendarView};
use crate::state::{Load, WidgetState};
use crate::steps::{BackButton, CourseLead};

/// The calendar, the list view and the chosen day's events.
#[component]
pub fn EventStep() -> impl IntoView {
    let now = expect_context::<WidgetState>().now_utc();
    // The month grid and the chosen day's events, or (the default on narrow
    // screens) every day with events, as a list.
    let as_list = RwSignal::new(narrow_screen());
    view! {
        <CourseLead/>
        <div class="hbg-toolbar">
            <LocationFilter now=now/>
            <LayoutSwitch as_list=as_list/>
        </div>
        <Dates now=now as_list=as_list/>
        <div class="hbg-actions">
            <BackButton/>
        </div>
    }
}

/// Shows the dates as a calendar or as a list.
#[component]
fn LayoutSwitch(as_list: RwSignal<bool>) -> impl IntoView {
    let layout_button = move |list: bool, text: &'static str| {
        view! {
            <button
                type="button"
                class="hbg-button hbg-button-secondary" part="button"
                aria-pressed=move || if as_list.get() == list { "true" } else { "false" }
                on:click=move |_| as_list.set(list)
            >
                {text}
            </button>
        }
        .into_any()
    };
    view! {
        <div class="hbg-layout-switch" role="group" aria-label="Show dates as">
            {layout_button(false, "Calendar")}
            {layout_button(true, "List")}
        </div>
    }
}

/// The dates with seats: while they load, a failure to load them, none
/// left, or the month navigation with the date grid (or the list) and the
/// events.
#[component]
fn Dates(now: DateTime<Utc>, as_list: RwSignal<bool>) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let options = Memo::new(move |_| CalendarOptions {
        location: state.flow.with(|flow| flow.location()),
        ..CalendarOptions::default()
    });
    let calendar = CalendarView::new(
        move |wanted| {
            let options = options.get();
            state.events.with(|events| match events {
                Load::Ready(index) => index.month_wanted(wanted, now, &options),
                _ => None,
            })
        },
        move |shown| {
            let options = options.get();
            state.events.with(|events| match events {
                Load::Ready(index) => Some(index.month_grid(shown, now, &options)),
                _ => None,
            })
        },
    );
    let progress = Memo::new(move |_| state.events.with(Load::progress));
    let retry = Callback::new(move |()| state.dispatch(Intent::RetryDates));

    view! {
        <CalendarPanel
            calendar=calendar
            progress=progress
            loading="Loading dates"
            empty="There are no dates with seats left here. Choose another location, or any location."
            retry=retry
            hide_grid=as_list
        >
            <Agendas
                now=now
                options=options
                month=calendar.month
                selected=calendar.selected
                as_list=as_list
            />
        </CalendarPanel>
    }
}

/// The events to choose from: every day of the month with events in the
/// list view, else the selected day's.
#[component]
fn Agendas(
    now: DateTime<Utc>,
    options: Memo<CalendarOptions>,
    month: RwSignal<Option<YearMonth>>,
    selected: RwSignal<Option<NaiveDate>>,
    as_list: RwSignal<bool>,
) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let agendas = move || -> Vec<DayAgenda> {
        let options = options.get();
        state.events.with(|events| {
            let Load::Ready(index) = events else {
                return Vec::new();
            };
            if as_list.get() {
                month
                    .get()
                    .map(|shown| index.agendas_in_month(shown, now, &options))
                    .unwrap_or_default()
            } else {
                selected
                    .get()
                    .map(|date| vec![index.day_agenda(date, now, &options)])
                    .unwrap_or_default()
            }
        })
    };
    view! {
        {move || {
            agendas()
                .into_iter()
                .map(|agenda| view! { <Agenda agenda=agenda/> }.into_any())
                .collect::<Vec<_>>()
        }}
    }
}

/// Switches the location filter in place (no request).
#[component]
fn LocationFilter(now: DateTime<Utc>) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let current = move || location_value(state);
    view! {
        <label class="hbg-filter">
            <span class="hbg-label">"Location"</span>
            <select
                class="hbg-select" part="input"
                prop:value=move || location_value(state)
                on:change=move |event| {
                    let location = event_target_value(&event).parse::<u64>().ok();
                    state.dispatch(Intent::ChooseLocation(location));
                }
            >
                <option value="" selected=move || current().is_empty()>"Any location"</option>
                {move || {
                    let venues = state.events.with(|events| match events {
                        Load::Ready(index) => index.venues(now, &CalendarOptions::default()),
                        _ => Vec::new(),
                    });
                    venues
                        .into_iter()
                        .map(|venue| {
                            let value = venue.id.to_string();
                            let chosen = value.clone();
                            view! {
                                <option value=value selected=move || current() == chosen>
                                    {venue.name}
                                </option>
                            }
                            .into_any()
                        })
                        .collect::<Vec<_>>()
                }}
            </select>
        </label>
    }
}

/// The location filter's value: the chosen location's id, or `""` for any.
fn location_value(state: WidgetState) -> String {
    state
        .flow
        .with(|flow| flow.location())
        .map(|id| id.to_string())
        .unwrap_or_default()
}

/// Whether the widget is narrow enough to prefer the list view.
fn narrow_screen() -> bool {
    window()
        .match_media("(max-width: 36em)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches())
}
