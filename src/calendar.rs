//! The month calendar: the WAI-ARIA date grid over `booking-core`'s
//! `MonthGrid`, and the list of a day's (or a month's) events.
//!
//! Keys and dates come from `booking_core::calendar` (`GridKey::moved`);
//! this module only moves focus and renders. Exactly one day button is in
//! the tab order (roving `tabindex`); days without events stay focusable but
//! are `aria-disabled`, so arrow keys move continuously.

use booking_core::calendar::{
    AgendaEntry, DayAgenda, GridDay, GridKey, MonthGrid, MonthWanted, YearMonth,
};
use booking_core::flow::Intent;
use chrono::{Datelike, NaiveDate};
use leptos::html::Table;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::{Load, Progress, WidgetState};
use crate::steps::{Choice, ChoiceList, Problem, Skeleton};

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

/// The month shown and the date chosen in a calendar of days with
/// availability (events with seats, or free timeslots). The step says how
/// its index answers; this keeps the month on one with availability and
/// the chosen date on a choosable day of it.
#[derive(Clone, Copy)]
pub struct CalendarView {
    /// The month shown, `None` while there is none.
    pub month: RwSignal<Option<YearMonth>>,
    /// The chosen date.
    pub selected: RwSignal<Option<NaiveDate>>,
    /// The month's grid.
    pub grid: Memo<Option<MonthGrid>>,
    /// Whether there is a month to show at all. The calendar is built once
    /// and kept while the month changes, so keyboard focus stays in the grid.
    pub has_month: Memo<bool>,
    month_of: Callback<MonthWanted, Option<YearMonth>>,
}

impl CalendarView {
    /// A calendar whose months come from `month_of` and grids from
    /// `grid_of`. Both read the index (and any filter) reactively and answer
    /// `None` while the index is not there; a change of either moves the
    /// month to the first with availability.
    pub fn new(
        month_of: impl Fn(MonthWanted) -> Option<YearMonth> + Send + Sync + 'static,
        grid_of: impl Fn(YearMonth) -> Option<MonthGrid> + Send + Sync + 'static,
    ) -> CalendarView {
        let month_of = Callback::new(month_of);
        let month = RwSignal::new(None::<YearMonth>);
        let selected = RwSignal::new(None::<NaiveDate>);
        crate::state::effect(move || month.set(month_of.run(MonthWanted::First)));
        let grid = Memo::new(move |_| grid_of(month.get()?));
        crate::state::effect(move || {
            if let Some(grid) = grid.get() {
                let kept = grid.keep_selected(selected.get_untracked());
                if kept != selected.get_untracked() {
                    selected.set(kept);
                }
            }
        });
        CalendarView {
            month,
            selected,
            grid,
            has_month: Memo::new(move |_| month.with(Option::is_some)),
            month_of,
        }
    }

    /// The nearest month with availability before (`later` false) or after
    /// the one shown.
    fn neighbour(self, later: bool) -> Callback<(), Option<YearMonth>> {
        Callback::new(move |()| {
            let shown = self.month.get()?;
            self.month_of.run(if later {
                MonthWanted::After(shown)
            } else {
                MonthWanted::Before(shown)
            })
        })
    }
}

/// A calendar step's body: a skeleton while its index loads, the failure
/// with a retry, `empty` when no month has availability, else the month
/// navigation, the date grid (unless `hide_grid` says so) and the chosen
/// day's (or month's) choices.
#[component]
pub fn CalendarPanel(
    /// The calendar.
    calendar: CalendarView,
    /// How far its index has loaded.
    progress: Memo<Progress>,
    /// What is loading, for screen readers.
    loading: &'static str,
    /// What to say when no month has availability.
    empty: &'static str,
    /// Loads the index again.
    retry: Callback<()>,
    /// Shows the choices without the grid (the list view).
    #[prop(optional)]
    hide_grid: Option<RwSignal<bool>>,
    /// The choices under the grid.
    children: ChildrenFn,
) -> impl IntoView {
    let change_month = Callback::new(move |to: YearMonth| calendar.month.set(Some(to)));
    let children = StoredValue::new(children);
    view! {
        {move || match progress.get() {
            Progress::Loading => view! { <Skeleton rows=6 label=loading/> }.into_any(),
            Progress::Failed(message) => {
                view! { <Problem message=message action="Try again" on_action=retry/> }.into_any()
            }
            Progress::Ready if !calendar.has_month.get() => {
                view! { <p class="hbg-empty">{empty}</p> }.into_any()
            }
            Progress::Ready => view! {
                <MonthNavigation
                    month=calendar.month
                    previous=calendar.neighbour(false)
                    next=calendar.neighbour(true)
                    on_change=change_month
                />
                {move || {
                    if hide_grid.is_some_and(|hidden| hidden.get()) {
                        ().into_any()
                    } else {
                        view! {
                            <DateGrid grid=calendar.grid selected=calendar.selected on_month=change_month/>
                        }
                        .into_any()
                    }
                }}
                {children.with_value(|children| children())}
            }
            .into_any(),
        }}
    }
}

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
