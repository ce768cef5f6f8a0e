//! Step 1: choose a course.

use booking_core::flow::Intent;
use leptos::prelude::*;

use crate::state::{course_ref, Booking, Load};
use crate::steps::{Problem, Skeleton};

/// The active courses, each a button with its price for this agency.
#[component]
pub fn CourseStep() -> impl IntoView {
    let booking = expect_context::<Booking>();
    move || {
        match booking.courses.get() {
        Load::Loading => view! { <Skeleton rows=4 label="Loading courses"/> }.into_any(),
        Load::Failed(error) => view! {
            <Problem
                message=error.message()
                action="Try again"
                on_action=Callback::new(move |()| booking.load_courses())
            />
        }
        .into_any(),
        Load::Ready(courses) if courses.is_empty() => view! {
            <p class="hbg-empty">"No courses are open for booking at the moment."</p>
        }
        .into_any(),
        Load::Ready(courses) => view! {
            <ul class="hbg-choices">
                {courses
                    .into_iter()
                    .map(|course| {
                        let chosen = course_ref(&course);
                        let price = course.cost_inc_vat.map(|cost| format!("{cost} per place"));
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="hbg-choice"
                                    part="choice"
                                    on:click=move |_| booking.dispatch(Intent::ChooseCourse(chosen.clone()))
                                >
                                    <span class="hbg-choice-title">{course.name}</span>
                                    {price.map(|price| view! { <span class="hbg-choice-meta">{price}</span> })}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
    }
}
