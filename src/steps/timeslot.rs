//! Virtual BLS, step 2: choose a date in the month grid of days with free
//! times, then one of that day's times. Everything is computed in the
//! browser by `booking_core::slot_calendar` from the one read of the
//! course's timeslots; the grid is the Practical Training calendar's date
//! grid (keys, roving tab stop, full-date names), so moving between months
//! and days makes no request.

use booking_core::flow::Intent;
use booking_core::slot_calendar::SlotTime;
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;

use crate::calendar::{CalendarPanel, CalendarView};
use crate::state::{Load, WidgetState};
use crate::steps::{BackButton, Choice, ChoiceList, CourseLead};

/// The timeslot calendar and the chosen day's times.
#[component]
pub fn TimeslotStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let now = state.now_utc();
    let calendar = CalendarView::new(
        move |wanted| {
            state.slots.with(|slots| match slots {
                Load::Ready(index) => index.month_wanted(wanted, now),
                _ => None,
            })
        },
        move |shown| {
            state.slots.with(|slots| match slots {
                Load::Ready(index) => Some(index.month_grid(shown, now)),
                _ => None,
            })
        },
    );
    let progress = Memo::new(move |_| state.slots.with(Load::progress));
    let retry = Callback::new(move |()| state.dispatch(Intent::RetryDates));
    view! {
        <CourseLead/>
        <CalendarPanel
            calendar=calendar
            progress=progress
            loading="Loading times"
            empty="There are no free times for this course at the moment. Choose another course, or try again later."
            retry=retry
        >
            <DayTimes now=now selected=calendar.selected/>
        </CalendarPanel>
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
    let meta = time.details();
    Choice {
        hidden: Some(date_label.to_owned()),
        title: time.label,
        meta,
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
