//! The widget's state and the one place where the flow's commands run.
//!
//! Components read [`WidgetState`] (from context) and send intents with
//! [`WidgetState::dispatch`]. Every input goes through `Flow::apply`; the
//! commands of one transition run in order in one task, each write awaited
//! before the next starts (a release must finish before the seat is held
//! again), and each API answer comes back as an [`Outcome`]. Reads the flow
//! asks for (a course's dates, a booking again) take the same road, each in
//! a task of its own so that nothing waits for them; the dates the flow
//! hands back are indexed once, here, for the calendars.
//!
//! The reads no step of the flow decides are the widget's own: the
//! gateway's options (which open the session and give the flow its redirect
//! policy), the product's courses, and a booking this tab left for the
//! payment page.

use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use booking_core::api::bls::Timeslot;
use booking_core::api::{Course, CourseRef, Money, TrainingEvent};
use booking_core::calendar::EventIndex;
use booking_core::flow::{
    BookingInProgress, Chosen, Command, Dates, Flow, GrantedHold, Input, Intent, Outcome, Place,
    Step,
};
use booking_core::product::Product;
use booking_core::redirect::PaymentRedirectPolicy;
use booking_core::slot_calendar::{slot_range, SlotIndex};
use booking_core::widget_api::{HoldRequest, QueuePlace, SlotHoldRequest, WidgetOptions};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, BookingApi};
use crate::browser;
use crate::config::WidgetConfig;
use crate::host::Host;

/// Something fetched: still loading, there, or failed with a reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    /// The request is in flight.
    Loading,
    /// The answer.
    Ready(T),
    /// Why it failed, as a sentence for people.
    Failed(String),
}

impl<T> Load<T> {
    /// How far the load has got, without its answer.
    pub fn progress(&self) -> Progress {
        match self {
            Load::Loading => Progress::Loading,
            Load::Ready(_) => Progress::Ready,
            Load::Failed(reason) => Progress::Failed(reason.clone()),
        }
    }
}

/// How far a [`Load`] has got: in flight, there, or failed (with the
/// sentence for people).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The request is in flight.
    Loading,
    /// The answer is there.
    Ready,
    /// Why it failed.
    Failed(String),
}

/// The booking in progress as kept in `sessionStorage` across the payment
/// page's redirect: ids and the session-bound reference only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredBooking {
    booking_id: u64,
    event_id: u64,
    booking_ref: String,
    #[serde(default)]
    product: Product,
}

/// The hold this tab's page had as it went away, kept in `sessionStorage`
/// so a reload takes it up again: what was chosen (public catalogue data)
/// and when, never the candidate's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredHold {
    product: Product,
    course: CourseRef,
    location: Option<u64>,
    event: Option<TrainingEvent>,
    slot: Option<Timeslot>,
    /// When the page went away, in Unix milliseconds.
    left_at_ms: i64,
}

/// How long after its page went away a stored hold is taken up again: a
/// hold's life; after it, the reloaded page starts afresh.
const STORED_HOLD_LIFE_MS: i64 = 30 * 60 * 1000;

/// The widget's state, shared through context. Cheap to copy.
#[derive(Clone, Copy)]
pub struct WidgetState {
    /// The booking flow.
    pub flow: RwSignal<Flow>,
    /// The flow's step, changing only when the step does.
    pub step: Memo<Step>,
    /// The gateway's options (pay options, agency name).
    pub options: RwSignal<Load<WidgetOptions>>,
    /// Active courses.
    pub courses: RwSignal<Load<Vec<Course>>>,
    /// The chosen course's events, indexed once per read the flow takes.
    pub events: RwSignal<Load<EventIndex>>,
    /// Seconds a hold or booking still waits its turn in the gateway's
    /// queue, while it does.
    pub queue_wait: RwSignal<Option<u32>>,
    /// The chosen Virtual BLS course's timeslots, indexed once per read
    /// the flow takes.
    pub slots: RwSignal<Load<SlotIndex>>,
    /// The product booked: the host page's, or the candidate's choice when
    /// the page offers several (`None` until then).
    pub product: RwSignal<Option<Product>>,
    /// Monotonic clock reading, updated every second while a seat is held.
    pub now_ms: RwSignal<f64>,
    /// The text of the `aria-live` region.
    pub announcement: RwSignal<String>,
    /// Whether the browser says it is online.
    pub online: RwSignal<bool>,
    /// Whether the step heading should take focus after the next render
    /// (not on the first render: the widget must not steal the page's focus).
    pub focus_heading: RwSignal<bool>,
    /// Whether the error summary should take focus after the next render
    /// (a step change that brings field errors, such as a server 422).
    pub focus_errors: RwSignal<bool>,
    api: StoredValue<Rc<dyn BookingApi>, LocalStorage>,
    host: StoredValue<Host, LocalStorage>,
    config: StoredValue<WidgetConfig, LocalStorage>,
    /// Session-bound references of the bookings made here, by booking id (a
    /// list: a tab makes one or two).
    booking_refs: StoredValue<Vec<(u64, String)>, LocalStorage>,
    preselected_location: StoredValue<Option<u64>, LocalStorage>,
    /// A hold whose release failed: offered with the next hold request, so
    /// the gateway can hand it back instead of calling it someone else's.
    unreleased: StoredValue<Option<String>, LocalStorage>,
}

impl WidgetState {
    /// Creates the state and starts loading the first steps' data.
    pub fn start(config: WidgetConfig, api: Rc<dyn BookingApi>, host: Host) -> WidgetState {
        let preselected_location = config.location;
        // Several products: the candidate chooses, unless this tab left a
        // booking of one of them for the payment page.
        let product = match config.products.as_slice() {
            [] => Some(Product::Practical),
            [only] => Some(*only),
            _ => stored_booking(&config).map(|stored| stored.product),
        };
        let flow = RwSignal::new(Flow::for_product(
            PaymentRedirectPolicy::default(),
            product.unwrap_or_default(),
        ));
        let queue_wait = RwSignal::new(None);
        let announcement = RwSignal::new(String::new());
        api.on_queue_wait(Rc::new(move |seconds: Option<u32>| {
            let was_waiting = queue_wait.try_get_untracked().flatten().is_some();
            if let (Some(seconds), false) = (seconds, was_waiting) {
                announcement.try_set(QueuePlace::wait_text(seconds));
            }
            queue_wait.try_set(seconds);
        }));
        let state = WidgetState {
            queue_wait,
            flow,
            step: Memo::new(move |_| flow.with(Flow::step)),
            options: RwSignal::new(Load::Loading),
            courses: RwSignal::new(Load::Loading),
            events: RwSignal::new(Load::Loading),
            slots: RwSignal::new(Load::Loading),
            product: RwSignal::new(product),
            now_ms: RwSignal::new(browser::monotonic_ms()),
            announcement,
            online: RwSignal::new(browser::is_online()),
            focus_heading: RwSignal::new(false),
            focus_errors: RwSignal::new(false),
            api: StoredValue::new_local(api),
            host: StoredValue::new_local(host),
            config: StoredValue::new_local(config),
            booking_refs: StoredValue::new_local(Vec::new()),
            preselected_location: StoredValue::new_local(preselected_location),
            unreleased: StoredValue::new_local(None),
        };
        if product.is_some() {
            state.load_options();
        }
        state
    }

    /// The product booked (Practical Training until one is chosen).
    pub fn product_now(self) -> Product {
        self.product.get_untracked().unwrap_or_default()
    }

    /// The candidate chose the product to book (when the host page offers
    /// several): its options and courses load, and its flow starts.
    pub fn choose_product(self, product: Product) {
        self.focus_heading.set(true);
        self.product.set(Some(product));
        self.courses.set(Load::Loading);
        self.load_options();
    }

    /// Runs `task` while the widget is mounted. A task woken after an
    /// unmount (an answer arriving once `widget.js` removed or remounted the
    /// widget) is dropped without being polled again, since the state it
    /// would touch is disposed and touching it would abort the module (and
    /// with it every widget on the page).
    fn spawn(self, task: impl Future<Output = ()> + 'static) {
        let mut task = Box::pin(task);
        spawn_local(std::future::poll_fn(move |context| {
            if self.flow.is_disposed() {
                return Poll::Ready(());
            }
            task.as_mut().poll(context)
        }));
    }

    fn api(self) -> Rc<dyn BookingApi> {
        self.api.with_value(Rc::clone)
    }

    /// The widget's settings.
    pub fn config(self) -> WidgetConfig {
        self.config.get_value()
    }

    /// Now, from the browser's wall clock (for past days and notice only;
    /// the hold countdown uses the monotonic clock).
    pub fn now_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(browser::wall_clock_ms() as i64).unwrap_or_default()
    }

    /// Sends an intent or outcome to the flow and runs its commands.
    pub fn dispatch(self, input: impl Into<Input>) {
        let transition = self.flow.with_untracked(|flow| flow.apply(input));
        if let Some(refusal) = transition.refused {
            leptos::logging::log!("hbg-booking: {}", refusal.reason());
        }
        let before = self.flow.with_untracked(Flow::step);
        if transition.flow.step() == Step::ChooseEvent && before == Step::ChooseLocation {
            browser::mark("hbg:location-chosen");
            browser::mark_after_render("hbg:calendar-shown");
        }
        if transition.flow.step() != before {
            self.announcement.set(String::new());
            if transition.flow.errors().is_empty() {
                self.focus_heading.set(true);
            } else {
                self.focus_errors.set(true);
            }
        }
        self.flow.set(transition.flow);
        if !transition.commands.is_empty() {
            self.spawn(self.run_commands(transition.commands));
        }
    }

    async fn run_commands(self, commands: Vec<Command>) {
        for command in commands {
            self.run(command).await;
        }
    }

    async fn run(self, command: Command) {
        match command {
            Command::Hold { place } => {
                let hold_ref = self
                    .flow
                    .with_untracked(|flow| {
                        flow.hold()
                            .filter(|hold| hold.place == place)
                            .map(|hold| hold.hold_ref.clone())
                    })
                    .or_else(|| self.unreleased.get_value());
                self.hold(place, hold_ref, false).await;
            }
            Command::RenewHold { place, hold_ref } => {
                self.hold(place, Some(hold_ref), true).await;
            }
            Command::Release { hold_ref } => {
                let released = self.api().release(hold_ref.clone()).await;
                let gone = matches!(&released, Ok(()))
                    || matches!(&released, Err(error) if error.status() == Some(404));
                self.unreleased.set_value((!gone).then_some(hold_ref));
                self.dispatch(Outcome::Released);
            }
            Command::CreateBooking {
                mut request,
                idempotency_key,
            } => {
                request.return_url = self
                    .config
                    .with_value(|config| config.return_url.clone())
                    .or_else(browser::page_url);
                let product = self.product_now();
                let outcome = match self
                    .api()
                    .create_booking(*request, idempotency_key, product)
                    .await
                {
                    Ok(receipt) => {
                        self.keep_booking_ref(receipt.booking.id(), receipt.booking_ref);
                        if let Some(url) = self.booking_page_url(receipt.manage_link.as_deref()) {
                            self.dispatch(Outcome::BookingPage(url));
                        }
                        Outcome::BookingCreated(Box::new(receipt.booking))
                    }
                    Err(ApiError::Status(answer)) => Outcome::booking_error(answer),
                    Err(error) => Outcome::BookingFailed(error.message()),
                };
                self.dispatch(outcome);
            }
            Command::Redirect { url } => browser::navigate_top(&url),
            Command::Emit(event) => self.host.with_value(|host| host.emit(&event)),
            Command::Announce(text) => self.announcement.set(text.to_owned()),
            Command::PersistBookingInProgress(progress) => self.remember(progress),
            Command::ClearBookingInProgress => browser::session_remove(&self.storage_key()),
            Command::LoadDates { course_id } => self.load_dates(course_id),
            Command::ShowDates(Dates::Events(events)) => {
                self.events.set(Load::Ready(EventIndex::new(events)));
            }
            Command::ShowDates(Dates::Timeslots(slots)) => {
                self.slots.set(Load::Ready(SlotIndex::new(slots)));
            }
            Command::ShowDatesFailed { reason } => match self.flow.with_untracked(Flow::product) {
                Product::Practical => self.events.set(Load::Failed(reason)),
                Product::VirtualBls => self.slots.set(Load::Failed(reason)),
            },
            Command::ReadBooking { booking_id } => self.read_booking(booking_id),
            Command::ReadPayOptions {
                hold_ref,
                course_id,
                cost,
            } => self.read_pay_options(hold_ref, course_id, cost),
        }
    }

    /// Reads which pay options the account cannot use for the held place,
    /// in a task of its own, and sends the flow the answer; an unanswered
    /// read changes nothing (every allowed option stays offered).
    fn read_pay_options(self, hold_ref: String, course_id: u64, cost: Option<Money>) {
        self.spawn(async move {
            let answer = self
                .api()
                .unusable_pay_options(hold_ref.clone(), course_id, cost)
                .await;
            if let Ok(cannot_pay_with) = answer {
                self.dispatch(Outcome::PayOptionsRead {
                    hold_ref,
                    cannot_pay_with,
                });
            }
        });
    }

    /// Reads what a course's calendar shows, in a task of its own, and sends
    /// the flow the answer: its events, all of them at once (switching month
    /// or location makes no request), or for Virtual BLS its timeslots in
    /// one read of the booking window ([`slot_range`]), so that moving
    /// between months and days makes no request either.
    fn load_dates(self, course_id: u64) {
        let product = self.flow.with_untracked(Flow::product);
        match product {
            Product::Practical => self.events.set(Load::Loading),
            Product::VirtualBls => self.slots.set(Load::Loading),
        }
        let (from, to) = slot_range(self.now_utc());
        self.spawn(async move {
            let answer = match product {
                Product::Practical => self
                    .api()
                    .training_events(course_id)
                    .await
                    .map(Dates::Events),
                Product::VirtualBls => self
                    .api()
                    .timeslots(course_id, from, to)
                    .await
                    .map(Dates::Timeslots),
            };
            self.dispatch(match answer {
                Ok(dates) => Outcome::DatesLoaded { course_id, dates },
                Err(error) => Outcome::DatesFailed {
                    course_id,
                    reason: error.message(),
                },
            });
        });
    }

    /// The address of a booking's own page: the page the widget is on (the
    /// host page's, in the iframe mode) with the booking's link.
    fn booking_page_url(self, link: Option<&str>) -> Option<String> {
        let page = self
            .config
            .with_value(|config| config.return_url.clone())
            .or_else(browser::page_url)?;
        Some(booking_core::manage::booking_page_url(&page, link?))
    }

    /// Reads a booking again, in a task of its own, and sends the flow its
    /// status; an unanswered read changes nothing.
    fn read_booking(self, booking_id: u64) {
        let Some(booking_ref) = self.booking_ref(booking_id) else {
            return;
        };
        let product = self.product_now();
        self.spawn(async move {
            if let Ok(receipt) = self.api().booking(booking_ref, product).await {
                if let Some(url) = self.booking_page_url(receipt.manage_link.as_deref()) {
                    self.dispatch(Outcome::BookingPage(url));
                }
                self.dispatch(Outcome::BookingStatus(Box::new(receipt.booking)));
            }
        });
    }

    /// Holds an event's seat or a timeslot (renewing `hold_ref` when
    /// asked), and sends the flow the answer.
    async fn hold(self, place: Place, hold_ref: Option<String>, renew: bool) {
        let answer: Result<GrantedHold, ApiError> = match place {
            Place::Event(event_id) => self
                .api()
                .hold(HoldRequest {
                    event_id,
                    hold_ref,
                    renew,
                })
                .await
                .map(GrantedHold::from),
            Place::Slot {
                course_id,
                date,
                time,
            } => self
                .api()
                .hold_timeslot(SlotHoldRequest {
                    course_id,
                    date,
                    time,
                    hold_ref,
                    renew,
                })
                .await
                .map(GrantedHold::from),
        };
        let received_at_ms = browser::monotonic_ms();
        let outcome = match answer {
            Ok(hold) => {
                if self
                    .unreleased
                    .with_value(|unreleased| unreleased.as_ref() == Some(&hold.hold_ref))
                {
                    self.unreleased.set_value(None);
                }
                Outcome::HoldGranted {
                    hold,
                    received_at_ms,
                }
            }
            Err(ApiError::Status(answer)) => Outcome::hold_error(answer, received_at_ms),
            Err(error) => Outcome::HoldFailed(error.message()),
        };
        self.dispatch(outcome);
    }

    fn keep_booking_ref(self, booking_id: u64, booking_ref: String) {
        self.booking_refs.update_value(|refs| {
            refs.retain(|(id, _)| *id != booking_id);
            refs.push((booking_id, booking_ref));
        });
    }

    fn booking_ref(self, booking_id: u64) -> Option<String> {
        self.booking_refs.with_value(|refs| {
            refs.iter()
                .find(|(id, _)| *id == booking_id)
                .map(|(_, booking_ref)| booking_ref.clone())
        })
    }

    fn storage_key(self) -> String {
        self.config.with_value(storage_key)
    }

    fn remember(self, progress: BookingInProgress) {
        let Some(booking_ref) = self.booking_ref(progress.booking_id) else {
            return;
        };
        let stored = StoredBooking {
            booking_id: progress.booking_id,
            event_id: progress.event_id,
            booking_ref,
            product: progress.product,
        };
        if let Ok(json) = serde_json::to_string(&stored) {
            browser::session_set(&self.storage_key(), &json);
        }
    }

    /// Loads the gateway's options (which open the session), then the
    /// courses, and starts the flow (resuming a booking this tab left for
    /// the payment page, if any).
    pub fn load_options(self) {
        self.options.set(Load::Loading);
        let product = self.product_now();
        self.spawn(async move {
            match self.api().options(product).await {
                Ok(options) => {
                    let policy = PaymentRedirectPolicy {
                        allowed_origins: options.payment_origins.clone(),
                    };
                    self.options.set(Load::Ready(options));
                    if !matches!(self.courses.get_untracked(), Load::Ready(_)) {
                        self.load_courses();
                    }
                    self.begin(policy).await;
                }
                Err(error) => self.options.set(Load::Failed(error.message())),
            }
        });
    }

    async fn begin(self, policy: PaymentRedirectPolicy) {
        let stored = self.config.with_value(stored_booking);
        if let Some(stored) = stored {
            match self
                .api()
                .booking(stored.booking_ref.clone(), stored.product)
                .await
            {
                Ok(receipt) => {
                    self.product.set(Some(stored.product));
                    self.keep_booking_ref(receipt.booking.id(), stored.booking_ref);
                    let page = self.booking_page_url(receipt.manage_link.as_deref());
                    let transition = Flow::resume_with_page(policy, receipt.booking, page);
                    self.flow.set(transition.flow);
                    self.run_commands(transition.commands).await;
                    return;
                }
                Err(error) if error.status() == Some(404) => {
                    browser::session_remove(&self.storage_key());
                }
                Err(_) => {
                    self.options
                        .set(Load::Failed(ApiError::BookingUnread.message()));
                    return;
                }
            }
        }
        let transition = Flow::start_for(policy, self.product_now());
        self.flow.set(transition.flow);
        self.run_commands(transition.commands).await;
        let prefill = self.config.with_value(|config| config.prefill.clone());
        if !prefill.is_empty() {
            self.dispatch(Intent::EditForm(prefill.form()));
        }
        if !self.resume_hold() {
            self.preselect_course();
        }
    }

    /// Loads the active courses.
    pub fn load_courses(self) {
        self.courses.set(Load::Loading);
        let product = self.product_now();
        self.spawn(async move {
            let answer = self.api().courses(product).await;
            if answer.is_ok() {
                browser::mark_after_render("hbg:interactive");
            }
            self.courses.set(match answer {
                Ok(courses) => Load::Ready(courses),
                Err(error) => Load::Failed(error.message()),
            });
            self.preselect_course();
        });
    }

    /// Chooses the course the host page asked for, once the courses and the
    /// flow are both ready.
    fn preselect_course(self) {
        let Some(wanted) = self.config.with_value(|config| config.course) else {
            return;
        };
        if self.flow.with_untracked(Flow::step) != Step::ChooseCourse
            || self
                .options
                .with_untracked(|options| !matches!(options, Load::Ready(_)))
        {
            return;
        }
        let course = self.courses.with_untracked(|courses| match courses {
            Load::Ready(courses) => courses.iter().find(|course| course.id == wanted).cloned(),
            _ => None,
        });
        match course {
            Some(course) => self.dispatch(Intent::ChooseCourse(course_ref(&course))),
            None if matches!(self.courses.get_untracked(), Load::Ready(_)) => {
                leptos::logging::warn!(
                    "hbg-booking: course {wanted} is not offered; showing every course"
                );
            }
            None => {}
        }
    }

    /// The location the host page asked for, handed out once: going back to
    /// the location step later shows every location.
    pub fn take_preselected_location(self) -> Option<u64> {
        let mut wanted = None;
        self.preselected_location
            .update_value(|location| wanted = location.take());
        wanted
    }

    /// Releases the held seat as the widget is removed from a page that
    /// stays.
    pub fn release_on_exit(self) {
        if let Some(hold_ref) = self
            .flow
            .with_untracked(|flow| flow.hold().map(|hold| hold.hold_ref.clone()))
        {
            self.api().release_on_exit(&hold_ref, false);
        }
    }

    /// Lets the held seat go as the page goes away (`pagehide`): the
    /// gateway waits a little before it releases it, and what was chosen is
    /// kept in `sessionStorage`, so a reloaded page takes the same hold up
    /// again ([`WidgetState::resume_hold`]).
    pub fn leave_page(self) {
        let Some((hold_ref, stored)) = self.flow.with_untracked(|flow| {
            let hold = flow.hold()?;
            let (event, slot) = match flow.chosen()? {
                Chosen::Event(event) => (Some(event.clone()), None),
                Chosen::Slot(slot) => (None, Some(slot.clone())),
            };
            let stored = StoredHold {
                product: flow.product(),
                course: flow.course()?.clone(),
                location: flow.location(),
                event,
                slot,
                left_at_ms: self.now_utc().timestamp_millis(),
            };
            Some((hold.hold_ref.clone(), stored))
        }) else {
            return;
        };
        if let Ok(json) = serde_json::to_string(&stored) {
            browser::session_set(&self.hold_storage_key(), &json);
        }
        self.api().release_on_exit(&hold_ref, true);
    }

    fn hold_storage_key(self) -> String {
        format!("{}:hold", self.storage_key())
    }

    /// Takes up the hold this tab's page had before it was reloaded: the
    /// same choices again, so the flow asks for the same place and the
    /// gateway hands back the session's own hold, its countdown where it
    /// was. Once only: the stored hold is forgotten. False when there is
    /// none for this product, or it is older than a hold lives.
    fn resume_hold(self) -> bool {
        let key = self.hold_storage_key();
        let stored = browser::session_get(&key)
            .and_then(|json| booking_core::json::from_str::<StoredHold>(&json).ok());
        browser::session_remove(&key);
        let Some(stored) = stored else {
            return false;
        };
        let age = self.now_utc().timestamp_millis() - stored.left_at_ms;
        if stored.product != self.product_now() || !(0..STORED_HOLD_LIFE_MS).contains(&age) {
            return false;
        }
        self.dispatch(Intent::ChooseCourse(stored.course));
        match (stored.event, stored.slot) {
            (Some(event), _) => {
                self.dispatch(Intent::ChooseLocation(stored.location));
                self.dispatch(Intent::ChooseEvent(event));
            }
            (None, Some(slot)) => self.dispatch(Intent::ChooseTimeslot(slot)),
            (None, None) => return false,
        }
        true
    }
}

/// Where this widget keeps its booking in progress in `sessionStorage`.
fn storage_key(config: &WidgetConfig) -> String {
    format!("hbg:booking:{}:{}", config.api, config.instance)
}

/// The booking this tab left for the payment page, if any.
fn stored_booking(config: &WidgetConfig) -> Option<StoredBooking> {
    browser::session_get(&storage_key(config))
        .and_then(|json| booking_core::json::from_str::<StoredBooking>(&json).ok())
}

/// Runs `run` now and again whenever a signal it reads changes (as
/// `Effect::new` does). Every such effect shares one copy of Leptos' effect
/// code instead of one per closure.
pub fn effect(run: impl Fn() + 'static) {
    boxed_effect(Box::new(run));
}

fn boxed_effect(run: Box<dyn Fn()>) {
    leptos::prelude::Effect::new(move |_| run());
}

/// The course as the flow records it.
pub fn course_ref(course: &Course) -> booking_core::api::CourseRef {
    booking_core::api::CourseRef {
        id: course.id,
        name: course.name.clone(),
    }
}
