//! Step 3: choose a date and an event. Everything here is computed in the
//! browser by `booking-core` from the one fetch of the course's events:
//! switching month, location or view makes no request.

use booking_core::calendar::{CalendarOptions, DayAgenda, EventIndex, MonthGrid, YearMonth};
use booking_core::flow::Intent;
use chrono::NaiveDate;
use leptos::prelude::*;

use crate::calendar::{Agenda, DateGrid, MonthNavigation};
use crate::state::{Booking, Load};
use crate::steps::{BackButton, Problem, Skeleton};

/// How the month is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The month grid and the chosen day's events.
    Grid,
    /// Every day with events, as a list (the default on narrow screens).
    List,
}

/// The calendar, the list view and the chosen day's events.
#[component]
pub fn EventStep() -> impl IntoView {
    let booking = expect_context::<Booking>();
    let now = booking.now_utc();
    let options = Memo::new(move |_| CalendarOptions {
        location: booking.flow.with(|flow| flow.location()),
        ..CalendarOptions::default()
    });
    let month = RwSignal::new(None::<YearMonth>);
    let selected = RwSignal::new(None::<NaiveDate>);
    let layout = RwSignal::new(if narrow_screen() {
        Layout::List
    } else {
        Layout::Grid
    });

    let with_index = move |f: &dyn Fn(&EventIndex) -> Option<YearMonth>| {
        booking.events.with(|events| match events {
            Load::Ready(index) => f(index),
            _ => None,
        })
    };
    Effect::new(move |_| {
        let options = options.get();
        month.set(with_index(&|index| {
            index.first_month_with_availability(now, &options)
        }));
    });
    let grid: Memo<Option<MonthGrid>> = Memo::new(move |_| {
        let shown = month.get()?;
        let options = options.get();
        booking.events.with(|events| match events {
            Load::Ready(index) => Some(index.month_grid(shown, now, &options)),
            _ => None,
        })
    });
    Effect::new(move |_| {
        if let Some(grid) = grid.get() {
            let still_shown = selected
                .get_untracked()
                .and_then(|date| grid.day(date))
                .is_some_and(|day| day.event_count > 0 && grid.month.contains(day.date));
            if !still_shown {
                selected.set(grid.first_bookable_day);
            }
        }
    });
    let previous = Signal::derive(move || {
        let shown = month.get()?;
        let options = options.get();
        with_index(&|index| index.previous_month_with_availability(shown, now, &options))
    });
    let next = Signal::derive(move || {
        let shown = month.get()?;
        let options = options.get();
        with_index(&|index| index.next_month_with_availability(shown, now, &options))
    });
    let change_month = Callback::new(move |to: YearMonth| month.set(Some(to)));

    let day_agenda = move || -> Option<DayAgenda> {
        let date = selected.get()?;
        let options = options.get();
        booking.events.with(|events| match events {
            Load::Ready(index) => Some(index.day_agenda(date, now, &options)),
            _ => None,
        })
    };
    let month_agendas = move || -> Vec<DayAgenda> {
        let Some(shown) = month.get() else {
            return Vec::new();
        };
        let options = options.get();
        booking.events.with(|events| match events {
            Load::Ready(index) => index.agendas_in_month(shown, now, &options),
            _ => Vec::new(),
        })
    };
    let retry = Callback::new(move |()| {
        if let Some(course) = booking
            .flow
            .with_untracked(|flow| flow.course().map(|c| c.id))
        {
            booking.load_events(course);
        }
    });

    let body = move || match booking.events.with(|events| match events {
        Load::Loading => Some(None),
        Load::Failed(error) => Some(Some(error.message())),
        Load::Ready(_) => None,
    }) {
        Some(None) => view! { <Skeleton rows=6 label="Loading dates"/> }.into_any(),
        Some(Some(message)) => {
            view! { <Problem message=message action="Try again" on_action=retry/> }.into_any()
        }
        None if month.get().is_none() => view! {
            <p class="hbg-empty">
                "There are no dates with seats left here. Choose another location, or any location."
            </p>
        }
        .into_any(),
        None => view! {
            <MonthNavigation
                month=month.into()
                previous=previous
                next=next
                on_change=change_month
            />
            {move || match layout.get() {
                Layout::Grid => view! {
                    <DateGrid grid=grid selected=selected on_month=change_month/>
                    {move || day_agenda().map(|agenda| view! { <Agenda agenda=agenda/> })}
                }
                .into_any(),
                Layout::List => month_agendas()
                    .into_iter()
                    .map(|agenda| view! { <Agenda agenda=agenda/> })
                    .collect_view()
                    .into_any(),
            }}
        }
        .into_any(),
    };

    view! {
        <p class="hbg-lead">{move || booking.flow.with(|flow| flow.course().map(|c| c.name.clone()))}</p>
        <div class="hbg-toolbar">
            <LocationFilter now=now/>
            <div class="hbg-layout-switch" role="group" aria-label="Show dates as">
                <button
                    type="button"
                    class="hbg-button hbg-button-secondary"
                    part="button"
                    aria-pressed=move || if layout.get() == Layout::Grid { "true" } else { "false" }
                    on:click=move |_| layout.set(Layout::Grid)
                >
                    "Calendar"
                </button>
                <button
                    type="button"
                    class="hbg-button hbg-button-secondary"
                    part="button"
                    aria-pressed=move || if layout.get() == Layout::List { "true" } else { "false" }
                    on:click=move |_| layout.set(Layout::List)
                >
                    "List"
                </button>
            </div>
        </div>
        {body}
        <div class="hbg-actions">
            <BackButton/>
        </div>
    }
}

/// Switches the location filter in place (no request).
#[component]
fn LocationFilter(now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let booking = expect_context::<Booking>();
    let venues = Memo::new(move |_| {
        booking.events.with(|events| match events {
            Load::Ready(index) => index.venues(now, &CalendarOptions::default()),
            _ => Vec::new(),
        })
    });
    let current = move || {
        booking
            .flow
            .with(|flow| flow.location())
            .map(|id| id.to_string())
            .unwrap_or_default()
    };
    view! {
        <label class="hbg-filter">
            <span class="hbg-label">"Location"</span>
            <select
                class="hbg-select"
                part="input"
                prop:value=current
                on:change=move |event| {
                    let location = event_target_value(&event).parse::<u64>().ok();
                    booking.dispatch(Intent::ChooseLocation(location));
                }
            >
                <option value="" selected=move || current().is_empty()>"Any location"</option>
                {move || {
                    venues
                        .get()
                        .into_iter()
                        .map(|venue| {
                            let value = venue.id.to_string();
                            let selected = Memo::new({
                                let value = value.clone();
                                move |_| current() == value
                            });
                            view! { <option value=value selected=selected>{venue.name}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

/// Whether the widget is narrow enough to prefer the list view.
fn narrow_screen() -> bool {
    window()
        .match_media("(max-width: 36em)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches())
}
