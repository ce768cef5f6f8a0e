//! Step 6: what was booked, where and when (venue-local), the reference, the
//! status (booked, pending review or awaiting payment) and an "add to
//! calendar" file made in the browser.

use booking_core::api::BookingDetail;
use booking_core::calendar::when_label;
use booking_core::flow::{Flow, Intent, Step};
use booking_core::ics;
use leptos::prelude::*;

use crate::browser;
use crate::state::WidgetState;
use crate::steps::{summary, SummaryRow};

/// The booking's summary and what happens next.
#[component]
pub fn ConfirmationStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let booked = Memo::new(move |_| {
        state
            .flow
            .with(|flow| flow.booking().cloned().map(|detail| (flow.step(), detail)))
    });
    view! {
        {move || {
            let Some((step, detail)) = booked.get() else {
                return ().into_any();
            };
            let next = step.what_next().unwrap_or_default();
            let awaiting = step == Step::AwaitingPayment;
            let pay = match state.flow.with_untracked(Flow::payment_page) {
                Some(url) => view! {
                    <button
                        type="button"
                        class="hbg-button" part="button"
                        on:click=move |_| browser::navigate_top(&url)
                    >
                        "Pay by card"
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
                        on:click=move |_| state.refresh_booking()
                    >
                        "Check the payment"
                    </button>
                }
                .into_any()
            } else {
                ().into_any()
            };
            let rows = booking_rows(&detail);
            view! {
                <p class="hbg-lead" role="status">{next}</p>
                {summary(rows)}
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
                                &ics::booking_ics(&detail),
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

/// The booking's details, as the summary lists them.
fn booking_rows(detail: &BookingDetail) -> Vec<SummaryRow> {
    vec![
        SummaryRow {
            label: "Booking reference",
            lines: vec![detail.id.to_string()],
            reference: true,
        },
        SummaryRow::new("Course", vec![detail.course.name.clone()]),
        SummaryRow::new("When", vec![when_label(detail.start_date, detail.end_date)]),
        SummaryRow::new(
            "Where",
            vec![
                detail.location.name.clone(),
                detail.location.address.clone(),
            ],
        ),
        SummaryRow::new("Candidate", vec![detail.candidate.name.clone()]),
        SummaryRow::new("Status", vec![detail.status_label()]),
    ]
}
