//! After the booking: the candidate's own booking page.
//!
//! * [`BookingLink`]: what a durable link to a booking names, and how long
//!   it lives. The gateway signs it; nothing here needs the key.
//! * [`CancelPolicy`]: the agency's rule for when a candidate may cancel,
//!   and what it decides for one booking now (a
//!   [`CancelOffer`](crate::widget_api::CancelOffer)).
//! * The words the page shows: [`refund_words`] for what a cancellation
//!   does to the payment, [`kit_words`] for a Virtual BLS kit,
//!   [`page_facts`] for the booking itself.
//! * Another date: [`another_date_offered`] says when a candidate may move
//!   a booking themselves, [`other_dates`] which dates it may move to, and
//!   [`move_question`] what the move does.
//! * [`BookingPage`]: the page as a small state machine, as the booking
//!   flow is one: the widget sends it intents and the gateway's answers,
//!   and carries out the commands it returns.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::api::bls::EquipmentStatus;
use crate::api::{BookingDetail, BookingStatus, PayOption, PayStatus, TrainingEvent};
use crate::flow::{Booked, BookingFact};
use crate::product::Product;
use crate::uk_time;
use crate::widget_api::{CancelOffer, CancelState, ManagedBooking, MovedBooking};

/// Days a booking link keeps opening after its training ends.
pub const LINK_DAYS_AFTER_TRAINING: i64 = 30;

/// What a durable booking link names: one booking of one product, when the
/// link was issued and when it stops opening. It is not bound to a
/// browser session; the gateway signs [`BookingLink::signed_part`] and
/// revokes every link by rotating the key it signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingLink {
    /// The booking's product.
    pub product: Product,
    /// The upstream booking id.
    pub booking_id: u64,
    /// When the link was issued (Unix seconds).
    pub issued: i64,
    /// When the link stops opening (Unix seconds).
    pub expires: i64,
}

/// Why a booking link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// It is not a link the gateway signed (mistyped, cut short, forged, or
    /// signed with a key since rotated).
    Invalid,
    /// It was, but its time is over.
    Expired,
}

impl LinkRefusal {
    /// What the candidate is told.
    pub fn message(self) -> &'static str {
        match self {
            LinkRefusal::Invalid => {
                "This booking link is not valid. Check that it was copied in full, or ask the agency that booked you for a new one."
            }
            LinkRefusal::Expired => {
                "This booking link has expired. The agency that booked you can tell you about this booking."
            }
        }
    }
}

impl BookingLink {
    /// The link for `booking_id` of `product`, issued at `now`, opening
    /// until [`LINK_DAYS_AFTER_TRAINING`] days after `training_ends`.
    pub fn issue(
        product: Product,
        booking_id: u64,
        now: DateTime<Utc>,
        training_ends: DateTime<Utc>,
    ) -> BookingLink {
        let expires = training_ends.max(now) + Duration::days(LINK_DAYS_AFTER_TRAINING);
        BookingLink {
            product,
            booking_id,
            issued: now.timestamp(),
            expires: expires.timestamp(),
        }
    }

    /// The part a signature covers: `product.id.issued.expires`, in
    /// characters that need no escaping in a URL.
    pub fn signed_part(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            link_product_code(self.product),
            self.booking_id,
            self.issued,
            self.expires
        )
    }

    /// Reads a signed part back; `None` unless it is exactly what
    /// [`BookingLink::signed_part`] writes.
    pub fn read_signed_part(text: &str) -> Option<BookingLink> {
        let mut parts = text.split('.');
        let code = parts.next()?;
        let product = Product::ALL
            .into_iter()
            .find(|product| link_product_code(*product) == code)?;
        let booking_id = parts.next()?.parse().ok()?;
        let issued = parts.next()?.parse().ok()?;
        let expires = parts.next()?.parse().ok()?;
        let link = BookingLink {
            product,
            booking_id,
            issued,
            expires,
        };
        (parts.next().is_none() && link.signed_part() == text).then_some(link)
    }

    /// The product a link's text names, before its signature is checked:
    /// for the widget to know how to read the gateway's answer, never to
    /// trust the link.
    pub fn product_named(link: &str) -> Option<Product> {
        let (signed, _tag) = link.rsplit_once('.')?;
        BookingLink::read_signed_part(signed).map(|link| link.product)
    }

    /// Whether the link still opens at `now`.
    pub fn opens_at(&self, now: DateTime<Utc>) -> Result<(), LinkRefusal> {
        if now.timestamp() > self.expires {
            Err(LinkRefusal::Expired)
        } else {
            Ok(())
        }
    }
}

/// The host query parameter that opens a booking's own page.
pub const LINK_PARAMETER: &str = "hbg-booking";

/// The address of a booking's own page: `page_url` (the page the widget
/// is on) with `link` in its [`LINK_PARAMETER`], any earlier one and the
/// fragment dropped.
pub fn booking_page_url(page_url: &str, link: &str) -> String {
    let page = page_url.split('#').next().unwrap_or_default();
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let mut parameters: Vec<&str> = query
        .split('&')
        .filter(|parameter| {
            !parameter.is_empty() && parameter.split('=').next() != Some(LINK_PARAMETER)
        })
        .collect();
    let own = format!("{LINK_PARAMETER}={link}");
    parameters.push(&own);
    format!("{path}?{}", parameters.join("&"))
}

/// The product's short code in a link.
fn link_product_code(product: Product) -> &'static str {
    match product {
        Product::Practical => "pt",
        Product::VirtualBls => "bls",
    }
}

/// The agency's rule for candidates cancelling their own Practical
/// Training bookings (`candidate_cancel` in the gateway's configuration):
/// `off`, or `until 48h before` (hours, `h`, or days, `d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CancelPolicy {
    /// Candidates cannot cancel; the page gives the agency's contact.
    #[default]
    Off,
    /// Candidates can cancel until this long before the training starts.
    Until(Duration),
}

/// A `candidate_cancel` setting that is not `off` or `until N[h|d] before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCancelPolicy(String);

impl fmt::Display for BadCancelPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "candidate_cancel must be \"off\" or like \"until 48h before\" (hours h or days d), not {:?}",
            self.0
        )
    }
}

impl std::error::Error for BadCancelPolicy {}

impl FromStr for CancelPolicy {
    type Err = BadCancelPolicy;

    fn from_str(text: &str) -> Result<CancelPolicy, BadCancelPolicy> {
        let bad = || BadCancelPolicy(text.to_owned());
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["off"] => Ok(CancelPolicy::Off),
            ["until", amount, "before"] => {
                let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
                let number: i64 = number.parse().map_err(|_| bad())?;
                let duration = match unit {
                    "h" => Duration::try_hours(number),
                    "d" => Duration::try_days(number),
                    _ => None,
                }
                .filter(|duration| *duration >= Duration::zero())
                .ok_or_else(bad)?;
                Ok(CancelPolicy::Until(duration))
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for CancelPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelPolicy::Off => formatter.write_str("off"),
            CancelPolicy::Until(before) if before.num_hours() % 24 == 0 => {
                write!(formatter, "until {}d before", before.num_days())
            }
            CancelPolicy::Until(before) => {
                write!(formatter, "until {}h before", before.num_hours())
            }
        }
    }
}

impl CancelPolicy {
    /// What the policy offers, at `now`, for a `product` booking that
    /// starts at `starts` (nothing, once it is cancelled or over).
    pub fn offer(
        self,
        product: Product,
        cancelled_or_over: bool,
        starts: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> CancelOffer {
        if cancelled_or_over || starts <= now {
            return CancelOffer::without_deadline(CancelState::Done);
        }
        match (self, product) {
            (CancelPolicy::Off, _) | (_, Product::VirtualBls) => {
                CancelOffer::without_deadline(CancelState::ByAgency)
            }
            (CancelPolicy::Until(before), Product::Practical) => {
                let deadline = starts - before;
                CancelOffer {
                    state: if now <= deadline {
                        CancelState::Open
                    } else {
                        CancelState::Closed
                    },
                    until: Some(deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                }
            }
        }
    }
}

/// What cancelling does to the booking's payment, in the candidate's
/// words: a credit returns to the agency, a card payment is refunded, an
/// invoice is voided.
pub fn refund_words(pay_option: &PayOption, pay_status: &PayStatus) -> &'static str {
    let paid = *pay_status == PayStatus::Completed;
    match pay_option {
        PayOption::Credits if paid => {
            "The course credit used for it goes back to the agency's account."
        }
        PayOption::Balance if paid => "The amount paid goes back to the agency's balance.",
        PayOption::Inv => "The invoice for it is voided, so nobody pays for it.",
        PayOption::CandidatePays if paid => {
            "Your card payment is refunded to the card you paid with."
        }
        PayOption::CandidatePays => {
            "Nothing has been paid for it yet, so there is nothing to refund."
        }
        _ => "The agency that booked you will settle any payment for it.",
    }
}

/// Where a Virtual BLS kit is, in the candidate's words.
pub fn kit_words(status: Option<&EquipmentStatus>) -> String {
    match status {
        None | Some(EquipmentStatus::Pending) => {
            "Your training kit has not been posted yet.".to_owned()
        }
        Some(EquipmentStatus::Out) => {
            "Your training kit has been posted to you. Keep it for the session, then send it back."
                .to_owned()
        }
        Some(EquipmentStatus::In) => "Your training kit has been returned. Thank you.".to_owned(),
        Some(EquipmentStatus::Overdue) => {
            "Your training kit is overdue: please post it back now. Your certificate is issued once it is returned."
                .to_owned()
        }
        Some(EquipmentStatus::Other(other)) => {
            format!("Your training kit's status: {}.", other.replace('_', " "))
        }
    }
}

/// A booking's status and payment in words, e.g. "Cancelled (refunded)".
pub fn status_words(booking_status: &BookingStatus, pay_status: &PayStatus) -> String {
    let status = match booking_status {
        BookingStatus::Booked => "Booked".to_owned(),
        BookingStatus::Pending => "Waiting for confirmation".to_owned(),
        BookingStatus::Cancelled => "Cancelled".to_owned(),
        BookingStatus::Completed => "Completed".to_owned(),
        BookingStatus::NoShow => "Marked as not attended".to_owned(),
        BookingStatus::Other(other) => other.replace('_', " "),
    };
    let payment = match pay_status {
        PayStatus::Completed => "paid".to_owned(),
        PayStatus::Pending => "not paid yet".to_owned(),
        PayStatus::Refunded => "refunded".to_owned(),
        PayStatus::Other(other) => other.replace('_', " "),
    };
    format!("{status} ({payment})")
}

/// What the booking page lists: the confirmation's summary, with the
/// status and payment in words and, for Virtual BLS, where the kit is.
pub fn page_facts(booked: &Booked) -> Vec<BookingFact> {
    let (status, kit) = match booked {
        Booked::Practical(booking) => (
            status_words(&booking.booking_status, &booking.pay_status),
            None,
        ),
        Booked::Virtual(booking) => (
            status_words(&booking.booking_status, &booking.pay_status),
            Some(kit_words(booking.equipment_status.as_ref())),
        ),
    };
    let mut facts = booked.summary();
    for fact in &mut facts {
        match (fact.label, &kit) {
            ("Status", _) => fact.lines = vec![status.clone()],
            ("Training kit", Some(kit)) => fact.lines = vec![kit.clone()],
            _ => {}
        }
    }
    facts
}

/// What the page says about cancelling, if anything: until when the
/// candidate may and what it does to the payment, or who to ask.
pub fn cancel_words(page: &ManagedBooking<Booked>) -> Option<String> {
    let agency = match &page.agency_email {
        Some(email) => format!("the agency that booked you, at {email}"),
        None => "the agency that booked you".to_owned(),
    };
    let deadline = || {
        page.cancel
            .until
            .as_deref()
            .and_then(|until| DateTime::parse_from_rfc3339(until).ok())
            .map(|until| {
                let local = uk_time::to_uk(until.to_utc());
                format!(
                    "{} on {}",
                    uk_time::clock_time(local.time()),
                    uk_time::full_date(local.date_naive())
                )
            })
            .unwrap_or_default()
    };
    match page.cancel.state {
        CancelState::Open => Some(format!(
            "You can cancel this booking until {}. {}",
            deadline(),
            booked_refund_words(&page.booking)
        )),
        CancelState::Closed => Some(format!(
            "The time to cancel this booking online ended at {}. To change it, contact {agency}.",
            deadline()
        )),
        CancelState::ByAgency => Some(format!(
            "To change or cancel this booking, contact {agency}."
        )),
        CancelState::Done => None,
    }
}

/// The question a cancel is confirmed with: what, when, and what happens
/// to the payment.
pub fn cancel_question(booked: &Booked) -> String {
    let (start, end) = booked.times();
    format!(
        "Cancel your place on {}, {}? {}",
        booked.course().name,
        crate::calendar::when_label(start, Some(end)),
        booked_refund_words(booked)
    )
}

/// Whether the candidate may move a booking to another date themselves:
/// while they may cancel it (a move cancels it once the new booking is
/// made), unless they paid by card (the card would be charged for the new
/// place before this one's refund).
pub fn another_date_offered(cancel: &CancelOffer, pay_option: &PayOption) -> bool {
    cancel.state == CancelState::Open && *pay_option != PayOption::CandidatePays
}

/// The dates `booking` may move to, soonest first: its course's events
/// that start after `now` with a seat left, but not its own (the one at
/// its place and time).
pub fn other_dates(
    booking: &BookingDetail,
    mut events: Vec<TrainingEvent>,
    now: DateTime<Utc>,
) -> Vec<TrainingEvent> {
    events.retain(|event| {
        let own =
            event.start_date == booking.start_date && event.location.id == booking.location.id;
        event.course.id == booking.course.id
            && event.remaining_slots > 0
            && event.start_date.to_utc() > now
            && !own
    });
    events.sort_by_key(|event| (event.start_date, event.id));
    events
}

/// A candidate's full name, as the upstream answers it, split into the
/// first and last names a booking takes: the last word is the last name
/// (a one-word name is both).
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim_end().to_owned(), last.to_owned()),
        None => (name.to_owned(), name.to_owned()),
    }
}

/// What a move to `event` does to the payment, in the candidate's words.
pub fn move_payment_words(pay_option: &PayOption) -> &'static str {
    match pay_option {
        PayOption::Credits => {
            "The new place uses one of the agency's course credits and this place's credit goes back, so the agency's credits are unchanged."
        }
        PayOption::Balance => {
            "The new place is paid from the agency's balance and this place's payment goes back to it."
        }
        PayOption::Inv => "The agency is invoiced for the new place and this place's invoice is voided.",
        _ => "The new place is paid as this one was, and this one's payment is returned.",
    }
}

/// The question a move to `event` is confirmed with: where and when, the
/// order it is done in, and what happens to the payment.
pub fn move_question(booked: &Booked, event: &TrainingEvent) -> String {
    let (start, end) = booked.times();
    format!(
        "Move your place to {} at {}? Your new place is booked first; only then is your place on {} cancelled. {}",
        crate::calendar::when_label(event.start_date, Some(event.end_date)),
        event.location.name,
        crate::calendar::when_label(start, Some(end)),
        move_payment_words(booked.pay_option())
    )
}

/// [`refund_words`] for either product's booking.
pub fn booked_refund_words(booked: &Booked) -> &'static str {
    refund_words(booked.pay_option(), booked.pay_status())
}

/// The booking page: what it shows and what it is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingPage {
    /// What the page shows.
    pub view: PageView,
    /// Whether the candidate is being asked to confirm a cancel.
    pub confirming: bool,
    /// Whether a cancel is on its way.
    pub cancelling: bool,
    /// Why the last cancel failed, shown by the cancel button.
    pub problem: Option<String>,
    /// What screen readers are told of the last change.
    pub announcement: Option<&'static str>,
    /// The candidate's choice of another date, while they make it.
    pub another_date: Option<AnotherDate>,
    /// The new booking's link once the booking has moved: the page reads
    /// and changes the new booking from then on.
    pub moved_to: Option<String>,
    /// Why the old booking was kept after a move, when its cancel failed.
    pub old_booking_kept: Option<String>,
}

/// Another date being chosen: the dates offered, the one chosen, and the
/// move on its way.
#[derive(Debug, Clone, PartialEq)]
pub struct AnotherDate {
    /// The dates offered.
    pub dates: OtherDates,
    /// The date chosen, to be confirmed.
    pub chosen: Option<TrainingEvent>,
    /// Whether the move is on its way.
    pub moving: bool,
    /// Why the last move failed (the booking stays as it was).
    pub problem: Option<String>,
}

/// The other dates a booking may move to, as the page has them.
#[derive(Debug, Clone, PartialEq)]
pub enum OtherDates {
    /// Being read.
    Loading,
    /// Read: the dates, soonest first (none when none is free).
    Shown(Vec<TrainingEvent>),
    /// Not read this time: the message, and a retry.
    Failed(String),
}

/// What the booking page shows.
#[derive(Debug, Clone, PartialEq)]
pub enum PageView {
    /// The booking is being read.
    Loading,
    /// The booking, as the gateway read it.
    Shown(Box<ManagedBooking<Booked>>),
    /// The link does not open (or the booking is gone): the message, and
    /// nothing else.
    Refused(String),
    /// The booking could not be read this time: the message, and a retry.
    Failed(String),
}

/// What the candidate asks of the booking page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageIntent {
    /// "Cancel this booking": ask to confirm.
    AskToCancel,
    /// "Keep my booking": the confirmation is dismissed.
    KeepBooking,
    /// "Yes, cancel it".
    ConfirmCancel,
    /// Read the booking again after a failure.
    Retry,
    /// "Choose another date": the other dates are read.
    AskForAnotherDate,
    /// Read the other dates again after a failure.
    RetryDates,
    /// One of the other dates, by its training event's id: ask to confirm.
    ChooseDate(u64),
    /// "Choose a different date": back to the dates from the question.
    BackToDates,
    /// "Keep my date": the choice of another date is closed.
    KeepDate,
    /// "Yes, move it".
    ConfirmMove,
}

/// The gateway's answer to [`PageCommand::LoadDates`].
pub type DatesAnswer = Result<Vec<TrainingEvent>, (Option<u16>, String)>;

/// The gateway's answer to [`PageCommand::Move`].
pub type MoveAnswer = Result<MovedBooking<Booked>, (Option<u16>, String)>;

/// An answer of the gateway to the booking page: the page, or the
/// status (none for no answer) and message of a failure.
pub type PageAnswer = Result<ManagedBooking<Booked>, (Option<u16>, String)>;

/// What the widget is asked to do for the booking page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCommand {
    /// Read the booking through its link.
    Read,
    /// Cancel the booking through its link.
    Cancel,
    /// Read the other dates the booking may move to.
    LoadDates,
    /// Move the booking to this training event (by id).
    Move(u64),
}

impl BookingPage {
    /// A page opening: it reads the booking.
    pub fn open() -> (BookingPage, PageCommand) {
        let page = BookingPage {
            view: PageView::Loading,
            confirming: false,
            cancelling: false,
            problem: None,
            announcement: None,
            another_date: None,
            moved_to: None,
            old_booking_kept: None,
        };
        (page, PageCommand::Read)
    }

    /// Applies an intent; returns what to send, if anything.
    pub fn apply(&mut self, intent: PageIntent) -> Option<PageCommand> {
        let can_cancel =
            matches!(&self.view, PageView::Shown(page) if page.cancel.state == CancelState::Open);
        match intent {
            PageIntent::AskToCancel if can_cancel && !self.cancelling => {
                self.confirming = true;
                self.problem = None;
                None
            }
            PageIntent::KeepBooking => {
                self.confirming = false;
                None
            }
            PageIntent::ConfirmCancel if can_cancel && self.confirming && !self.cancelling => {
                self.cancelling = true;
                self.problem = None;
                Some(PageCommand::Cancel)
            }
            PageIntent::Retry if matches!(self.view, PageView::Failed(_)) => {
                self.view = PageView::Loading;
                Some(PageCommand::Read)
            }
            PageIntent::AskForAnotherDate | PageIntent::RetryDates
                if self.may_move() && !self.cancelling =>
            {
                self.confirming = false;
                self.another_date = Some(AnotherDate {
                    dates: OtherDates::Loading,
                    chosen: None,
                    moving: false,
                    problem: None,
                });
                Some(PageCommand::LoadDates)
            }
            PageIntent::ChooseDate(id) => {
                let choice = self.another_date.as_mut().filter(|choice| !choice.moving)?;
                let OtherDates::Shown(dates) = &choice.dates else {
                    return None;
                };
                choice.chosen = dates.iter().find(|event| event.id == id).cloned();
                choice.problem = None;
                None
            }
            PageIntent::BackToDates => {
                if let Some(choice) = self.another_date.as_mut().filter(|choice| !choice.moving) {
                    choice.chosen = None;
                    choice.problem = None;
                }
                None
            }
            PageIntent::KeepDate => {
                if !self
                    .another_date
                    .as_ref()
                    .is_some_and(|choice| choice.moving)
                {
                    self.another_date = None;
                }
                None
            }
            PageIntent::ConfirmMove => {
                let may_move = self.may_move();
                let choice = self.another_date.as_mut().filter(|choice| !choice.moving)?;
                let id = choice.chosen.as_ref().filter(|_| may_move)?.id;
                choice.moving = true;
                choice.problem = None;
                Some(PageCommand::Move(id))
            }
            _ => None,
        }
    }

    /// Whether the booking shown may move to another date.
    fn may_move(&self) -> bool {
        matches!(&self.view, PageView::Shown(page)
            if another_date_offered(&page.cancel, page.booking.pay_option()))
    }

    /// The link the page reads and changes the booking through: the new
    /// booking's once the booking has moved, else `opened`.
    pub fn link<'a>(&'a self, opened: &'a str) -> &'a str {
        self.moved_to.as_deref().unwrap_or(opened)
    }

    /// Takes the gateway's answer to a [`PageCommand::LoadDates`].
    pub fn dates(&mut self, answer: DatesAnswer) {
        if let Some(choice) = self.another_date.as_mut() {
            choice.dates = match answer {
                Ok(dates) => OtherDates::Shown(dates),
                Err((_, message)) => OtherDates::Failed(message),
            };
        }
    }

    /// Takes the gateway's answer to a [`PageCommand::Move`]: the new
    /// booking shown, through its own link from now on, or the reason the
    /// move was not made (the booking stays as it was).
    pub fn moved(&mut self, answer: MoveAnswer) {
        match answer {
            Ok(moved) => {
                self.another_date = None;
                self.view = PageView::Shown(Box::new(moved.page));
                self.moved_to = Some(moved.manage_link);
                self.old_booking_kept = moved.old_booking_kept;
                self.announcement = Some("Your booking is moved to the new date.");
            }
            Err((_, message)) => {
                if let Some(choice) = self.another_date.as_mut() {
                    choice.moving = false;
                    choice.problem = Some(message);
                }
            }
        }
    }

    /// Takes the gateway's answer to a [`PageCommand::Read`].
    pub fn read(&mut self, answer: PageAnswer) {
        self.view = match answer {
            Ok(page) => PageView::Shown(Box::new(page)),
            Err((Some(404 | 410), message)) => PageView::Refused(message),
            Err((_, message)) => PageView::Failed(message),
        };
    }

    /// Takes the gateway's answer to a [`PageCommand::Cancel`]: the page
    /// in its cancelled state, or the reason it was not cancelled (the
    /// booking stays shown as it was).
    pub fn cancelled(&mut self, answer: PageAnswer) {
        self.cancelling = false;
        match answer {
            Ok(page) => {
                self.confirming = false;
                self.view = PageView::Shown(Box::new(page));
                self.announcement = Some("Your booking is cancelled.");
            }
            Err((_, message)) => self.problem = Some(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 10, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_link_reads_back_and_opens_until_its_days_after_the_training() {
        let link = BookingLink::issue(Product::VirtualBls, 4021, at(9), at(17));
        assert_eq!(
            BookingLink::read_signed_part(&link.signed_part()),
            Some(link)
        );
        let last = at(17) + Duration::days(LINK_DAYS_AFTER_TRAINING);
        assert_eq!(link.opens_at(last), Ok(()));
        assert_eq!(
            link.opens_at(last + Duration::seconds(1)),
            Err(LinkRefusal::Expired)
        );
    }

    #[test]
    fn a_link_issued_after_its_training_still_lives_its_days() {
        let link = BookingLink::issue(Product::Practical, 7, at(18), at(17));
        assert_eq!(
            link.expires,
            (at(18) + Duration::days(LINK_DAYS_AFTER_TRAINING)).timestamp()
        );
    }

    #[test]
    fn only_what_a_link_writes_reads_back() {
        for text in [
            "",
            "pt",
            "pt.7.1.2.3",
            "xx.7.1.2",
            "pt.07.1.2",
            "pt.+7.1.2",
            "pt.7.1",
            "PT.7.1.2",
            "pt.-7.1.2",
        ] {
            assert_eq!(BookingLink::read_signed_part(text), None, "{text:?}");
        }
        assert!(BookingLink::read_signed_part("pt.7.1.2").is_some());
        assert_eq!(
            BookingLink::product_named("bls.7.1.2.tag"),
            Some(Product::VirtualBls)
        );
        assert_eq!(BookingLink::product_named("bls.7.1.2"), None);
    }

    #[test]
    fn a_booking_page_url_is_the_page_with_its_link() {
        for (page, url) in [
            (
                "https://agency.example/book",
                "https://agency.example/book?hbg-booking=pt.1.2.3.T",
            ),
            (
                "https://agency.example/book?course=2#top",
                "https://agency.example/book?course=2&hbg-booking=pt.1.2.3.T",
            ),
            (
                "https://agency.example/book?hbg-booking=old&x=1",
                "https://agency.example/book?x=1&hbg-booking=pt.1.2.3.T",
            ),
        ] {
            assert_eq!(booking_page_url(page, "pt.1.2.3.T"), url);
        }
    }

    #[test]
    fn cancel_policies_read_and_write_back() {
        for (text, policy) in [
            ("off", CancelPolicy::Off),
            ("until 48h before", CancelPolicy::Until(Duration::hours(48))),
            ("until 2d before", CancelPolicy::Until(Duration::days(2))),
            ("until 0h before", CancelPolicy::Until(Duration::zero())),
        ] {
            assert_eq!(text.parse::<CancelPolicy>(), Ok(policy), "{text}");
        }
        assert_eq!(
            CancelPolicy::Until(Duration::hours(48)).to_string(),
            "until 2d before"
        );
        assert_eq!(
            CancelPolicy::Until(Duration::hours(36)).to_string(),
            "until 36h before"
        );
        for text in [
            "",
            "on",
            "until 48 before",
            "until h before",
            "until -1h before",
            "until 2w before",
            "48h",
        ] {
            let error = text.parse::<CancelPolicy>().unwrap_err();
            assert!(error.to_string().contains("until 48h before"), "{error}");
        }
    }

    #[test]
    fn a_candidate_may_cancel_until_the_policys_deadline_and_not_after() {
        let policy: CancelPolicy = "until 2h before".parse().unwrap();
        let starts = at(12);
        let until = Some("2027-03-10T10:00:00Z".to_owned());
        let open = policy.offer(Product::Practical, false, starts, at(10));
        assert_eq!((open.state, &open.until), (CancelState::Open, &until));
        let closed = policy.offer(Product::Practical, false, starts, at(11));
        assert_eq!((closed.state, &closed.until), (CancelState::Closed, &until));
        for (cancelled, now) in [(false, at(12)), (true, at(9))] {
            let done = policy.offer(Product::Practical, cancelled, starts, now);
            assert_eq!(done, CancelOffer::without_deadline(CancelState::Done));
        }
    }

    #[test]
    fn virtual_bls_and_a_policy_that_is_off_leave_cancelling_to_the_agency() {
        let open: CancelPolicy = "until 1h before".parse().unwrap();
        let by_agency = CancelOffer::without_deadline(CancelState::ByAgency);
        assert_eq!(
            open.offer(Product::VirtualBls, false, at(12), at(9)),
            by_agency
        );
        assert_eq!(
            CancelPolicy::Off.offer(Product::Practical, false, at(12), at(9)),
            by_agency
        );
    }

    #[test]
    fn a_cancel_offer_reads_back_through_the_widgets_json_reader() {
        let offer = CancelOffer {
            state: CancelState::Closed,
            until: Some("2027-03-10T10:00:00Z".to_owned()),
        };
        let text = serde_json::to_string(&offer).unwrap();
        assert_eq!(text, r#"{"state":"closed","until":"2027-03-10T10:00:00Z"}"#);
        assert_eq!(crate::json::from_str::<CancelOffer>(&text), Ok(offer));
        assert_eq!(
            crate::json::from_str::<CancelOffer>(r#"{"state":"later"}"#),
            Ok(CancelOffer::without_deadline(CancelState::ByAgency))
        );
    }

    #[test]
    fn the_refund_is_worded_by_how_the_booking_was_paid() {
        let paid = PayStatus::Completed;
        assert!(refund_words(&PayOption::Credits, &paid).contains("credit"));
        assert!(refund_words(&PayOption::Balance, &paid).contains("balance"));
        assert!(refund_words(&PayOption::Inv, &PayStatus::Pending).contains("voided"));
        assert!(refund_words(&PayOption::CandidatePays, &paid).contains("refunded"));
        assert!(refund_words(&PayOption::CandidatePays, &PayStatus::Pending)
            .contains("nothing to refund"));
    }

    #[test]
    fn a_full_name_splits_at_its_last_word() {
        for (name, first, last) in [
            ("Priya Patel", "Priya", "Patel"),
            ("Mary Ann  Smith ", "Mary Ann", "Smith"),
            ("Cher", "Cher", "Cher"),
        ] {
            assert_eq!(
                split_name(name),
                (first.to_owned(), last.to_owned()),
                "{name}"
            );
        }
    }

    #[test]
    fn a_kit_overdue_is_said_to_be_overdue() {
        assert!(kit_words(Some(&EquipmentStatus::Overdue)).contains("overdue"));
        assert!(kit_words(Some(&EquipmentStatus::Out)).contains("posted to you"));
        assert!(kit_words(None).contains("not been posted"));
        assert_eq!(
            kit_words(Some(&EquipmentStatus::Other("lost_in_post".into()))),
            "Your training kit's status: lost in post."
        );
    }
}
