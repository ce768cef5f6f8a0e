//! The candidate's booking page as `booking-core` decides it: reading the
//! booking, refusing a link, a cancel asked, confirmed once and answered,
//! another date chosen, confirmed once and answered, and the words the
//! page shows.

mod common;

use booking_core::api::TrainingEvent;
use booking_core::api::{BookingStatus, PayOption, PayStatus};
use booking_core::flow::Booked;
use booking_core::manage::{
    another_date_offered, cancel_words, move_question, other_dates, page_facts, BookingPage,
    OtherDates, PageCommand, PageIntent, PageView,
};
use booking_core::widget_api::{CancelOffer, CancelState, ManagedBooking, MovedBooking};
use chrono::{DateTime, Duration, Utc};
use common::{booking, event_for, COURSE_ID};

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

/// An event of the booking's course (or `course_id`'s) `days` after the
/// booking's own, at its venue, with `seats` left.
fn later_event(id: u64, course_id: u64, days: i64, seats: u32) -> TrainingEvent {
    let mut event = event_for(id, course_id, seats);
    event.start_date += Duration::days(days);
    event.end_date += Duration::days(days);
    event
}

fn before_the_booking() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-21T09:00:00Z")
        .unwrap()
        .to_utc()
}

#[test]
fn another_date_is_offered_while_a_cancel_is_open_and_not_to_a_card_payer() {
    let open = CancelOffer {
        state: CancelState::Open,
        until: None,
    };
    for pay_option in [PayOption::Credits, PayOption::Balance, PayOption::Inv] {
        assert!(another_date_offered(&open, &pay_option), "{pay_option:?}");
    }
    assert!(!another_date_offered(&open, &PayOption::CandidatePays));
    for state in [
        CancelState::Closed,
        CancelState::Done,
        CancelState::ByAgency,
    ] {
        let offer = CancelOffer::without_deadline(state);
        assert!(
            !another_date_offered(&offer, &PayOption::Credits),
            "{state:?}"
        );
    }
}

#[test]
fn the_other_dates_are_the_courses_later_events_with_a_seat_soonest_first() {
    let own = booking(
        BookingStatus::Booked,
        PayStatus::Completed,
        PayOption::Credits,
        None,
    );
    let events = vec![
        later_event(60, COURSE_ID, 14, 3),
        later_event(41, COURSE_ID, 0, 5),
        later_event(50, COURSE_ID, 7, 1),
        later_event(51, COURSE_ID, 8, 0),
        later_event(52, COURSE_ID + 1, 9, 4),
        later_event(53, COURSE_ID, -30, 4),
    ];
    let offered: Vec<u64> = other_dates(&own, events, before_the_booking())
        .iter()
        .map(|event| event.id)
        .collect();
    assert_eq!(
        offered,
        [50, 60],
        "not its own, a full one, another course's or a past one"
    );
}

#[test]
fn another_date_is_chosen_confirmed_and_sent_once_then_the_new_booking_is_shown() {
    let (mut booking_page, _) = BookingPage::open();
    booking_page.read(Ok(open_page()));
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmMove),
        None,
        "nothing chosen"
    );
    assert_eq!(
        booking_page.apply(PageIntent::AskForAnotherDate),
        Some(PageCommand::LoadDates)
    );
    let later = later_event(50, COURSE_ID, 7, 2);
    booking_page.dates(Ok(vec![later.clone()]));
    assert_eq!(
        booking_page.apply(PageIntent::ChooseDate(999)),
        None,
        "a date not offered"
    );
    assert_eq!(booking_page.apply(PageIntent::ConfirmMove), None);
    booking_page.apply(PageIntent::ChooseDate(50));
    booking_page.apply(PageIntent::BackToDates);
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmMove),
        None,
        "back to the dates: nothing chosen"
    );
    booking_page.apply(PageIntent::ChooseDate(50));
    let question = move_question(&shown(&booking_page).booking, &later);
    assert!(
        question.starts_with(
            "Move your place to Tuesday 11 August 2026, 09:30 to 16:30 BST at Venue 5?"
        ) && question.contains("only then is your place on Tuesday 4 August 2026")
            && question.ends_with("so the agency's credits are unchanged."),
        "{question}"
    );
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmMove),
        Some(PageCommand::Move(50))
    );
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmMove),
        None,
        "a second click sends nothing"
    );
    assert_eq!(booking_page.apply(PageIntent::KeepDate), None);
    assert!(
        booking_page.another_date.is_some(),
        "a move on its way cannot be dismissed"
    );

    let mut new_booking = open_page();
    if let Booked::Practical(detail) = &mut new_booking.booking {
        detail.id = 9002;
        detail.start_date = later.start_date;
        detail.end_date = later.end_date;
    }
    booking_page.moved(Ok(MovedBooking {
        page: new_booking,
        manage_link: "pt.9002.1.2.NEW".to_owned(),
        old_booking_kept: None,
    }));
    assert_eq!(shown(&booking_page).booking.id(), 9002);
    assert_eq!(booking_page.link("pt.9001.1.2.OLD"), "pt.9002.1.2.NEW");
    assert_eq!(booking_page.another_date, None);
    assert_eq!(
        booking_page.announcement,
        Some("Your booking is moved to the new date.")
    );
}

#[test]
fn a_failed_move_keeps_the_booking_and_the_choice_with_the_reason() {
    let (mut booking_page, _) = BookingPage::open();
    booking_page.read(Ok(open_page()));
    booking_page.apply(PageIntent::AskForAnotherDate);
    booking_page.dates(Err((
        None,
        "We could not reach the booking service.".into(),
    )));
    assert!(matches!(
        booking_page
            .another_date
            .as_ref()
            .map(|choice| &choice.dates),
        Some(OtherDates::Failed(_))
    ));
    assert_eq!(
        booking_page.apply(PageIntent::RetryDates),
        Some(PageCommand::LoadDates)
    );
    booking_page.dates(Ok(vec![later_event(50, COURSE_ID, 7, 2)]));
    booking_page.apply(PageIntent::ChooseDate(50));
    booking_page.apply(PageIntent::ConfirmMove);
    booking_page.moved(Err((Some(409), "That seat has just been taken.".into())));
    assert_eq!(shown(&booking_page).booking.id(), 9001);
    assert_eq!(booking_page.link("pt.9001.1.2.OLD"), "pt.9001.1.2.OLD");
    let choice = booking_page.another_date.as_ref().unwrap();
    assert_eq!(
        choice.problem.as_deref(),
        Some("That seat has just been taken.")
    );
    assert!(!choice.moving);
    assert_eq!(
        booking_page.apply(PageIntent::ConfirmMove),
        Some(PageCommand::Move(50)),
        "tried again"
    );
}

#[test]
fn another_date_cannot_be_asked_for_a_booking_that_cannot_move() {
    for (state, pay_option) in [
        (CancelState::Closed, PayOption::Credits),
        (CancelState::ByAgency, PayOption::Credits),
        (CancelState::Open, PayOption::CandidatePays),
    ] {
        let (mut booking_page, _) = BookingPage::open();
        let mut shown_page = page(BookingStatus::Booked, PayStatus::Completed, state);
        if let Booked::Practical(detail) = &mut shown_page.booking {
            detail.pay_option = pay_option.clone();
        }
        booking_page.read(Ok(shown_page));
        assert_eq!(
            booking_page.apply(PageIntent::AskForAnotherDate),
            None,
            "{state:?} {pay_option:?}"
        );
    }
}
