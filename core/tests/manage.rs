//! The candidate's booking page as `booking-core` decides it: reading the
//! booking, refusing a link, a cancel asked, confirmed once and answered,
//! and the words the page shows.

mod common;

use booking_core::api::{BookingStatus, PayOption, PayStatus};
use booking_core::flow::Booked;
use booking_core::manage::{
    cancel_words, page_facts, BookingPage, PageCommand, PageIntent, PageView,
};
use booking_core::widget_api::{CancelOffer, CancelState, ManagedBooking};
use common::booking;

fn page(
    status: BookingStatus,
    pay_status: PayStatus,
    cancel: CancelState,
) -> ManagedBooking<Booked> {
    ManagedBooking {
        booking: Booked::Practical(booking(status, pay_status, PayOption::Credits, None)),
        cancel: CancelOffer {
            state: cancel,
            until: matches!(cancel, CancelState::Open | CancelState::Closed)
                .then(|| "2026-08-04T09:00:00Z".to_owned()),
        },
        agency_email: Some("bookings@carestaff.example".to_owned()),
    }
}

fn open_page() -> ManagedBooking<Booked> {
    page(
        BookingStatus::Booked,
        PayStatus::Completed,
        CancelState::Open,
    )
}

fn shown(booking_page: &BookingPage) -> &ManagedBooking<Booked> {
    match &booking_page.view {
        PageView::Shown(page) => page,
        other => panic!("the booking is not shown: {other:?}"),
    }
}

#[test]
fn a_cancel_is_asked_confirmed_and_sent_once() {
    let (mut booking_page, command) = BookingPage::open();
    assert_eq!(command, PageCommand::Read);
    assert_eq!(booking_page.view, PageView::Loading);
    booking_page.read(Ok(open_page()));
    assert_eq!(shown(&booking_page).cancel.state, CancelState::Open);

    assert_eq!(
        booking_page.apply(PageIntent::ConfirmCancel),
        None,
        "not asked yet"
    );
    assert_eq!(booking_page.apply(PageIntent::AskToCancel), None);
    assert!(booking_page.confirming);
    assert_eq!(booking_page.apply(PageIntent::KeepBooking), None);
    assert!(!booking_page.confirming);
    booking_page.apply(PageIntent::AskToCancel);
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmCancel),
        Some(PageCommand::Cancel)
    );
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmCancel),
        None,
        "a second click sends nothing"
    );

    booking_page.cancelled(Ok(page(
        BookingStatus::Cancelled,
        PayStatus::Refunded,
        CancelState::Done,
    )));
    assert!(!booking_page.cancelling && !booking_page.confirming);
    assert_eq!(
        shown(&booking_page).booking.booking_status(),
        &BookingStatus::Cancelled
    );
    assert_eq!(
        booking_page.announcement,
        Some("Your booking is cancelled.")
    );
    assert_eq!(booking_page.apply(PageIntent::AskToCancel), None);
    assert!(
        !booking_page.confirming,
        "a cancelled booking offers no cancel"
    );
}

#[test]
fn a_booking_whose_cancel_is_not_open_cannot_be_asked_to_cancel() {
    for state in [
        CancelState::Closed,
        CancelState::ByAgency,
        CancelState::Done,
    ] {
        let (mut booking_page, _) = BookingPage::open();
        booking_page.read(Ok(page(BookingStatus::Booked, PayStatus::Completed, state)));
        assert_eq!(booking_page.apply(PageIntent::AskToCancel), None);
        assert!(!booking_page.confirming, "{state:?}");
        assert_eq!(
            booking_page.apply(PageIntent::ConfirmCancel),
            None,
            "{state:?}"
        );
    }
}

#[test]
fn a_failed_cancel_keeps_the_booking_shown_with_the_reason() {
    let (mut booking_page, _) = BookingPage::open();
    booking_page.read(Ok(open_page()));
    booking_page.apply(PageIntent::AskToCancel);
    booking_page.apply(PageIntent::ConfirmCancel);
    booking_page.cancelled(Err((
        None,
        "We could not reach the booking service.".to_owned(),
    )));
    assert_eq!(
        booking_page.problem.as_deref(),
        Some("We could not reach the booking service.")
    );
    assert_eq!(shown(&booking_page), &open_page());
    assert!(booking_page.confirming, "the candidate can confirm again");
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmCancel),
        Some(PageCommand::Cancel)
    );
    assert_eq!(booking_page.problem, None);
}

#[test]
fn a_refused_link_shows_its_message_and_nothing_else() {
    for status in [404, 410] {
        let (mut booking_page, _) = BookingPage::open();
        booking_page.read(Err((
            Some(status),
            "This booking link has expired.".to_owned(),
        )));
        assert_eq!(
            booking_page.view,
            PageView::Refused("This booking link has expired.".to_owned())
        );
        assert_eq!(booking_page.apply(PageIntent::Retry), None);
        assert_eq!(booking_page.apply(PageIntent::AskToCancel), None);
    }
}

#[test]
fn a_read_that_failed_is_tried_again_when_asked() {
    let (mut booking_page, _) = BookingPage::open();
    booking_page.read(Err((
        Some(502),
        "The booking service is not reachable.".to_owned(),
    )));
    assert!(matches!(booking_page.view, PageView::Failed(_)));
    assert_eq!(
        booking_page.apply(PageIntent::Retry),
        Some(PageCommand::Read)
    );
    assert_eq!(booking_page.view, PageView::Loading);
}

#[test]
fn the_page_says_until_when_a_cancel_is_open_and_what_it_does_to_the_payment() {
    assert_eq!(
        cancel_words(&open_page()).unwrap(),
        "You can cancel this booking until 10:00 on Tuesday 4 August 2026. \
         The course credit used for it goes back to the agency's account."
    );
    assert_eq!(
        cancel_words(&page(
            BookingStatus::Booked,
            PayStatus::Completed,
            CancelState::Closed
        ))
        .unwrap(),
        "The time to cancel this booking online ended at 10:00 on Tuesday 4 August 2026. \
         To change it, contact the agency that booked you, at bookings@carestaff.example."
    );
    let mut by_agency = page(
        BookingStatus::Booked,
        PayStatus::Completed,
        CancelState::ByAgency,
    );
    by_agency.agency_email = None;
    assert_eq!(
        cancel_words(&by_agency).unwrap(),
        "To change or cancel this booking, contact the agency that booked you."
    );
    assert_eq!(
        cancel_words(&page(
            BookingStatus::Cancelled,
            PayStatus::Refunded,
            CancelState::Done
        )),
        None
    );
}

#[test]
fn the_page_words_the_status_and_payment() {
    let cancelled = page(
        BookingStatus::Cancelled,
        PayStatus::Refunded,
        CancelState::Done,
    );
    let facts = page_facts(&cancelled.booking);
    let status = facts.iter().find(|fact| fact.label == "Status").unwrap();
    assert_eq!(status.lines, ["Cancelled (refunded)"]);
    let course = facts.iter().find(|fact| fact.label == "Course").unwrap();
    assert!(!course.lines.is_empty());
}

#[test]
fn the_cancel_question_says_what_when_and_what_happens_to_the_payment() {
    let question = booking_core::manage::cancel_question(&open_page().booking);
    assert!(question.starts_with("Cancel your place on "), "{question}");
    assert!(question.contains("Tuesday 4 August 2026, "), "{question}");
    assert!(
        question.ends_with("? The course credit used for it goes back to the agency's account."),
        "{question}"
    );
}
