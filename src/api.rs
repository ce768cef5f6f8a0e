//! The widget's client for the gateway (`booking_core::widget_api`).
//!
//! Components talk to the gateway only through [`BookingApi`], so browser
//! tests can put an in-memory API behind the same trait. [`HttpApi`] is the
//! real client: it keeps the gateway's session token in `sessionStorage`,
//! retries GET requests with back-off, and waits as a 429's `Retry-After`
//! says. Writes are never retried here: a booking is retried by the flow,
//! with the same idempotency key. The one exception is a hold or booking
//! the gateway queued under the upstream's rate limit
//! ([`booking_core::widget_api::QueuePlace`]): nothing was sent, so it is
//! sent again with its ticket when its turn comes, the wait counted down to
//! [`BookingApi::on_queue_wait`]'s listener.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use booking_core::api::bls::{Timeslot, VirtualBooking};
use booking_core::api::{BookingDetail, Course, Money, PayOption, TrainingEvent};
use booking_core::flow::Booked;
use booking_core::manage::BookingLink;
use booking_core::product::Product;
use booking_core::widget_api::{
    quoting_reference, route, BookingReceipt, BookingRequest, ErrorAnswer, HeldSeat, HeldTimeslot,
    HoldRequest, ManagedBooking, MoveRequest, MovedBooking, QueuePlace, ReleaseBeacon,
    SlotHoldRequest, UnusablePayOptions, WidgetOptions, IDEMPOTENCY_HEADER, QUEUE_TICKET_HEADER,
    SESSION_HEADER,
};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A pending answer from the gateway.
pub type ApiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + 'a>>;

/// Why a call to the gateway did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer at all: offline, the gateway is down, or the request was cut.
    Network,
    /// The gateway answered with an error status.
    Status(ErrorAnswer),
    /// The answer could not be read.
    Decode(String),
    /// The booking this tab made (e.g. before the payment page) could not
    /// be read back; it is kept, to read again.
    BookingUnread,
}

impl ApiError {
    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            ApiError::Network => {
                "We could not reach the booking service. Check your connection and try again."
                    .to_owned()
            }
            ApiError::Status(answer) => {
                let sentence = match answer.message() {
                    "" => format!("The booking service answered {}.", answer.status),
                    message => message.to_owned(),
                };
                quoting_reference(&sentence, answer.request_id.as_deref())
            }
            ApiError::Decode(_) => {
                "The booking service sent an answer we could not read.".to_owned()
            }
            ApiError::BookingUnread => {
                "We could not check the booking you made a moment ago. It is safe: try again in a moment."
                    .to_owned()
            }
        }
    }

    /// The HTTP status, when the gateway answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status(answer) => Some(answer.status),
            _ => None,
        }
    }
}

/// Everything the widget asks of the gateway.
pub trait BookingApi {
    /// A product's pay options, the agency's name, and a session when there
    /// is none.
    fn options(&self, product: Product) -> ApiFuture<'_, WidgetOptions>;
    /// A product's active courses.
    fn courses(&self, product: Product) -> ApiFuture<'_, Vec<Course>>;
    /// Every upcoming training event of a course.
    fn training_events(&self, course_id: u64) -> ApiFuture<'_, Vec<TrainingEvent>>;
    /// The free Virtual BLS timeslots of a course in a range of UK dates.
    fn timeslots(
        &self,
        course_id: u64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiFuture<'_, Vec<Timeslot>>;
    /// Holds a seat for 30 minutes.
    fn hold(&self, request: HoldRequest) -> ApiFuture<'_, HeldSeat>;
    /// Holds a Virtual BLS timeslot for 30 minutes.
    fn hold_timeslot(&self, request: SlotHoldRequest) -> ApiFuture<'_, HeldTimeslot>;
    /// The allowed pay options the agency's account cannot use for the
    /// session's held place (its course, and its cost when known).
    fn unusable_pay_options(
        &self,
        hold_ref: String,
        course_id: u64,
        cost: Option<Money>,
    ) -> ApiFuture<'_, Vec<PayOption>>;
    /// Releases a hold.
    fn release(&self, hold_ref: String) -> ApiFuture<'_, ()>;
    /// Releases a hold as the widget goes (`navigator.sendBeacon`):
    /// `page_hidden` when the page itself went away, and may be reloading.
    fn release_on_exit(&self, hold_ref: &str, page_hidden: bool);
    /// Creates the booking (of the product its hold is for); the same key
    /// and request return the same booking.
    fn create_booking(
        &self,
        request: BookingRequest,
        idempotency_key: String,
        product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>>;
    /// Reads a booking this session made.
    fn booking(
        &self,
        booking_ref: String,
        product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>>;
    /// Reads the booking a durable link names, for its page.
    fn managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>>;
    /// Cancels the booking a durable link names; answers its page, cancelled.
    fn cancel_managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>>;
    /// The other dates the booking a durable link names may move to.
    fn other_dates(&self, link: String) -> ApiFuture<'_, Vec<TrainingEvent>>;
    /// Moves the booking a durable link names to another training event:
    /// the new booking made first, then the old one cancelled. The same key
    /// and event return the same move.
    fn move_managed_booking(
        &self,
        link: String,
        event_id: u64,
        idempotency_key: String,
    ) -> ApiFuture<'_, MovedBooking<Booked>>;
    /// Where the certificate of the booking a durable link names downloads.
    fn certificate_url(&self, link: &str) -> String;
    /// Tells `listener` the seconds left while a hold or booking waits its
    /// turn in the gateway's queue, and `None` when it no longer waits.
    fn on_queue_wait(&self, listener: QueueListener) {
        let _ = listener;
    }
}

/// Hears how long a queued request still waits ([`BookingApi::on_queue_wait`]).
pub type QueueListener = Rc<dyn Fn(Option<u32>)>;

/// Turns a write takes in the gateway's queue before its answer is taken
/// as it is.
const QUEUE_TURNS: u32 = 4;

/// Attempts a GET makes before giving up on network errors and 5xx answers.
const GET_ATTEMPTS: u32 = 3;
/// The longest `Retry-After` the widget waits for by itself, in seconds.
const MAX_RETRY_AFTER_SECONDS: u32 = 30;
/// The longest turn in the gateway's queue the widget waits for, in seconds
/// (the gateway queues for two minutes at most).
const MAX_QUEUE_WAIT_SECONDS: u32 = 120;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, so the client works wherever `fetch` exists.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_request(request: &web_sys::Request) -> js_sys::Promise;
}

/// The real client: HTTP to the gateway at `base` (e.g. `/api`).
pub struct HttpApi {
    base: String,
    session: RefCell<Option<String>>,
    queue_listener: RefCell<Option<QueueListener>>,
    early_courses: RefCell<Option<(Product, Vec<Course>)>>,
}

/// An answer of the gateway.
struct Answer {
    status: u16,
    retry_after: Option<u32>,
    text: String,
}

impl Answer {
    /// The text of a 2xx answer; an error status read as its body says.
    fn into_result(self) -> Result<String, ApiError> {
        if (200..300).contains(&self.status) {
            return Ok(self.text);
        }
        let mut answer = ErrorAnswer::read(self.status, &self.text);
        answer.retry_after = self.retry_after;
        Err(ApiError::Status(answer))
    }
}

/// Tells the queue listener the wait is over when dropped.
struct QueueWait<'a>(&'a HttpApi);

impl QueueWait<'_> {
    fn left(&self, seconds: u32) {
        self.0.tell_queue(Some(seconds));
    }
}

impl Drop for QueueWait<'_> {
    fn drop(&mut self) {
        self.0.tell_queue(None);
    }
}

impl HttpApi {
    /// A client for the gateway at `base`, resuming this tab's session.
    pub fn new(base: &str) -> HttpApi {
        let base = base.trim_end_matches('/').to_owned();
        let session = crate::browser::session_get(&session_key(&base));
        HttpApi {
            base,
            session: RefCell::new(session),
            queue_listener: RefCell::new(None),
            early_courses: RefCell::new(None),
        }
    }

    /// A product's courses as the early step read them: the first read of
    /// that product's courses answers with them instead of asking again.
    pub fn with_courses(self, product: Product, courses: Vec<Course>) -> HttpApi {
        *self.early_courses.borrow_mut() = Some((product, courses));
        self
    }

    fn tell_queue(&self, seconds: Option<u32>) {
        let listener = self.queue_listener.borrow().clone();
        if let Some(listener) = listener {
            listener(seconds);
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a hold or a booking; when the gateway queues it, counts its
    /// wait down to the queue listener and sends it again with its ticket.
    /// One state machine serves every write: the typed calls only decode.
    fn send_write(
        &self,
        path: &'static str,
        body: String,
        idempotency_key: Option<String>,
    ) -> Pending<'_> {
        Box::pin(async move {
            let wait = QueueWait(self);
            let mut ticket = None;
            let mut turn = 0;
            loop {
                let answer = self
                    .exchange(
                        "POST",
                        path,
                        Some(&body),
                        idempotency_key.as_deref(),
                        ticket.as_deref(),
                    )
                    .await?;
                let place = match QueuePlace::read(answer.status, &answer.text) {
                    Some(place) if turn < QUEUE_TURNS => place,
                    _ => return answer.into_result(),
                };
                turn += 1;
                for left in (1..=place.queued_for_seconds.min(MAX_QUEUE_WAIT_SECONDS)).rev() {
                    wait.left(left);
                    gloo_timers::future::TimeoutFuture::new(1000).await;
                }
                ticket = Some(place.queue_ticket);
            }
        })
    }

    /// One request and its answer; no answer at all is a network error.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
        queue_ticket: Option<&str>,
    ) -> Result<Answer, ApiError> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
        if let Some(session) = self.session.borrow().as_deref() {
            let _ = headers.set(SESSION_HEADER, session);
        }
        if let Some(key) = idempotency_key {
            let _ = headers.set(IDEMPOTENCY_HEADER, key);
        }
        if let Some(ticket) = queue_ticket {
            let _ = headers.set(QUEUE_TICKET_HEADER, ticket);
        }
        if let Some(body) = body {
            let _ = headers.set("Content-Type", "application/json");
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(&self.url(path), &init)
            .map_err(|_| ApiError::Decode("the request could not be built".to_owned()))?;
        let response: web_sys::Response = JsFuture::from(fetch_with_request(&request))
            .await
            .map_err(|_| ApiError::Network)?
            .unchecked_into();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok(),
            Err(_) => None,
        };
        let text = text
            .and_then(|text| text.as_string())
            .ok_or(ApiError::Network)?;
        let retry_after = response
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|value| value.trim().parse().ok());
        Ok(Answer {
            status: response.status(),
            retry_after,
            text,
        })
    }

    /// GETs `path`, retrying network errors, 5xx answers and 429s. One
    /// state machine serves every read: the typed calls only decode.
    fn get_text(&self, path: String) -> Pending<'_> {
        Box::pin(async move {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let answer = self
                    .exchange("GET", &path, None, None, None)
                    .await
                    .and_then(Answer::into_result);
                match retry_in_ms(&answer, attempt) {
                    Some(delay) if attempt < GET_ATTEMPTS => {
                        gloo_timers::future::TimeoutFuture::new(delay).await;
                    }
                    _ => return answer,
                }
            }
        })
    }

    /// POSTs `body` as JSON and returns the answer's text.
    fn post_text<B: serde::Serialize>(
        &self,
        path: &'static str,
        body: &B,
        idempotency_key: Option<String>,
    ) -> Pending<'_> {
        match serde_json::to_string(body) {
            Ok(body) => self.send_write(path, body, idempotency_key),
            Err(_) => Box::pin(std::future::ready(Err(ApiError::Decode(
                "the request could not be written".to_owned(),
            )))),
        }
    }
}

/// A request in flight: the answer's text, or why there is none.
type Pending<'a> = Pin<Box<dyn Future<Output = Result<String, ApiError>> + 'a>>;

/// Reads a request's answer as `T` once it comes.
fn decoded<'a, T: DeserializeOwned + 'a>(pending: Pending<'a>) -> ApiFuture<'a, T> {
    Box::pin(async move { decode(&pending.await?) })
}

/// How long a GET waits before its next attempt, when it is tried again.
fn retry_in_ms(answer: &Result<String, ApiError>, attempt: u32) -> Option<u32> {
    match answer {
        Err(ApiError::Network) => Some(backoff_ms(attempt)),
        Err(ApiError::Status(error)) if error.status == 429 || error.retry_after.is_some() => Some(
            error
                .retry_after
                .unwrap_or(1)
                .min(MAX_RETRY_AFTER_SECONDS)
                .saturating_mul(1000),
        ),
        Err(ApiError::Status(error)) if error.status >= 500 => Some(backoff_ms(attempt)),
        _ => None,
    }
}

fn session_key(base: &str) -> String {
    format!("hbg:session:{base}")
}

fn backoff_ms(attempt: u32) -> u32 {
    500 * 2u32.pow(attempt.saturating_sub(1).min(4))
}

/// The query naming a product on `/options` and `/courses`: none for
/// Practical Training, the gateway's default, so its URLs stay as they were.
fn product_query(product: Product) -> String {
    match product {
        Product::Practical => String::new(),
        other => format!("?product={other}"),
    }
}

/// Reads a booking answer as its product's booking.
fn receipt(text: &str, product: Product) -> Result<BookingReceipt<Booked>, ApiError> {
    fn wrap<B: Into<Booked>>(receipt: BookingReceipt<B>) -> BookingReceipt<Booked> {
        BookingReceipt {
            booking_ref: receipt.booking_ref,
            booking: receipt.booking.into(),
            manage_link: receipt.manage_link,
        }
    }
    match product {
        Product::Practical => decode::<BookingReceipt<BookingDetail>>(text).map(wrap),
        Product::VirtualBls => decode::<BookingReceipt<VirtualBooking>>(text).map(wrap),
    }
}

/// Reads a booking page's answer as the product its link names.
fn managed(text: &str, link: &str) -> Result<ManagedBooking<Booked>, ApiError> {
    fn wrap<B: Into<Booked>>(page: ManagedBooking<B>) -> ManagedBooking<Booked> {
        ManagedBooking {
            booking: page.booking.into(),
            cancel: page.cancel,
            agency_email: page.agency_email,
        }
    }
    match BookingLink::product_named(link).unwrap_or_default() {
        Product::Practical => decode::<ManagedBooking<BookingDetail>>(text).map(wrap),
        Product::VirtualBls => decode::<ManagedBooking<VirtualBooking>>(text).map(wrap),
    }
}

/// Reads a successful answer; an empty body reads as JSON `null`.
fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let text = if text.is_empty() { "null" } else { text };
    booking_core::json::from_str(text).map_err(|error| ApiError::Decode(error.to_string()))
}

impl BookingApi for HttpApi {
    fn options(&self, product: Product) -> ApiFuture<'_, WidgetOptions> {
        let pending = self.get_text(format!("{}{}", route::OPTIONS, product_query(product)));
        Box::pin(async move {
            let options: WidgetOptions = decode(&pending.await?)?;
            if let Some(session) = &options.session {
                crate::browser::session_set(&session_key(&self.base), session);
                *self.session.borrow_mut() = Some(session.clone());
            }
            Ok(options)
        })
    }

    fn courses(&self, product: Product) -> ApiFuture<'_, Vec<Course>> {
        let early = self.early_courses.borrow_mut().take();
        if let Some((_, courses)) = early.filter(|(early, _)| *early == product) {
            return Box::pin(async move { Ok(courses) });
        }
        decoded(self.get_text(format!("{}{}", route::COURSES, product_query(product))))
    }

    fn timeslots(
        &self,
        course_id: u64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiFuture<'_, Vec<Timeslot>> {
        decoded(self.get_text(format!(
            "{}?course_id={course_id}&date_from={from}&date_to={to}",
            route::TIMESLOTS
        )))
    }

    fn hold_timeslot(&self, request: SlotHoldRequest) -> ApiFuture<'_, HeldTimeslot> {
        decoded(self.post_text(route::TIMESLOT_HOLDS, &request, None))
    }

    fn training_events(&self, course_id: u64) -> ApiFuture<'_, Vec<TrainingEvent>> {
        decoded(self.get_text(format!("{}?course_id={course_id}", route::TRAINING_EVENTS)))
    }

    fn hold(&self, request: HoldRequest) -> ApiFuture<'_, HeldSeat> {
        decoded(self.post_text(route::HOLDS, &request, None))
    }

    fn unusable_pay_options(
        &self,
        hold_ref: String,
        course_id: u64,
        cost: Option<Money>,
    ) -> ApiFuture<'_, Vec<PayOption>> {
        let mut path = format!(
            "{}?course_id={course_id}",
            route::with_ref(route::HOLD_PAY_OPTIONS, &hold_ref)
        );
        if let Some(Money(pence)) = cost {
            path.push_str(&format!("&cost={pence}"));
        }
        let pending = self.get_text(path);
        Box::pin(async move {
            decode::<UnusablePayOptions>(&pending.await?).map(|answer| answer.cannot_pay_with)
        })
    }

    fn release(&self, hold_ref: String) -> ApiFuture<'_, ()> {
        let path = route::with_ref(route::HOLD, &hold_ref);
        Box::pin(async move {
            let answer = self.exchange("DELETE", &path, None, None, None).await?;
            decode(&answer.into_result()?)
        })
    }

    fn release_on_exit(&self, hold_ref: &str, page_hidden: bool) {
        let Some(session) = self.session.borrow().clone() else {
            return;
        };
        let beacon = ReleaseBeacon {
            session,
            hold_ref: hold_ref.to_owned(),
            page_hidden,
        };
        if let Ok(body) = serde_json::to_string(&beacon) {
            crate::browser::send_beacon(&self.url(route::RELEASE_BEACON), &body);
        }
    }

    fn create_booking(
        &self,
        request: BookingRequest,
        idempotency_key: String,
        product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>> {
        let pending = self.post_text(route::BOOKINGS, &request, Some(idempotency_key));
        Box::pin(async move { receipt(&pending.await?, product) })
    }

    fn booking(
        &self,
        booking_ref: String,
        product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>> {
        let pending = self.get_text(route::with_ref(route::BOOKING, &booking_ref));
        Box::pin(async move { receipt(&pending.await?, product) })
    }

    fn managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>> {
        let pending = self.get_text(route::with_ref(route::MANAGED_BOOKING, &link));
        Box::pin(async move { managed(&pending.await?, &link) })
    }

    fn cancel_managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>> {
        let path = route::with_ref(route::MANAGED_CANCEL, &link);
        Box::pin(async move {
            let answer = self.exchange("POST", &path, None, None, None).await?;
            managed(&answer.into_result()?, &link)
        })
    }

    fn other_dates(&self, link: String) -> ApiFuture<'_, Vec<TrainingEvent>> {
        decoded(self.get_text(route::with_ref(route::MANAGED_DATES, &link)))
    }

    fn move_managed_booking(
        &self,
        link: String,
        event_id: u64,
        idempotency_key: String,
    ) -> ApiFuture<'_, MovedBooking<Booked>> {
        let path = route::with_ref(route::MANAGED_MOVE, &link);
        Box::pin(async move {
            let body = serde_json::to_string(&MoveRequest {
                training_event_id: event_id,
            })
            .map_err(|_| ApiError::Decode("the request could not be written".to_owned()))?;
            let answer = self
                .exchange("POST", &path, Some(&body), Some(&idempotency_key), None)
                .await?;
            let moved: MovedBooking<BookingDetail> = decode(&answer.into_result()?)?;
            Ok(MovedBooking {
                page: ManagedBooking {
                    booking: moved.page.booking.into(),
                    cancel: moved.page.cancel,
                    agency_email: moved.page.agency_email,
                },
                manage_link: moved.manage_link,
                old_booking_kept: moved.old_booking_kept,
            })
        })
    }

    fn certificate_url(&self, link: &str) -> String {
        self.url(&route::with_ref(route::MANAGED_CERTIFICATE, link))
    }

    fn on_queue_wait(&self, listener: QueueListener) {
        *self.queue_listener.borrow_mut() = Some(listener);
    }
}
