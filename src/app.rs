//! The widget's root component: the shell every step shares (progress,
//! heading, hold banner, live region, offline banner) and the step itself.

use std::rc::Rc;
use std::time::Duration;

use booking_core::first_step::progress_text;
use booking_core::flow::{Flow, Intent, Step};
use booking_core::product::Product;
use booking_core::widget_api::QueuePlace;
use leptos::ev;
use leptos::html::H2;
use leptos::prelude::*;

use crate::api::BookingApi;
use crate::config::WidgetConfig;
use crate::host::Host;
use crate::state::{effect, Load, WidgetState};
use crate::steps;

/// The booking widget.
#[component]
pub fn App(config: WidgetConfig, api: Rc<dyn BookingApi>, host: Host) -> impl IntoView {
    let state = WidgetState::start(config, api, host);
    provide_context(state);
    keep_time(state);
    watch_page(state);

    let step = state.step;
    let heading = NodeRef::<H2>::new();
    effect(move || {
        step.track();
        state.product.track();
        if state.focus_heading.get_untracked() {
            state.focus_heading.set(false);
            request_animation_frame(move || {
                if let Some(heading) = heading.try_get_untracked().flatten() {
                    let _ = heading.focus();
                }
            });
        }
    });

    view! {
        <section class="hbg" aria-labelledby="hbg-step-heading">
            <p class="hbg-offline" role="status" hidden=move || state.online.get()>
                "You are offline. What you have entered is kept; we will carry on when you are back online."
            </p>
            <p class="hbg-progress">
                {move || {
                    let product = state.product.get()?;
                    step.get()
                        .progress_of(product)
                        .map(|(n, of)| progress_text(n, of))
                }}
            </p>
            <h2 id="hbg-step-heading" class="hbg-heading" part="heading" tabindex="-1" node_ref=heading>
                {move || {
                    if state.product.with(Option::is_none) {
                        steps::product::HEADING.to_owned()
                    } else if state.options.with(|options| matches!(options, Load::Failed(_))) {
                        Step::Failed.heading().to_owned()
                    } else {
                        step.get().heading().to_owned()
                    }
                }}
            </h2>
            <steps::hold::HoldBanner/>
            {move || {
                state.queue_wait.get().map(|seconds| view! {
                    <p class="hbg-queue">
                        {QueuePlace::wait_text(seconds)}
                    </p>
                })
            }}
            <div class="hbg-visually-hidden" aria-live="polite" aria-atomic="true">
                {move || state.announcement.get()}
            </div>
            {move || match (state.product.get(), state.options.get()) {
                (None, _) => view! { <steps::product::ProductStep/> }.into_any(),
                (_, Load::Failed(reason)) => view! {
                    <steps::Problem
                        message=reason
                        action="Try again"
                        on_action=Callback::new(move |()| state.load_options())
                    />
                }
                .into_any(),
                (Some(product), _) => step_view(step.get(), product),
            }}
        </section>
    }
}

fn step_view(step: Step, product: Product) -> AnyView {
    match step {
        Step::ChooseCourse => view! { <steps::course::CourseStep/> }.into_any(),
        Step::ChooseLocation => view! { <steps::location::LocationStep/> }.into_any(),
        Step::ChooseEvent if product == Product::VirtualBls => {
            view! { <steps::timeslot::TimeslotStep/> }.into_any()
        }
        Step::ChooseEvent => view! { <steps::event::EventStep/> }.into_any(),
        Step::Holding => view! { <steps::Waiting text="Holding a seat for you…"/> }.into_any(),
        Step::Details => view! { <steps::details::DetailsStep/> }.into_any(),
        Step::Payment | Step::Submitting => view! { <steps::payment::PaymentStep/> }.into_any(),
        Step::Confirmed | Step::PendingReview | Step::AwaitingPayment => {
            view! { <steps::confirmation::ConfirmationStep/> }.into_any()
        }
        Step::HoldExpired | Step::HoldConflict | Step::WaitingForSeat | Step::Failed => {
            view! { <steps::trouble::TroubleStep/> }.into_any()
        }
    }
}

/// Ticks the monotonic clock every second while the flow needs it (a seat
/// is held or waited for), so the countdowns run and the flow can warn,
/// expire the hold, or hold the seat it waited for.
fn keep_time(state: WidgetState) {
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if !state.flow.with_untracked(Flow::needs_ticks) {
                return;
            }
            let prev_ms = state.now_ms.get_untracked();
            let now_ms = crate::browser::monotonic_ms();
            state.now_ms.set(now_ms);
            state.dispatch(Intent::Tick { prev_ms, now_ms });
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
fn watch_page(state: WidgetState) {
    let online = window_event_listener(ev::online, move |_| state.online.set(true));
    let offline = window_event_listener(ev::offline, move |_| state.online.set(false));
    let hide = window_event_listener(ev::pagehide, move |_| state.leave_page());
    let show = window_event_listener(ev::pageshow, move |event| {
        if event.persisted() && state.flow.with_untracked(|flow| flow.hold().is_some()) {
            state.dispatch(Intent::HoldExpired);
        }
    });
    on_cleanup(move || {
        online.remove();
        offline.remove();
        hide.remove();
        show.remove();
        state.release_on_exit();
    });
}
