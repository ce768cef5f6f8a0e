//! Virtual BLS, step 2: choose a date in the month grid of days with free
//! times, then one of that day's times. Everything is computed in the
//! browser by `booking_core::slot_calendar` from the one read of the
//! course's timeslots; the grid is the Practical Training calendar's date
//! grid (keys, roving tab stop, full-date names), so moving between months
//! and days makes no request.

use booking_core::calendar::{MonthGrid, YearMonth};
use booking_core::flow::Intent;
use booking_core::slot_calendar::{SlotIndex, SlotTime};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;

use crate::calendar::{DateGrid, MonthNavigation};
use crate::state::{effect, Load, WidgetState};
use crate::steps::{BackButton, Choice, ChoiceList, CourseLead, Problem, Skeleton};

/// The timeslot calendar and the chosen day's times.
#[component]
pub fn TimeslotStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let now = state.now_utc();
    let month = RwSignal::new(None::<YearMonth>);
    let selected = RwSignal::new(None::<NaiveDate>);
    let with_index = move |f: &dyn Fn(&SlotIndex) -> Option<YearMonth>| {
        state.slots.with(|slots| match slots {
            Load::Ready(index) => f(index),
            _ => None,
        })
    };
    effect(move || {
        month.set(with_index(&|index| {
            index.first_month_with_availability(now)
        }))
    });
    let grid: Memo<Option<MonthGrid>> = Memo::new(move |_| {
        let shown = month.get()?;
        state.slots.with(|slots| match slots {
            Load::Ready(index) => Some(index.month_grid(shown, now)),
            _ => None,
        })
    });
    effect(move || {
        if let Some(grid) = grid.get() {
            let kept = grid.keep_selected(selected.get_untracked());
            if kept != selected.get_untracked() {
                selected.set(kept);
            }
        }
    });
    let previous = Callback::new(move |()| {
        let shown = month.get()?;
        with_index(&|index| index.previous_month_with_availability(shown, now))
    });
    let next = Callback::new(move |()| {
        let shown = month.get()?;
        with_index(&|index| index.next_month_with_availability(shown, now))
    });
    let change_month = Callback::new(move |to: YearMonth| month.set(Some(to)));
    let has_month = Memo::new(move |_| month.with(Option::is_some));
    let retry = Callback::new(move |()| {
        if let Some(course) = state
            .flow
            .with_untracked(|flow| flow.course().map(|c| c.id))
        {
            state.load_timeslots(course);
        }
    });
    view! {
        <CourseLead/>
        {move || match state.slots.with(|slots| match slots {
            Load::Loading => Some(None),
            Load::Failed(error) => Some(Some(error.message())),
            Load::Ready(_) => None,
        }) {
            Some(None) => view! { <Skeleton rows=6 label="Loading times"/> }.into_any(),
            Some(Some(message)) => {
                view! { <Problem message=message action="Try again" on_action=retry/> }.into_any()
            }
            None if !has_month.get() => view! {
                <p class="hbg-empty">
                    "There are no free times for this course at the moment. Choose another course, or try again later."
                </p>
            }
            .into_any(),
            None => view! {
                <MonthNavigation month=month previous=previous next=next on_change=change_month/>
                <DateGrid grid=grid selected=selected on_month=change_month/>
                <DayTimes now=now selected=selected/>
            }
            .into_any(),
        }}
        <div class="hbg-actions">
            <BackButton/>
        </div>
    }
}

/// The selected day's free times, a button each.
#[component]
fn DayTimes(now: DateTime<Utc>, selected: RwSignal<Option<NaiveDate>>) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    view! {
        {move || {
            let Some(date) = selected.get() else {
                return ().into_any();
            };
            let day = state.slots.with(|slots| match slots {
                Load::Ready(index) => Some(index.day_times(date, now)),
                _ => None,
            });
            let Some(day) = day else {
                return ().into_any();
            };
            let choices = day
                .times
                .into_iter()
                .map(|time| time_choice(state, &day.label, time))
                .collect();
            view! {
                <section class="hbg-agenda">
                    <h3 class="hbg-agenda-heading">{day.label}</h3>
                    <ChoiceList choices=choices/>
                </section>
            }
            .into_any()
        }}
    }
}

fn time_choice(state: WidgetState, date_label: &str, time: SlotTime) -> Choice {
    let (date, at) = (time.date.clone(), time.time.clone());
    Choice {
        hidden: Some(date_label.to_owned()),
        title: time.label,
        meta: vec![time.duration_text, time.cost.to_string()],
        action: Some(Callback::new(move |()| {
            let slot = state.slots.with_untracked(|slots| match slots {
                Load::Ready(index) => index.slot(&date, &at).cloned(),
                _ => None,
            });
            if let Some(slot) = slot {
                state.dispatch(Intent::ChooseTimeslot(slot));
            }
        })),
    }
}
