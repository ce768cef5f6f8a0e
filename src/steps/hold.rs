//! The hold banner: visible from the moment a seat is held, counting down
//! (updated each second, never announced each tick), with "Keep my seat" in
//! the final minute (WCAG 2.2.1). Threshold announcements go to the
//! widget's `aria-live` region through the flow's `Announce` command.

use booking_core::flow::Intent;
use leptos::prelude::*;

use crate::browser;
use crate::state::WidgetState;

/// The countdown banner, shown while a seat is held.
#[component]
pub fn HoldBanner() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let countdown = Memo::new(move |_| {
        state
            .flow
            .with(|flow| flow.hold().map(|hold| hold.countdown))
    });
    view! {
        {move || {
            let Some(countdown) = countdown.get() else {
                return ().into_any();
            };
            view! {
                <div
                    class="hbg-hold"
                    class:hbg-hold-ending=move || countdown.can_extend(state.now_ms.get())
                >
                    <p class="hbg-hold-text">
                        {move || countdown.visible_text(state.now_ms.get())}
                    </p>
                    {move || {
                        if !countdown.can_extend(state.now_ms.get()) {
                            return ().into_any();
                        }
                        view! {
                            <button
                                type="button"
                                class="hbg-button hbg-button-small" part="button"
                                on:click=move |_| {
                                    state.dispatch(Intent::KeepMySeat {
                                        now_ms: browser::monotonic_ms(),
                                    })
                                }
                            >
                                "Keep my seat"
                            </button>
                        }
                        .into_any()
                    }}
                </div>
            }
            .into_any()
        }}
    }
}
