//! The widget's root component: the shell every step shares (progress,
//! heading, hold banner, live region, offline banner) and the step itself.

use std::rc::Rc;
use std::time::Duration;

use booking_core::flow::{Intent, Step, PROGRESS_STEPS};
use leptos::ev;
use leptos::html::H2;
use leptos::prelude::*;

use crate::api::BookingApi;
use crate::config::WidgetConfig;
use crate::host::Host;
use crate::state::{effect, Booking, Load};
use crate::steps;

/// The booking widget.
#[component]
pub fn App(config: WidgetConfig, api: Rc<dyn BookingApi>, host: Host) -> impl IntoView {
    let booking = Booking::start(config, api, host);
    provide_context(booking);
    keep_time(booking);
    watch_page(booking);
    load_events_for_the_chosen_course(booking);

    let step = booking.step;
    let heading = NodeRef::<H2>::new();
    effect(move || {
        step.track();
        if booking.focus_heading.get_untracked() {
            booking.focus_heading.set(false);
            request_animation_frame(move || {
                if let Some(heading) = heading.try_get_untracked().flatten() {
                    let _ = heading.focus();
                }
            });
        }
    });

    view! {
        <section class="hbg" aria-labelledby="hbg-step-heading">
            <p class="hbg-offline" role="status" hidden=move || booking.online.get()>
                "You are offline. What you have entered is kept; we will carry on when you are back online."
            </p>
            <p class="hbg-progress">
                {move || {
                    step.get()
                        .progress()
                        .map(|n| format!("Step {n} of {PROGRESS_STEPS}"))
                        .unwrap_or_default()
                }}
            </p>
            <h2 id="hbg-step-heading" class="hbg-heading" part="heading" tabindex="-1" node_ref=heading>
                {move || {
                    if booking.options.with(|options| matches!(options, Load::Failed(_))) {
                        Step::Failed.heading().to_owned()
                    } else {
                        step.get().heading().to_owned()
                    }
                }}
            </h2>
            <steps::hold::HoldBanner/>
            <div class="hbg-visually-hidden" aria-live="polite" aria-atomic="true">
                {move || booking.announcement.get()}
            </div>
            {move || match booking.options.get() {
                Load::Failed(error) => view! {
                    <steps::Problem
                        message=error.message()
                        action="Try again"
                        on_action=Callback::new(move |()| booking.load_options())
                    />
                }
                .into_any(),
                _ => step_view(step.get()),
            }}
        </section>
    }
}

fn step_view(step: Step) -> AnyView {
    match step {
        Step::ChooseCourse => view! { <steps::course::CourseStep/> }.into_any(),
        Step::ChooseLocation => view! { <steps::location::LocationStep/> }.into_any(),
        Step::ChooseEvent => view! { <steps::event::EventStep/> }.into_any(),
        Step::Holding => view! { <steps::Waiting text="Holding a seat for you…"/> }.into_any(),
        Step::Details => view! { <steps::details::DetailsStep/> }.into_any(),
        Step::Payment | Step::Submitting => view! { <steps::payment::PaymentStep/> }.into_any(),
        Step::Confirmed | Step::PendingReview | Step::AwaitingPayment => {
            view! { <steps::confirmation::ConfirmationStep/> }.into_any()
        }
        Step::HoldExpired | Step::HoldConflict | Step::Failed => {
            view! { <steps::trouble::TroubleStep/> }.into_any()
        }
    }
}

/// Ticks the monotonic clock every second while a seat is held, so the
/// banner counts down and the flow can warn and expire the hold.
fn keep_time(booking: Booking) {
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if booking.flow.with_untracked(|flow| flow.hold().is_none()) {
                return;
            }
            let prev_ms = booking.now_ms.get_untracked();
            let now_ms = crate::browser::monotonic_ms();
            booking.now_ms.set(now_ms);
            booking.dispatch(Intent::Tick { prev_ms, now_ms });
        },
        Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
}

/// Offline banner, and releasing the hold when the page goes away or the
/// widget is unmounted (removed from the page, or remounted by `widget.js`
/// with new settings). A page restored from the back-forward cache has lost
/// its hold, so the flow is told it expired (everything typed is kept; one
/// button holds again).
fn watch_page(booking: Booking) {
    let online = window_event_listener(ev::online, move |_| booking.online.set(true));
    let offline = window_event_listener(ev::offline, move |_| booking.online.set(false));
    let hide = window_event_listener(ev::pagehide, move |_| booking.release_on_exit());
    let show = window_event_listener(ev::pageshow, move |event| {
        if event.persisted() && booking.flow.with_untracked(|flow| flow.hold().is_some()) {
            booking.dispatch(Intent::HoldExpired);
        }
    });
    on_cleanup(move || {
        online.remove();
        offline.remove();
        hide.remove();
        show.remove();
        booking.release_on_exit();
    });
}

/// Fetches the events once each time the chosen course changes.
fn load_events_for_the_chosen_course(booking: Booking) {
    Effect::new(move |loaded: Option<Option<u64>>| {
        let course_id = booking.flow.with(|flow| flow.course().map(|c| c.id));
        if let Some(id) = course_id.filter(|id| loaded.flatten() != Some(*id)) {
            booking.load_events(id);
        }
        course_id
    });
}
