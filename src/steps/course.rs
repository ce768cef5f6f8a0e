//! Step 1: choose a course.

use booking_core::first_step::{course_meta, NO_COURSES};
use booking_core::flow::Intent;
use leptos::prelude::*;

use crate::state::{course_ref, Load, WidgetState};
use crate::steps::{Choice, ChoiceList, Problem, Skeleton};

/// The active courses, each a button with its price for this agency.
#[component]
pub fn CourseStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    view! {
        {move || match state.courses.get() {
            Load::Loading => view! { <Skeleton rows=4 label="Loading courses"/> }.into_any(),
            Load::Failed(reason) => view! {
                <Problem
                    message=reason
                    action="Try again"
                    on_action=Callback::new(move |()| state.load_courses())
                />
            }
            .into_any(),
            Load::Ready(courses) if courses.is_empty() => view! {
                <p class="hbg-empty">{NO_COURSES}</p>
            }
            .into_any(),
            Load::Ready(courses) => {
                let choices = courses
                    .into_iter()
                    .map(|course| {
                        let chosen = course_ref(&course);
                        Choice {
                            hidden: None,
                            meta: course_meta(&course),
                            title: course.name,
                            action: Some(Callback::new(move |()| {
                                state.dispatch(Intent::ChooseCourse(chosen.clone()))
                            })),
                        }
                    })
                    .collect();
                view! { <ChoiceList choices=choices/> }.into_any()
            }
        }}
    }
}
