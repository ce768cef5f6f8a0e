//! Step 6: what was booked, where and when (venue-local), the reference, the
//! status (booked, pending review or awaiting payment) and an "add to
//! calendar" file made in the browser.

use booking_core::api::BookingDetail;
use booking_core::calendar::when_label;
use booking_core::flow::{Intent, Step};
use booking_core::ics;
use leptos::prelude::*;

use crate::browser;
use crate::state::Booking;

/// The booking's summary and what happens next.
#[component]
pub fn ConfirmationStep() -> impl IntoView {
    let booking = expect_context::<Booking>();
    let state = Memo::new(move |_| {
        booking
            .flow
            .with(|flow| flow.booking().cloned().map(|detail| (flow.step(), detail)))
    });
    move || {
        state.get().map(|(step, detail)| {
            let next = match step {
                Step::Confirmed => "Your place is booked. A confirmation email is on its way.",
                Step::PendingReview => {
                    "Your booking has been received. The training provider reviews bookings for this course before confirming them; you will hear by email."
                }
                _ => "Your seat is reserved while you pay. Once the payment is complete, your place is confirmed by email.",
            };
            let awaiting = step == Step::AwaitingPayment;
            let pay_url = detail
                .payment_url
                .as_deref()
                .and_then(|url| booking.flow.with_untracked(|flow| flow.policy().check(url).ok()));
            view! {
                <p class="hbg-lead" role="status">{next}</p>
                <BookingSummary detail=detail.clone()/>
                <div class="hbg-actions">
                    {awaiting
                        .then(|| {
                            pay_url.map(|url| {
                                view! {
                                    <button
                                        type="button"
                                        class="hbg-button"
                                        part="button"
                                        on:click=move |_| browser::navigate_top(&url)
                                    >
                                        "Pay by card"
                                    </button>
                                }
                            })
                        })}
                    {awaiting
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="hbg-button hbg-button-secondary"
                                    part="button"
                                    on:click=move |_| booking.refresh_booking()
                                >
                                    "Check the payment"
                                </button>
                            }
                        })}
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        on:click={
                            let detail = detail.clone();
                            move |_| {
                                browser::download(
                                    &ics::file_name(&detail),
                                    "text/calendar",
                                    &ics::booking_ics(&detail),
                                )
                            }
                        }
                    >
                        "Add to calendar"
                    </button>
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        on:click=move |_| booking.dispatch(Intent::StartOver)
                    >
                        "Book another place"
                    </button>
                </div>
            }
        })
    }
}

/// The booking's details as a description list.
#[component]
fn BookingSummary(detail: BookingDetail) -> impl IntoView {
    let when = when_label(detail.start_date, detail.end_date);
    let status = status_text(&detail);
    view! {
        <dl class="hbg-summary" part="summary">
            <div><dt>"Booking reference"</dt><dd class="hbg-reference">{detail.id}</dd></div>
            <div><dt>"Course"</dt><dd>{detail.course.name}</dd></div>
            <div><dt>"When"</dt><dd>{when}</dd></div>
            <div><dt>"Where"</dt><dd>{detail.location.name}<br/>{detail.location.address}</dd></div>
            <div><dt>"Candidate"</dt><dd>{detail.candidate.name}</dd></div>
            <div><dt>"Status"</dt><dd>{status}</dd></div>
        </dl>
    }
}

fn status_text(detail: &BookingDetail) -> String {
    format!(
        "{} (payment {})",
        detail.booking_status.as_str().replace('_', " "),
        detail.pay_status.as_str().replace('_', " ")
    )
}
