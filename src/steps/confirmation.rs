//! The last step: what was booked, where and when (venue-local), the
//! reference, the status (booked, pending review or awaiting payment) and an
//! "add to calendar" file made in the browser (linking to the booking's own
//! page, as the confirmation does); for Virtual BLS, the Zoom
//! session (the calendar entry's location is its link) and the kit's note.

use booking_core::flow::{Flow, Intent, Step};
use booking_core::ics;
use leptos::prelude::*;

use crate::browser;
use crate::state::WidgetState;
use crate::steps::summary;

/// The booking's summary and what happens next.
#[component]
pub fn ConfirmationStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let booked = Memo::new(move |_| {
        state.flow.with(|flow| {
            flow.booked().cloned().map(|detail| {
                (
                    flow.step(),
                    flow.what_next(),
                    detail,
                    flow.manage_url().map(str::to_owned),
                )
            })
        })
    });
    view! {
        {move || {
            let Some((step, next, detail, manage_url)) = booked.get() else {
                return ().into_any();
            };
            let next = next.unwrap_or_default();
            let awaiting = step == Step::AwaitingPayment;
            let pay_action = detail.payment_action();
            let pay = match state.flow.with_untracked(Flow::payment_page) {
                Some(url) => view! {
                    <button
                        type="button"
                        class="hbg-button" part="button"
                        on:click=move |_| browser::navigate_top(&url)
                    >
                        {pay_action}
                    </button>
                }
                .into_any(),
                None => ().into_any(),
            };
            let check = if awaiting {
                view! {
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary" part="button"
                        on:click=move |_| state.dispatch(Intent::CheckBooking)
                    >
                        "Check the payment"
                    </button>
                }
                .into_any()
            } else {
                ().into_any()
            };
            let keep_link = match manage_url.clone() {
                Some(url) => view! {
                    <p class="hbg-keep-link">
                        "Keep this link to see or change your booking: "
                        <a href=url.clone() part="link">{url.clone()}</a>
                    </p>
                }
                .into_any(),
                None => ().into_any(),
            };
            view! {
                <p class="hbg-lead" role="status">{next}</p>
                {summary(detail.summary())}
                {keep_link}
                <div class="hbg-actions">
                    {pay}
                    {check}
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary" part="button"
                        on:click=move |_| {
                            browser::download(
                                &ics::file_name(&detail),
                                "text/calendar",
                                &ics::booking_ics(&detail, manage_url.as_deref()),
                            )
                        }
                    >
                        "Add to calendar"
                    </button>
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        on:click=move |_| state.dispatch(Intent::StartOver)
                    >
                        "Book another place"
                    </button>
                </div>
            }
            .into_any()
        }}
    }
}
