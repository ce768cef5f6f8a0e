//! The booking flow for Virtual BLS: the same flow as Practical Training
//! (hold, countdown, form, pay options, submitting, the payment redirect),
//! with a timeslot chosen straight after the course, the kit's address asked
//! for and checked, and host events that name the product and the slot's
//! date and time instead of an event.

mod common;

use booking_core::api::bls::{HeldSlot, Timeslot, TimeslotHold, VirtualBooking};
use booking_core::api::{BookingStatus, CourseRef, Money, PayOption, PayStatus};
use booking_core::flow::{Command, Dates, Flow, HostEvent, Intent, Outcome, Place, Refusal, Step};
use booking_core::product::Product;
use booking_core::redirect::PaymentRedirectPolicy;
use booking_core::validation::{CandidateForm, FormField};
use booking_core::widget_api::HeldTimeslot;
use chrono::DateTime;
use common::{event, submit, tags};

const PAYPAL_URL: &str = "https://www.paypal.com/checkoutnow?token=EC-7AB12345";

fn bls_course() -> CourseRef {
    CourseRef {
        id: 41,
        name: "BLS Annual Update (Virtual)".into(),
    }
}

fn slot(date: &str, time: &str) -> Timeslot {
    let start = DateTime::parse_from_rfc3339(&format!("{date}T{time}:00+01:00")).unwrap();
    Timeslot {
        date: date.into(),
        time: time.into(),
        course: bls_course(),
        start_date: Some(start),
        end_date: Some(start + chrono::Duration::minutes(60)),
        remaining_slots: Some(2),
        cost_inc_vat: Some(Money(5500)),
    }
}

fn slot_place(date: &str, time: &str) -> Place {
    Place::Slot {
        course_id: 41,
        date: date.into(),
        time: time.into(),
    }
}

fn granted_slot(date: &str, time: &str, hold_ref: &str) -> Outcome {
    Outcome::HoldGranted {
        hold: HeldTimeslot {
            hold_ref: hold_ref.into(),
            hold: TimeslotHold {
                hold_hash: "Hn4Rk8Wq2Zx6Lp0Tv5Ys9Bc3Dm7Fg1Ja".into(),
                expires_at: DateTime::parse_from_rfc3339("2026-08-28T11:05:00+00:00").unwrap(),
                expires_in_seconds: 1800,
                slot: HeldSlot {
                    date: date.into(),
                    time: time.into(),
                    course: bls_course(),
                },
            },
        }
        .into(),
        received_at_ms: 0.0,
    }
}

fn virtual_booking(
    status: &str,
    pay_status: &str,
    pay_option: &str,
    url: Option<&str>,
) -> VirtualBooking {
    let mut body = serde_json::json!({
        "id": 7731,
        "candidate": { "name": "Owen Hughes", "email": "owen.hughes@carestaff.example" },
        "course": { "id": 41, "name": "BLS Annual Update (Virtual)" },
        "start_date": "2026-09-02T14:00:00+01:00", "end_date": "2026-09-02T15:00:00+01:00",
        "booking_status": status, "pay_status": pay_status, "pay_option": pay_option,
        "virtual": { "zoom_id": "845 112 9034", "zoom_link": "https://zoom.us/j/8451129034",
                     "zoom_password": "k7Tq2w" },
        "training_status": "scheduled", "equipment_status": "pending",
        "created_at": "2026-08-28T10:41:12+00:00"
    });
    if let Some(url) = url {
        body["payment_url"] = serde_json::json!(url);
    }
    serde_json::from_value(body).unwrap()
}

fn kit_form(postcode: &str) -> CandidateForm {
    CandidateForm {
        first_name: "Owen".into(),
        last_name: "Hughes".into(),
        email: "owen.hughes@carestaff.example".into(),
        phone: "07700 900456".into(),
        address: "4 Mill Lane".into(),
        city: "Leeds".into(),
        postcode: postcode.into(),
        ..CandidateForm::default()
    }
}

fn emitted(commands: &[Command]) -> Vec<HostEvent> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Emit(event) => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// A Virtual BLS flow with the slot of 2 September at 14:00 held.
fn holding_a_slot(policy: PaymentRedirectPolicy) -> Flow {
    let start = Flow::start_for(policy, Product::VirtualBls);
    assert_eq!(
        emitted(&start.commands),
        [HostEvent::Ready {
            product: Product::VirtualBls
        }]
    );
    let chosen = start.flow.apply(Intent::ChooseCourse(bls_course()));
    assert_eq!(
        chosen.flow.step(),
        Step::ChooseEvent,
        "no location to choose"
    );
    let flow = chosen.flow;
    let picked = flow.apply(Intent::ChooseTimeslot(slot("2026-09-02", "14:00")));
    assert_eq!(picked.flow.step(), Step::Holding);
    assert_eq!(
        tags(&picked.commands),
        ["hbg:event-chosen", "hold 41 2026-09-02 14:00"]
    );
    let held = picked
        .flow
        .apply(granted_slot("2026-09-02", "14:00", "S-1"));
    assert_eq!(held.flow.step(), Step::Details);
    assert_eq!(
        held.flow.hold().unwrap().place,
        slot_place("2026-09-02", "14:00")
    );
    let created = emitted(&held.commands);
    assert_eq!(
        created[0].detail_json(),
        r#"{"product":"virtual-bls","course_id":41,"date":"2026-09-02","time":"14:00","hold_expires_at":"2026-08-28T11:05:00+00:00","expires_in_seconds":1800}"#
    );
    held.flow
}

#[test]
fn a_virtual_bls_booking_by_invoice_from_timeslot_to_zoom_details() {
    let flow = holding_a_slot(PaymentRedirectPolicy::default());
    assert_eq!(flow.timeslot().map(|s| s.time.as_str()), Some("14:00"));
    assert!(flow.event().is_none());
    // The kit's address is asked for and checked in the details step.
    let flow = flow.apply(Intent::EditForm(kit_form("LS1"))).flow;
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    assert_eq!(flow.step(), Step::Details);
    assert_eq!(
        flow.errors().get(FormField::Postcode),
        Some("Enter a real UK postcode, like LS1 4AP")
    );
    let flow = flow.apply(Intent::EditForm(kit_form("ls14ap"))).flow;
    assert_eq!(flow.errors().get(FormField::Postcode), None, "corrected");
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    assert_eq!(flow.step(), Step::Payment);
    let offers = flow.pay_option_offers(&[PayOption::Inv, PayOption::CandidatePays]);
    assert_eq!(offers[0].label, "Invoice the agency");
    let flow = flow.apply(Intent::ChoosePayOption(PayOption::Inv)).flow;
    let sent = flow.apply(submit("K1"));
    assert_eq!(sent.flow.step(), Step::Submitting);
    let request = sent
        .commands
        .iter()
        .find_map(|command| match command {
            Command::CreateBooking { request, .. } => Some(request.clone()),
            _ => None,
        })
        .expect("a booking request");
    assert_eq!(request.hold_ref, "S-1");
    assert_eq!(request.pay_option, PayOption::Inv);
    assert_eq!(request.job_role, None);
    let kit = request.kit.expect("the kit's address");
    assert_eq!(
        (
            kit.address.as_str(),
            kit.city.as_str(),
            kit.postcode.as_str()
        ),
        ("4 Mill Lane", "Leeds", "LS1 4AP")
    );
    assert_eq!(
        emitted(&sent.commands)[0].detail_json(),
        r#"{"product":"virtual-bls","course_id":41,"date":"2026-09-02","time":"14:00","pay_option":"inv"}"#
    );
    let done = sent.flow.apply(Outcome::BookingCreated(Box::new(
        virtual_booking("booked", "completed", "invoice", None).into(),
    )));
    assert_eq!(done.flow.step(), Step::Confirmed);
    let names: Vec<&str> = emitted(&done.commands)
        .iter()
        .map(HostEvent::name)
        .collect();
    assert_eq!(names, ["hbg:booking-created", "hbg:booking-confirmed"]);
    assert!(emitted(&done.commands)
        .iter()
        .all(|event| event.detail_json().contains(r#""product":"virtual-bls""#)));
    let booking = done
        .flow
        .virtual_booking()
        .expect("the Virtual BLS booking");
    assert_eq!(booking.session.zoom_link, "https://zoom.us/j/8451129034");
    assert!(
        done.flow.booking().is_none(),
        "no Practical Training booking"
    );
    assert_eq!(done.flow.booked().unwrap().pay_option(), &PayOption::Inv);
}

#[test]
fn a_candidate_pays_booking_goes_to_paypal_and_comes_back_paid() {
    let policy = PaymentRedirectPolicy::new(["https://www.paypal.com"]);
    let flow = holding_a_slot(policy.clone());
    let flow = flow.apply(Intent::EditForm(kit_form("LS1 4AP"))).flow;
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    let flow = flow
        .apply(Intent::ChoosePayOption(PayOption::CandidatePays))
        .flow;
    let flow = flow.apply(submit("K1")).flow;
    let pending = virtual_booking("pending", "pending", "candidate_pays", Some(PAYPAL_URL));
    let redirected = flow.apply(Outcome::BookingCreated(Box::new(pending.clone().into())));
    assert_eq!(redirected.flow.step(), Step::AwaitingPayment);
    let commands = tags(&redirected.commands);
    assert_eq!(
        commands,
        [
            "hbg:booking-created".to_owned(),
            "persist 7731".to_owned(),
            "hbg:payment-redirect".to_owned(),
            format!("redirect {PAYPAL_URL}"),
        ]
    );
    let persisted = redirected
        .commands
        .iter()
        .find_map(|command| match command {
            Command::PersistBookingInProgress(progress) => Some(progress.clone()),
            _ => None,
        });
    assert_eq!(persisted.map(|p| p.product), Some(Product::VirtualBls));
    // Back from PayPal: the booking read again is paid.
    let resumed = Flow::resume(policy.clone(), pending);
    assert_eq!(resumed.flow.step(), Step::AwaitingPayment);
    assert_eq!(resumed.flow.product(), Product::VirtualBls);
    let paid = resumed.flow.apply(Outcome::BookingStatus(Box::new(
        virtual_booking("booked", "completed", "candidate_pays", None).into(),
    )));
    assert_eq!(paid.flow.step(), Step::Confirmed);
    // A PayPal page off the allow-list is never opened.
    let stripe_only = holding_a_slot(PaymentRedirectPolicy::default());
    let flow = stripe_only
        .apply(Intent::EditForm(kit_form("LS1 4AP")))
        .flow;
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    let flow = flow
        .apply(Intent::ChoosePayOption(PayOption::CandidatePays))
        .flow;
    let flow = flow.apply(submit("K2")).flow;
    let refused = flow.apply(Outcome::BookingCreated(Box::new(
        virtual_booking("pending", "pending", "candidate_pays", Some(PAYPAL_URL)).into(),
    )));
    assert_eq!(refused.flow.step(), Step::Failed);
    assert!(!tags(&refused.commands)
        .iter()
        .any(|tag| tag.starts_with("redirect")));
}

#[test]
fn the_hold_is_the_same_code_renewal_expiry_and_going_back() {
    let flow = holding_a_slot(PaymentRedirectPolicy::default());
    // "Keep my seat" in the final minute renews the slot's hold.
    let late = 1_800_000.0 - 30_000.0;
    let kept = flow.apply(Intent::KeepMySeat { now_ms: late });
    assert_eq!(tags(&kept.commands), ["renew S-1 on 41 2026-09-02 14:00"]);
    let renewed = kept.flow.apply(granted_slot("2026-09-02", "14:00", "S-2"));
    assert_eq!(renewed.flow.step(), Step::Details);
    // The countdown's warnings and expiry name the slot.
    let expired = renewed.flow.apply(Intent::HoldExpired);
    assert_eq!(expired.flow.step(), Step::HoldExpired);
    let lapsed = emitted(&expired.commands);
    assert_eq!(
        lapsed[0].detail_json(),
        r#"{"product":"virtual-bls","course_id":41,"date":"2026-09-02","time":"14:00"}"#
    );
    let again = expired.flow.apply(Intent::HoldAgain);
    assert_eq!(tags(&again.commands), ["hold 41 2026-09-02 14:00"]);
    // A hold granted for another slot is not adopted: it is released.
    let wrong = again.flow.apply(granted_slot("2026-09-02", "15:30", "S-9"));
    assert_eq!(wrong.refused, Some(Refusal::StaleOutcome));
    assert_eq!(tags(&wrong.commands), ["release S-9"]);
    let held = again
        .flow
        .apply(granted_slot("2026-09-02", "14:00", "S-3"))
        .flow;
    // Back from the details releases the hold and returns to the calendar,
    // and back again to the course: there is no location step.
    let back = held.apply(Intent::Back);
    assert_eq!(tags(&back.commands), ["release S-3"]);
    assert_eq!(back.flow.step(), Step::ChooseEvent);
    let course = back.flow.apply(Intent::Back).flow;
    assert_eq!(course.step(), Step::ChooseCourse);
    // Starting over keeps the product.
    let over = held.apply(Intent::StartOver).flow;
    assert_eq!(over.product(), Product::VirtualBls);
    assert_eq!(over.form().product, Product::VirtualBls);
}

#[test]
fn each_product_accepts_only_its_own_choices() {
    let bls = Flow::for_product(PaymentRedirectPolicy::default(), Product::VirtualBls)
        .apply(Intent::ChooseCourse(bls_course()))
        .flow;
    let mut training_event = event(41);
    training_event.course = bls_course();
    assert_eq!(
        bls.apply(Intent::ChooseEvent(training_event)).refused,
        Some(Refusal::NotInThisStep)
    );
    assert_eq!(
        bls.apply(Intent::ChooseLocation(Some(5))).refused,
        Some(Refusal::NotInThisStep)
    );
    let mut other_course = slot("2026-09-02", "14:00");
    other_course.course.id = 42;
    assert_eq!(
        bls.apply(Intent::ChooseTimeslot(other_course)).refused,
        Some(Refusal::EventForAnotherCourse)
    );
    let mut taken = slot("2026-09-02", "14:00");
    taken.remaining_slots = Some(0);
    assert_eq!(
        bls.apply(Intent::ChooseTimeslot(taken)).refused,
        Some(Refusal::EventFull)
    );
    let practical = Flow::new(PaymentRedirectPolicy::default())
        .apply(Intent::ChooseCourse(common::course()))
        .flow
        .apply(Intent::ChooseLocation(None))
        .flow;
    assert_eq!(
        practical
            .apply(Intent::ChooseTimeslot(slot("2026-09-02", "14:00")))
            .refused,
        Some(Refusal::NotInThisStep)
    );
    // A Virtual BLS form never keeps a Practical Training product.
    let typed = bls.apply(Intent::EditForm(CandidateForm::default())).flow;
    assert_eq!(typed.form().product, Product::VirtualBls);
    // A booked Virtual BLS booking picked up after a reload is confirmed.
    let resumed = Flow::resume(
        PaymentRedirectPolicy::default(),
        virtual_booking("booked", "completed", "credits", None),
    );
    assert_eq!(resumed.flow.step(), Step::Confirmed);
    assert_eq!(
        resumed.flow.booked().map(|b| b.booking_status().clone()),
        Some(BookingStatus::Booked)
    );
    assert_eq!(
        resumed.flow.booked().map(|b| b.pay_status().clone()),
        Some(PayStatus::Completed)
    );
}

#[test]
fn progress_summary_and_calendar_file_follow_the_product() {
    assert_eq!(
        Step::ChooseCourse.progress_of(Product::VirtualBls),
        Some((1, 5))
    );
    assert_eq!(
        Step::ChooseEvent.progress_of(Product::VirtualBls),
        Some((2, 5))
    );
    assert_eq!(Step::Details.progress_of(Product::VirtualBls), Some((3, 5)));
    assert_eq!(
        Step::Confirmed.progress_of(Product::VirtualBls),
        Some((5, 5))
    );
    assert_eq!(
        Step::ChooseEvent.progress_of(Product::Practical),
        Some((3, 6))
    );
    assert_eq!(Step::HoldConflict.progress_of(Product::VirtualBls), None);
    let booked: booking_core::flow::Booked =
        virtual_booking("booked", "completed", "invoice", None).into();
    let facts = booked.summary();
    let labels: Vec<&str> = facts.iter().map(|fact| fact.label).collect();
    assert_eq!(
        labels,
        [
            "Booking reference",
            "Course",
            "When",
            "Where",
            "Training kit",
            "Candidate",
            "Status"
        ]
    );
    assert!(facts[0].reference);
    assert_eq!(
        facts[2].lines,
        ["Wednesday 2 September 2026, 14:00 to 15:00 BST"]
    );
    assert_eq!(
        facts[3].lines,
        [
            "Online, over Zoom",
            "https://zoom.us/j/8451129034",
            "Meeting ID 845 112 9034",
            "Password k7Tq2w"
        ]
    );
    assert_eq!(facts[6].lines, ["booked (payment completed)"]);
    assert_eq!(booked.payment_action(), "Pay with PayPal");
    let ics = booking_core::ics::booking_ics(&booked, None);
    assert!(
        ics.contains("LOCATION:https://zoom.us/j/8451129034\r\n"),
        "{ics}"
    );
    assert_eq!(
        booking_core::ics::file_name(&booked),
        "training-booking-7731.ics"
    );
}

#[test]
fn a_timeslot_and_a_booking_with_only_their_documented_fields_are_booked_and_told_plainly() {
    let bare = Timeslot {
        start_date: None,
        end_date: None,
        remaining_slots: None,
        cost_inc_vat: None,
        ..slot("2026-09-02", "14:00")
    };
    let chosen = Flow::start_for(PaymentRedirectPolicy::default(), Product::VirtualBls)
        .flow
        .apply(Intent::ChooseCourse(bls_course()))
        .flow;
    let unreadable = Timeslot {
        time: "2pm".into(),
        ..bare.clone()
    };
    assert_eq!(
        chosen.apply(Intent::ChooseTimeslot(unreadable)).refused,
        Some(Refusal::TimeUnknown)
    );
    let picked = chosen.apply(Intent::ChooseTimeslot(bare));
    assert_eq!(
        tags(&picked.commands),
        ["hbg:event-chosen", "hold 41 2026-09-02 14:00"]
    );
    let summary: Vec<(&str, Vec<String>)> = picked
        .flow
        .chosen()
        .expect("a timeslot is chosen")
        .summary()
        .into_iter()
        .map(|fact| (fact.label, fact.lines))
        .collect();
    assert_eq!(
        summary,
        [
            ("Course", vec!["BLS Annual Update (Virtual)".to_owned()]),
            (
                "When",
                vec!["Wednesday 2 September 2026, 14:00 BST".to_owned()]
            ),
            ("Where", vec!["Online, over Zoom".to_owned()]),
        ],
        "no end time and no price where the list says none"
    );

    let held = picked
        .flow
        .apply(granted_slot("2026-09-02", "14:00", "S-1"))
        .flow;
    let flow = held.apply(Intent::EditForm(kit_form("LS1 4AP"))).flow;
    let flow = flow.apply(Intent::ContinueToPayment).flow;
    let flow = flow
        .apply(Intent::ChoosePayOption(PayOption::CandidatePays))
        .flow;
    let flow = flow.apply(submit("K1")).flow;
    let mut pending = virtual_booking("pending", "pending", "candidate_pays", None);
    pending.training_status = None;
    pending.equipment_status = None;
    let created = flow.apply(Outcome::BookingCreated(Box::new(pending.into())));
    assert_eq!(created.flow.step(), Step::AwaitingPayment);
    assert!(!tags(&created.commands)
        .iter()
        .any(|tag| tag.starts_with("redirect")));
    assert!(
        created
            .flow
            .what_next()
            .is_some_and(|next| next.contains("emailed to you")),
        "{:?}",
        created.flow.what_next()
    );
    let facts = created.flow.booked().expect("the booking").summary();
    assert!(
        facts
            .iter()
            .all(|fact| !fact.lines.is_empty() && fact.lines.iter().all(|l| !l.is_empty())),
        "{facts:?}"
    );
}

#[test]
fn a_virtual_bls_course_reads_and_shows_only_its_timeslots() {
    let flow = Flow::start_for(PaymentRedirectPolicy::default(), Product::VirtualBls).flow;
    let chosen = flow.apply(Intent::ChooseCourse(bls_course()));
    assert_eq!(
        tags(&chosen.commands),
        ["hbg:course-chosen", "load-dates 41"]
    );
    let flow = chosen.flow;
    let slots = Dates::Timeslots(vec![
        slot("2026-09-02", "14:00"),
        slot("2026-09-02", "15:30"),
    ]);
    let shown = flow.apply(Outcome::DatesLoaded {
        course_id: 41,
        dates: slots,
    });
    assert_eq!(tags(&shown.commands), ["show 2 timeslots"]);
    let events = flow.apply(Outcome::DatesLoaded {
        course_id: 41,
        dates: Dates::Events(vec![event(41)]),
    });
    assert_eq!(events.refused, Some(Refusal::StaleOutcome));
    assert!(events.commands.is_empty());
    let retried = flow.apply(Intent::RetryDates);
    assert_eq!(tags(&retried.commands), ["load-dates 41"]);
}
