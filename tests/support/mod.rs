//! An in-memory gateway behind the widget's `BookingApi` trait, and helpers
//! to drive the mounted widget as a person would: find buttons by their
//! text, type into labelled fields, press keys. Each test file uses a part
//! of it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use booking_core::api::bls::{
    EquipmentStatus, HeldSlot, Timeslot, TimeslotHold, TrainingStatus, VirtualBooking,
    VirtualCandidate, VirtualSession,
};
use booking_core::api::{
    BookingDetail, BookingStatus, Candidate, Course, CourseRef, HeldEvent, Location, Money,
    PayOption, PayStatus, SeatHold, TrainingEvent,
};
use booking_core::flow::Booked;
use booking_core::product::Product;
use booking_core::uk_time::{to_uk, uk_local};
use booking_core::widget_api::{
    BookingReceipt, BookingRequest, ErrorAnswer, HeldSeat, HeldTimeslot, HoldRequest,
    ManagedBooking, MovedBooking, SlotHoldRequest, WidgetOptions,
};
use booking_widget::api::{ApiError, ApiFuture, BookingApi};
use booking_widget::config::WidgetConfig;
use booking_widget::WidgetHandle;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use wasm_bindgen::JsCast;

/// The course the fixtures book.
pub const COURSE: u64 = 2;

/// A scripted answer that replaces the default one for the next call.
pub type Scripted<T> = RefCell<VecDeque<Result<T, ApiError>>>;

/// The in-memory gateway: sensible answers by default, scripted ones first.
#[derive(Default)]
pub struct FakeGateway {
    /// Every call, in order ("hold 41", "release ref-41", ...).
    pub calls: RefCell<Vec<String>>,
    /// Pay options the gateway allows.
    pub pay_options: RefCell<Vec<PayOption>>,
    /// Scripted answers to `courses`.
    pub courses: Scripted<Vec<Course>>,
    /// Scripted answers to `training_events`.
    pub training_events: Scripted<Vec<TrainingEvent>>,
    /// Scripted answers to `timeslots`.
    pub timeslots: Scripted<Vec<Timeslot>>,
    /// Scripted answers to `hold`.
    pub holds: Scripted<HeldSeat>,
    /// Scripted answers to `create_booking`.
    pub bookings: Scripted<BookingReceipt>,
    /// Scripted answers to `release`.
    pub releases: Scripted<()>,
    /// The `hold_ref` each hold request offered.
    pub offered_refs: RefCell<Vec<Option<String>>>,
    /// Seconds a granted hold lasts.
    pub hold_seconds: RefCell<Option<i64>>,
    /// The payment page of candidate-pays bookings.
    pub payment_url: RefCell<Option<String>>,
    /// Idempotency keys of create-booking calls.
    pub keys: RefCell<Vec<String>>,
    /// The events the gateway lists and holds seats on.
    pub timetable: RefCell<Vec<TrainingEvent>>,
    /// The Virtual BLS timeslots the gateway lists and holds.
    pub slots: RefCell<Vec<Timeslot>>,
    /// The products the gateway books.
    pub products: RefCell<Vec<Product>>,
    /// Scripted answers to reading a booking through its link.
    pub managed: Scripted<ManagedBooking<Booked>>,
    /// Scripted answers to cancelling a booking through its link.
    pub cancels: Scripted<ManagedBooking<Booked>>,
    /// What the gateway says the account cannot pay with, for any hold.
    pub cannot_pay_with: RefCell<Vec<PayOption>>,
    /// Scripted answers to the other dates a booking may move to.
    pub other_dates: Scripted<Vec<TrainingEvent>>,
    /// Scripted answers to moving a booking to another date.
    pub moves: Scripted<MovedBooking<Booked>>,
}

/// The Virtual BLS course the fixtures book.
pub const BLS_COURSE: u64 = 41;

/// A Virtual BLS timeslot `days` from today at `hour:minute` UK time, an
/// hour long, with `free` trainers.
pub fn slot(days: i64, hour: u32, minute: u32, free: u32) -> Timeslot {
    let date = to_uk(now()).date_naive() + Duration::days(days);
    let start = uk_local(date, hour, minute).unwrap();
    Timeslot {
        date: date.format("%Y-%m-%d").to_string(),
        time: format!("{hour:02}:{minute:02}"),
        course: CourseRef {
            id: BLS_COURSE,
            name: "BLS Annual Update (Virtual)".into(),
        },
        start_date: Some(start),
        end_date: Some(start + Duration::minutes(60)),
        remaining_slots: Some(free),
        cost_inc_vat: Some(Money(5500)),
    }
}

/// The timeslots every Virtual BLS test sees: two on one day, one on
/// another, one with no trainer free, and one five weeks ahead.
pub fn timeslots() -> Vec<Timeslot> {
    vec![
        slot(5, 9, 0, 2),
        slot(5, 13, 30, 1),
        slot(6, 10, 30, 1),
        slot(7, 9, 0, 0),
        slot(36, 9, 0, 2),
    ]
}

/// Now, as the browser's clock says.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap()
}

/// An event `days` from today at a venue, 09:30 to 16:30 UK time.
pub fn event(id: u64, days: i64, location: u64, seats: u32) -> TrainingEvent {
    let date = to_uk(now()).date_naive() + Duration::days(days);
    let (name, address) = match location {
        5 => ("Leeds", "Unit 4, Aire Street, Leeds"),
        _ => ("York", "Station Rise, York"),
    };
    TrainingEvent {
        id,
        course: CourseRef {
            id: COURSE,
            name: "Moving & Handling Practical".into(),
        },
        location: Location {
            id: location,
            name: name.into(),
            address: address.into(),
        },
        start_date: uk_local(date, 9, 30).unwrap(),
        end_date: uk_local(date, 16, 30).unwrap(),
        remaining_slots: seats,
        cost_inc_vat: Money(9500),
        booking_url: String::new(),
        busy_for_seconds: None,
    }
}

/// The events every test sees: two venues, one full event.
pub fn events() -> Vec<TrainingEvent> {
    vec![
        event(41, 3, 5, 4),
        event(42, 3, 6, 2),
        event(43, 4, 5, 0),
        event(44, 10, 6, 8),
    ]
}

/// A gateway error with a status and message.
pub fn status(code: u16, message: &str) -> ApiError {
    let body = serde_json::json!({ "message": message });
    ApiError::Status(ErrorAnswer::read(code, &body.to_string()))
}

/// A 422 naming one field.
pub fn field_error(field: &str, message: &str) -> ApiError {
    let body = serde_json::json!({ "message": message, "errors": { field: [message] } });
    ApiError::Status(ErrorAnswer::read(422, &body.to_string()))
}

fn ready<'a, T: 'a>(answer: Result<T, ApiError>) -> ApiFuture<'a, T> {
    Box::pin(async move { answer })
}

impl FakeGateway {
    /// A gateway allowing credits and card payments.
    pub fn new() -> Rc<FakeGateway> {
        let gateway = FakeGateway::default();
        *gateway.pay_options.borrow_mut() = vec![PayOption::Credits, PayOption::CandidatePays];
        *gateway.timetable.borrow_mut() = events();
        *gateway.slots.borrow_mut() = timeslots();
        *gateway.products.borrow_mut() = vec![Product::Practical, Product::VirtualBls];
        Rc::new(gateway)
    }

    /// The Virtual BLS booking a request makes.
    fn virtual_booking_for(&self, request: &BookingRequest) -> VirtualBooking {
        let held = slot(5, 9, 0, 2);
        let pending = request.pay_option == PayOption::CandidatePays;
        VirtualBooking {
            id: 7731,
            candidate: VirtualCandidate {
                name: format!("{} {}", request.first_name, request.last_name),
                email: request.email.clone(),
                phone: request.phone.clone(),
            },
            start_date: held.start().expect("a start"),
            course: held.course,
            trainer: None,
            end_date: held.end_date.expect("an end"),
            booking_status: if pending {
                BookingStatus::Pending
            } else {
                BookingStatus::Booked
            },
            pay_status: if pending {
                PayStatus::Pending
            } else {
                PayStatus::Completed
            },
            pay_option: request.pay_option.clone(),
            booked_by: "Agency".into(),
            session: VirtualSession {
                zoom_id: "845 112 9034".into(),
                zoom_link: "https://zoom.us/j/8451129034".into(),
                zoom_password: "k7Tq2w".into(),
            },
            training_status: Some(TrainingStatus::Scheduled),
            equipment_status: Some(EquipmentStatus::Pending),
            certificate_available: false,
            created_at: now().fixed_offset(),
            payment_url: pending.then(|| self.payment_url.borrow().clone()).flatten(),
        }
    }

    /// The first event of the timetable that `wanted` picks.
    fn find_event(&self, wanted: impl Fn(&TrainingEvent) -> bool) -> Option<TrainingEvent> {
        self.timetable
            .borrow()
            .iter()
            .find(|event| wanted(event))
            .cloned()
    }

    fn log(&self, call: String) {
        self.calls.borrow_mut().push(call);
    }

    /// The calls whose text starts with `prefix`.
    pub fn calls_to(&self, prefix: &str) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .filter(|call| call.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn booking_for(&self, request: &BookingRequest) -> BookingDetail {
        let event = self
            .find_event(|event| request.hold_ref == format!("ref-{}", event.id))
            .unwrap_or_else(|| event(41, 3, 5, 4));
        let pending = request.pay_option == PayOption::CandidatePays;
        BookingDetail {
            id: 9001,
            candidate: Candidate {
                name: format!("{} {}", request.first_name, request.last_name),
                email: request.email.clone(),
                phone: request.phone.clone(),
                job_role: request.job_role.clone(),
            },
            course: event.course.clone(),
            location: event.location.clone(),
            trainer: None,
            start_date: event.start_date,
            end_date: event.end_date,
            booking_status: if pending {
                BookingStatus::Pending
            } else {
                BookingStatus::Booked
            },
            pay_status: if pending {
                PayStatus::Pending
            } else {
                PayStatus::Completed
            },
            pay_option: request.pay_option.clone(),
            booked_by: "Agency".into(),
            attendance: None,
            certificate_available: false,
            created_at: now().fixed_offset(),
            payment_url: pending.then(|| self.payment_url.borrow().clone()).flatten(),
        }
    }
}

impl BookingApi for FakeGateway {
    fn options(&self, product: Product) -> ApiFuture<'_, WidgetOptions> {
        self.log(format!("options {product}"));
        let payment_origin = match product {
            Product::Practical => "https://checkout.stripe.com",
            Product::VirtualBls => "https://www.paypal.com",
        };
        ready(Ok(WidgetOptions {
            account_name: "Northwest Care Staffing".into(),
            pay_options: self.pay_options.borrow().clone(),
            payment_origins: vec![payment_origin.into()],
            session: Some("session-1".into()),
            products: self.products.borrow().clone(),
        }))
    }

    fn courses(&self, product: Product) -> ApiFuture<'_, Vec<Course>> {
        self.log(format!("courses {product}"));
        let scripted = self.courses.borrow_mut().pop_front();
        if product == Product::VirtualBls {
            return ready(scripted.unwrap_or_else(|| {
                Ok(vec![Course {
                    id: BLS_COURSE,
                    name: "BLS Annual Update (Virtual)".into(),
                    description: None,
                    duration_minutes: Some(60),
                    cost_inc_vat: Some(Money(5500)),
                    requires_review: false,
                }])
            }));
        }
        ready(scripted.unwrap_or_else(|| {
            Ok(vec![
                Course {
                    id: COURSE,
                    name: "Moving & Handling Practical".into(),
                    description: None,
                    duration_minutes: Some(420),
                    cost_inc_vat: Some(Money(9500)),
                    requires_review: false,
                },
                Course {
                    id: 3,
                    name: "PMVA <img src=x onerror=alert(1)>".into(),
                    description: None,
                    duration_minutes: None,
                    cost_inc_vat: None,
                    requires_review: true,
                },
            ])
        }))
    }

    fn training_events(&self, course_id: u64) -> ApiFuture<'_, Vec<TrainingEvent>> {
        self.log(format!("events {course_id}"));
        let scripted = self.training_events.borrow_mut().pop_front();
        ready(scripted.unwrap_or_else(|| Ok(self.timetable.borrow().clone())))
    }

    fn timeslots(
        &self,
        course_id: u64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ApiFuture<'_, Vec<Timeslot>> {
        self.log(format!("timeslots {course_id} {from} {to}"));
        if let Some(scripted) = self.timeslots.borrow_mut().pop_front() {
            return ready(scripted);
        }
        let (from, to) = (from.to_string(), to.to_string());
        ready(Ok(self
            .slots
            .borrow()
            .iter()
            .filter(|slot| slot.course.id == course_id && slot.date >= from && slot.date <= to)
            .cloned()
            .collect()))
    }

    fn hold_timeslot(&self, request: SlotHoldRequest) -> ApiFuture<'_, HeldTimeslot> {
        self.log(format!("hold-slot {} {}", request.date, request.time));
        self.offered_refs
            .borrow_mut()
            .push(request.hold_ref.clone());
        let seconds = self.hold_seconds.borrow().unwrap_or(1800);
        let held = self
            .slots
            .borrow()
            .iter()
            .find(|slot| slot.date == request.date && slot.time == request.time)
            .cloned()
            .expect("a listed timeslot");
        ready(Ok(HeldTimeslot {
            hold_ref: format!("ref-{}-{}", held.date, held.time),
            hold: TimeslotHold {
                hold_hash: "upstream-slot-hash".into(),
                expires_at: (now() + Duration::seconds(seconds)).fixed_offset(),
                expires_in_seconds: seconds,
                slot: HeldSlot {
                    date: held.date,
                    time: held.time,
                    course: held.course,
                },
            },
        }))
    }

    fn hold(&self, request: HoldRequest) -> ApiFuture<'_, HeldSeat> {
        self.log(format!("hold {}", request.event_id));
        self.offered_refs
            .borrow_mut()
            .push(request.hold_ref.clone());
        let scripted = self.holds.borrow_mut().pop_front();
        let seconds = self.hold_seconds.borrow().unwrap_or(1800);
        ready(scripted.unwrap_or_else(|| {
            let event = self
                .find_event(|event| event.id == request.event_id)
                .expect("a known event");
            Ok(HeldSeat {
                hold_ref: format!("ref-{}", event.id),
                hold: SeatHold {
                    hold_hash: "upstream-hash".into(),
                    expires_at: (now() + Duration::seconds(seconds)).fixed_offset(),
                    expires_in_seconds: seconds,
                    training_event: HeldEvent {
                        id: event.id,
                        course: event.course.name.clone(),
                        location: event.location.name.clone(),
                        start_date: event.start_date,
                    },
                },
            })
        }))
    }

    fn release(&self, hold_ref: String) -> ApiFuture<'_, ()> {
        self.log(format!("release {hold_ref}"));
        let scripted = self.releases.borrow_mut().pop_front();
        ready(scripted.unwrap_or(Ok(())))
    }

    fn release_on_exit(&self, hold_ref: &str, page_hidden: bool) {
        let when = if page_hidden {
            "page hidden"
        } else {
            "removed"
        };
        self.log(format!("beacon {hold_ref} ({when})"));
    }

    fn create_booking(
        &self,
        request: BookingRequest,
        idempotency_key: String,
        product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>> {
        self.log(format!("book {}", request.pay_option));
        self.keys.borrow_mut().push(idempotency_key);
        let scripted = self.bookings.borrow_mut().pop_front();
        let booking: Booked = match product {
            Product::Practical => self.booking_for(&request).into(),
            Product::VirtualBls => self.virtual_booking_for(&request).into(),
        };
        ready(match scripted {
            Some(answer) => answer.map(|receipt| BookingReceipt {
                booking_ref: receipt.booking_ref,
                booking: receipt.booking.into(),
                manage_link: receipt.manage_link,
            }),
            None => Ok(BookingReceipt {
                booking_ref: "booking-ref-9001".into(),
                booking,
                manage_link: None,
            }),
        })
    }

    fn booking(
        &self,
        booking_ref: String,
        _product: Product,
    ) -> ApiFuture<'_, BookingReceipt<Booked>> {
        self.log(format!("booking {booking_ref}"));
        ready(Err(status(404, "Not found.")))
    }

    fn managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>> {
        self.log(format!("managed {link}"));
        ready(
            self.managed
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(status(404, "This booking link is not valid."))),
        )
    }

    fn cancel_managed_booking(&self, link: String) -> ApiFuture<'_, ManagedBooking<Booked>> {
        self.log(format!("cancel {link}"));
        ready(
            self.cancels
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(status(404, "This booking link is not valid."))),
        )
    }

    fn unusable_pay_options(
        &self,
        hold_ref: String,
        course_id: u64,
        _cost: Option<Money>,
    ) -> ApiFuture<'_, Vec<PayOption>> {
        self.log(format!("pay-options {hold_ref} {course_id}"));
        ready(Ok(self.cannot_pay_with.borrow().clone()))
    }

    fn other_dates(&self, link: String) -> ApiFuture<'_, Vec<TrainingEvent>> {
        self.log(format!("dates {link}"));
        ready(
            self.other_dates
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Ok(Vec::new())),
        )
    }

    fn move_managed_booking(
        &self,
        link: String,
        event_id: u64,
        idempotency_key: String,
    ) -> ApiFuture<'_, MovedBooking<Booked>> {
        self.log(format!("move {link} to {event_id}"));
        self.keys.borrow_mut().push(idempotency_key);
        ready(
            self.moves
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(status(404, "This booking link is not valid."))),
        )
    }

    fn certificate_url(&self, link: &str) -> String {
        format!("/api/manage/{link}/certificate")
    }
}

/// A mounted widget and the in-memory gateway behind it.
pub struct Mounted {
    /// The element the widget renders into.
    pub root: web_sys::HtmlElement,
    /// The gateway.
    pub gateway: Rc<FakeGateway>,
    /// Host page events seen on the root, as "name detail-json".
    pub events: Rc<RefCell<Vec<String>>>,
    _handle: WidgetHandle,
    _listeners: Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::CustomEvent)>>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

/// Mounts the widget with a gateway and settings on a fresh tab (its
/// `sessionStorage` cleared), and waits for it to load.
pub async fn mount_with(gateway: Rc<FakeGateway>, config: WidgetConfig) -> Mounted {
    let window = web_sys::window().unwrap();
    if let Ok(Some(storage)) = window.session_storage() {
        storage.clear().unwrap();
    }
    mount_in_this_tab(gateway, config).await
}

/// Mounts the widget as a reloaded page would, with what the tab's
/// `sessionStorage` kept, and waits for it to load.
pub async fn mount_in_this_tab(gateway: Rc<FakeGateway>, config: WidgetConfig) -> Mounted {
    let window = web_sys::window().unwrap();
    let document = window.document().unwrap();
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let mut listeners = Vec::new();
    for name in booking_core::flow::HostEvent::NAMES {
        let seen = Rc::clone(&events);
        let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(
            move |event: web_sys::CustomEvent| {
                let detail = js_sys::JSON::stringify(&event.detail())
                    .map(String::from)
                    .unwrap_or_default();
                seen.borrow_mut()
                    .push(format!("{} {detail}", event.type_()));
            },
        );
        root.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
            .unwrap();
        listeners.push(listener);
    }
    let api: Rc<dyn BookingApi> = gateway.clone();
    let handle = booking_widget::mount_with(root.clone(), config, api);
    let mounted = Mounted {
        root,
        gateway,
        events,
        _handle: handle,
        _listeners: listeners,
    };
    settle().await;
    mounted
}

/// Mounts the widget with default settings.
pub async fn mount(gateway: Rc<FakeGateway>) -> Mounted {
    mount_with(gateway, WidgetConfig::default()).await
}

/// Microtask rounds a reaction may take: an intent, its effect, the
/// in-memory gateway's answer, the outcome and the DOM update each take one
/// or two.
const TICKS: usize = 12;

/// Lets the widget finish reacting to what the test did: spawned tasks and
/// effects (microtasks), then the animation frame in which focus moves, then
/// whatever that started. No fixed sleeps: a settled widget costs a frame
/// or two, not a timer.
pub async fn settle() {
    for _ in 0..2 {
        for _ in 0..TICKS {
            leptos::task::tick().await;
        }
        next_frame().await;
    }
    for _ in 0..TICKS {
        leptos::task::tick().await;
    }
}

/// Resolves at the browser's next animation frame.
pub async fn next_frame() {
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
}

/// Waits until `ready` holds, checking at every animation frame for up to
/// `seconds`, for what runs on a real timer (the hold's one-second tick).
pub async fn until(what: &str, seconds: f64, ready: impl Fn() -> bool) {
    let deadline = js_sys::Date::now() + seconds * 1000.0;
    while !ready() {
        assert!(
            js_sys::Date::now() < deadline,
            "timed out waiting for {what}"
        );
        next_frame().await;
    }
    settle().await;
}

impl Mounted {
    /// The step heading's text.
    pub fn heading(&self) -> String {
        self.root
            .query_selector("h2")
            .unwrap()
            .map(|heading| heading.text_content().unwrap_or_default())
            .unwrap_or_default()
    }

    /// The widget's visible text.
    pub fn text(&self) -> String {
        self.root.text_content().unwrap_or_default()
    }

    /// Every element matching a selector.
    pub fn all(&self, selector: &str) -> Vec<web_sys::HtmlElement> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length())
            .filter_map(|index| list.item(index))
            .map(|node| node.unchecked_into())
            .collect()
    }

    /// The first element matching a selector.
    pub fn one(&self, selector: &str) -> web_sys::HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("nothing matches {selector}"))
            .unchecked_into()
    }

    /// The button whose text contains `text`.
    pub fn button(&self, text: &str) -> web_sys::HtmlElement {
        self.all("button")
            .into_iter()
            .find(|button| button.text_content().unwrap_or_default().contains(text))
            .unwrap_or_else(|| panic!("no button with {text:?} in {:?}", self.text()))
    }

    /// Whether a button with `text` is shown.
    pub fn has_button(&self, text: &str) -> bool {
        self.all("button")
            .iter()
            .any(|button| button.text_content().unwrap_or_default().contains(text))
    }

    /// Clicks the button whose text contains `text`, and waits.
    pub async fn click(&self, text: &str) {
        self.button(text).click();
        settle().await;
    }

    /// The input labelled `label`.
    pub fn field(&self, label: &str) -> web_sys::HtmlInputElement {
        let label_element = self
            .all("label")
            .into_iter()
            .find(|element| {
                element
                    .text_content()
                    .unwrap_or_default()
                    .starts_with(label)
            })
            .unwrap_or_else(|| panic!("no label {label:?}"));
        let id = label_element.get_attribute("for").expect("label has a for");
        self.one(&format!("#{id}")).unchecked_into()
    }

    /// Types `value` into the field labelled `label` (input event).
    pub async fn type_into(&self, label: &str, value: &str) {
        let input = self.field(label);
        input.set_value(value);
        let event = web_sys::Event::new("input").unwrap();
        input.dispatch_event(&event).unwrap();
        settle().await;
    }

    /// Presses a key on an element (keydown).
    pub async fn press(&self, element: &web_sys::HtmlElement, key: &str) {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let event =
            web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        element.dispatch_event(&event).unwrap();
        settle().await;
    }

    /// The element that has focus inside the widget.
    pub fn focused(&self) -> Option<web_sys::Element> {
        web_sys::window()?.document()?.active_element()
    }

    /// Host page event names seen so far.
    pub fn event_names(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .map(|event| event.split(' ').next().unwrap_or_default().to_owned())
            .collect()
    }

    /// Goes from the first step to the details step, holding event 41.
    pub async fn hold_first_event(&self) {
        self.click("Moving & Handling").await;
        self.click("Leeds").await;
        self.choose_event("09:30 to 16:30").await;
        assert_eq!(self.heading(), "Your details");
    }

    /// Clicks the first bookable event whose text contains `text`.
    pub async fn choose_event(&self, text: &str) {
        let event = self
            .all("button.hbg-choice")
            .into_iter()
            .find(|button| button.text_content().unwrap_or_default().contains(text))
            .unwrap_or_else(|| panic!("no event {text:?}"));
        event.click();
        settle().await;
    }

    /// Fills the candidate form with valid details and continues.
    pub async fn fill_details(&self) {
        self.type_into("First name", "Priya").await;
        self.type_into("Last name", "Patel").await;
        self.type_into("Email address", "priya@example.com").await;
        self.type_into("Phone number", "07700 900123").await;
        self.click("Continue").await;
        assert_eq!(self.heading(), "How the booking is paid for");
    }

    /// Chooses a pay option by its label.
    pub async fn choose_pay_option(&self, value: &str) {
        let radio: web_sys::HtmlInputElement =
            self.one(&format!("#hbg-pay-{value}")).unchecked_into();
        radio.click();
        settle().await;
    }
}
