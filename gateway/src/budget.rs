//! The upstream's rate limit, kept by the gateway and shared fairly: every
//! upstream call takes a slot of a sliding window, so the agency's
//! candidates together never pass the documented 60 requests a minute the
//! upstream allows the gateway's address, and no client address can take
//! the window from the others.
//!
//! Invariants:
//! - In any span of [`CallBudget::window`], at most `limit` calls are sent:
//!   a call is sent only in a slot the window has room for, and a slot is
//!   given at a time no earlier than any slot given before, so the check
//!   looks back only. The window is the upstream's minute plus
//!   [`WINDOW_MARGIN`], so calls sent a window apart cannot arrive within
//!   one of the upstream's windows however their network delays differ.
//! - Reads may fill the window only up to `limit` less a reserve (one slot
//!   in [`WRITE_RESERVE_ONE_IN`]) kept for holds and bookings: reads have a
//!   cached copy to fall back on, writes do not.
//! - Fair shares: a client address that has [`CallBudget::fair_share`]
//!   calls in the window already may not take the window's last
//!   `fair_share` slots of the read share, so another address always finds
//!   room for its first calls however hard one address pushes; writes that
//!   finish an operation already under way are exempt.
//! - A hold or booking that cannot be sent within [`INLINE_WAIT`] waits in a
//!   queue under a [`QueueTicket`] (the widget is told how long, and sends
//!   it again with the ticket then). A ticket is a place in the queue, not
//!   a reserved slot: the queue is served in rounds across client
//!   addresses (each address's first waiting request before anyone's
//!   second), each turn taken only when the window has room, so a ticket
//!   never lets a call pass the limit, whenever it comes back.
//! - A ticket whose holder is more than [`LATE_GRACE`] late leaves the
//!   queue: presented later, it is a new request and takes a new turn.
//! - Each session may have [`QueueCaps::per_session`] requests waiting and
//!   each address [`QueueCaps::per_address`]; a turn further off than
//!   [`MAX_QUEUE`] is not given ("busy", nothing is sent).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngCore;
use tokio::time::Instant;

/// Added to the upstream's minute, against differing network delays.
pub const WINDOW_MARGIN: Duration = Duration::from_secs(1);

/// Longest a call waits for its slot without the candidate being told.
pub const INLINE_WAIT: Duration = Duration::from_secs(2);

/// Longest wait for a slot that is queued rather than refused.
pub const MAX_QUEUE: Duration = Duration::from_secs(120);

/// How late a queue ticket may come back and keep its place.
pub const LATE_GRACE: Duration = Duration::from_secs(3);

/// The share of each window kept for writes (holds, releases, bookings):
/// one slot in this many (10 of the documented 60).
pub const WRITE_RESERVE_ONE_IN: u32 = 6;

/// What a call is, for the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClass {
    /// A read: it may use the window up to the write reserve.
    Read,
    /// A write that must go through now (a step of an operation already
    /// under way, or the token exchange): it waits for its slot.
    Write,
    /// A write that starts a candidate's operation (a hold, a booking): it
    /// may be queued under a ticket.
    QueueableWrite,
}

/// Who a call is made for: the client address (as the gateway limits it)
/// and the widget session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The client address's key.
    pub address: Arc<str>,
    /// The session's key.
    pub session: Arc<str>,
}

/// How many requests may wait in the queue at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCaps {
    /// Per widget session.
    pub per_session: usize,
    /// Per client address.
    pub per_address: usize,
}

/// A queued request's claim on its turn, handed to the widget and sent
/// back with the request when its wait is over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueTicket(pub String);

/// When a call may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// After this wait (zero: now), the slot taken.
    After(Duration),
    /// Queued: tell the candidate, and send again with the ticket after the
    /// wait.
    Queued {
        /// The claim on the turn.
        ticket: QueueTicket,
        /// How long until the turn, as things stand.
        wait: Duration,
    },
    /// No slot within [`MAX_QUEUE`] (or, for a read, within
    /// [`INLINE_WAIT`]): nothing is taken.
    Busy {
        /// How long until a slot might be given.
        wait: Duration,
    },
    /// The caller already has as many requests waiting as it may: nothing
    /// is taken.
    TooManyWaiting {
        /// How long until the caller's first waiting request's turn.
        wait: Duration,
    },
}

/// A request waiting for its turn.
#[derive(Debug, Clone)]
struct Waiting {
    ticket: QueueTicket,
    caller: Caller,
    arrived: Instant,
    /// When its holder was told to come back.
    told: Instant,
}

/// The calls sent and the requests waiting.
#[derive(Debug, Default)]
struct Ledger {
    /// Slot times and their client addresses, oldest first, never
    /// decreasing; only those within a window of the latest are kept.
    sent: VecDeque<(Instant, Option<Arc<str>>)>,
    /// Requests waiting for a turn, in the order they arrived.
    waiting: Vec<Waiting>,
}

/// The gateway's share of the upstream's rate limit.
#[derive(Debug)]
pub struct CallBudget {
    limit: u32,
    window: Duration,
    caps: QueueCaps,
    ledger: Mutex<Ledger>,
}

impl CallBudget {
    /// A budget of `limit` calls per `per` (the upstream's window; the
    /// margin is added), with at most `caps` requests waiting per session
    /// and per address.
    pub fn new(limit: u32, per: Duration, caps: QueueCaps) -> CallBudget {
        CallBudget {
            limit: limit.max(1),
            window: per + WINDOW_MARGIN,
            caps,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// How many holds and bookings wait in the queue at `now` (a ticket
    /// more than [`LATE_GRACE`] late no longer does).
    pub fn waiting(&self, now: Instant) -> usize {
        let ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        ledger
            .waiting
            .iter()
            .filter(|waiting| waiting.told + LATE_GRACE >= now)
            .count()
    }

    /// The calls of each window a read may use.
    fn read_share(&self) -> u32 {
        (self.limit - self.limit / WRITE_RESERVE_ONE_IN).max(1)
    }

    /// The calls of a window an address may make before it must leave the
    /// window's last ones to other addresses, and how many those are: one
    /// in [`WRITE_RESERVE_ONE_IN`] of the limit, at least one.
    fn fair_share(&self) -> u32 {
        (self.limit / WRITE_RESERVE_ONE_IN).max(1)
    }

    /// A slot for a call of `class` made for `caller` at `now`, or the turn
    /// of `ticket` when it is one this budget gave and still waiting.
    pub fn slot(
        &self,
        class: CallClass,
        ticket: Option<&QueueTicket>,
        caller: Option<&Caller>,
        now: Instant,
    ) -> Slot {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let window = self.window;
        while ledger
            .sent
            .front()
            .is_some_and(|(sent, _)| *sent + window <= now)
        {
            ledger.sent.pop_front();
        }
        ledger
            .waiting
            .retain(|waiting| waiting.told + LATE_GRACE >= now);
        let address = caller.map(|caller| caller.address.clone());
        let (patience, fair_for) = match (class, caller) {
            (CallClass::QueueableWrite, Some(caller)) => {
                return self.turn(&mut ledger, ticket, caller, now)
            }
            (CallClass::Read, _) => (INLINE_WAIT, address.as_deref()),
            (CallClass::Write | CallClass::QueueableWrite, _) => (MAX_QUEUE, None),
        };
        let at = self.earliest(&ledger, &ledger.sent, now, class, fair_for);
        let wait = at - now;
        if wait > patience {
            return Slot::Busy { wait };
        }
        ledger.sent.push_back((at, address));
        Slot::After(wait)
    }

    /// A hold's or booking's turn in the queue: its ticket's, or a new
    /// request's place in the rounds. It goes when its turn has come and
    /// the window has room for it now; otherwise it waits (a new request
    /// under a new ticket, unless its caller has enough waiting already or
    /// its turn is beyond [`MAX_QUEUE`]).
    fn turn(
        &self,
        ledger: &mut Ledger,
        ticket: Option<&QueueTicket>,
        caller: &Caller,
        now: Instant,
    ) -> Slot {
        let known = ticket.and_then(|ticket| {
            ledger
                .waiting
                .iter()
                .position(|waiting| waiting.ticket == *ticket)
        });
        let (index, fresh) = match known {
            Some(index) => (index, false),
            None => {
                if let Some(wait) = self.too_many_waiting(ledger, caller, now) {
                    return Slot::TooManyWaiting { wait };
                }
                ledger.waiting.push(Waiting {
                    ticket: new_ticket(),
                    caller: caller.clone(),
                    arrived: now,
                    told: now,
                });
                (ledger.waiting.len() - 1, true)
            }
        };
        let address = Some(caller.address.as_ref());
        let turn = self.schedule(ledger, now)[index];
        let room = self.earliest(
            ledger,
            &ledger.sent,
            now,
            CallClass::QueueableWrite,
            address,
        );
        let at = turn.max(room);
        let wait = at - now;
        if wait <= INLINE_WAIT {
            ledger.waiting.remove(index);
            ledger.sent.push_back((at, Some(caller.address.clone())));
            return Slot::After(wait);
        }
        if fresh && wait > MAX_QUEUE {
            ledger.waiting.remove(index);
            return Slot::Busy { wait };
        }
        let waiting = &mut ledger.waiting[index];
        waiting.told = at;
        Slot::Queued {
            ticket: waiting.ticket.clone(),
            wait,
        }
    }

    /// When the caller may not queue another request (its session or its
    /// address has as many waiting as it may, or the queue is full), how
    /// long until the first of its waiting requests' turns.
    fn too_many_waiting(&self, ledger: &Ledger, caller: &Caller, now: Instant) -> Option<Duration> {
        let count = |same: &dyn Fn(&Caller) -> bool| {
            ledger
                .waiting
                .iter()
                .filter(|waiting| same(&waiting.caller))
                .count()
        };
        let full = count(&|other| other.session == caller.session) >= self.caps.per_session
            || count(&|other| other.address == caller.address) >= self.caps.per_address
            || ledger.waiting.len() >= self.max_waiting();
        if !full {
            return None;
        }
        let schedule = self.schedule(ledger, now);
        let first = ledger
            .waiting
            .iter()
            .zip(&schedule)
            .filter(|(waiting, _)| {
                waiting.caller.session == caller.session || waiting.caller.address == caller.address
            })
            .map(|(_, at)| *at)
            .min()
            .unwrap_or(now + self.window);
        Some(first.saturating_duration_since(now))
    }

    /// Most requests waiting at once: two windows' worth of turns, more
    /// than [`MAX_QUEUE`] can serve.
    fn max_waiting(&self) -> usize {
        2 * self.limit as usize
    }

    /// When each waiting request's turn comes, as things stand at `now`
    /// (in the order of `ledger.waiting`): turns are given in rounds across
    /// client addresses (an address's first waiting request, then its
    /// second...), the earlier arrival first within a round, each at the
    /// first time the window, with the turns before it, has room for it.
    /// An estimate to tell the widget: a turn is taken only when the window
    /// really has room ([`CallBudget::turn`]).
    fn schedule(&self, ledger: &Ledger, now: Instant) -> Vec<Instant> {
        let mut order: Vec<(usize, usize)> = ledger
            .waiting
            .iter()
            .enumerate()
            .map(|(index, waiting)| {
                let round = ledger.waiting[..index]
                    .iter()
                    .filter(|earlier| earlier.caller.address == waiting.caller.address)
                    .count();
                (round, index)
            })
            .collect();
        order.sort_by_key(|(round, index)| (*round, ledger.waiting[*index].arrived, *index));
        let mut slots = ledger.sent.clone();
        let mut times = vec![now; ledger.waiting.len()];
        for (_, index) in order {
            let address = ledger.waiting[index].caller.address.clone();
            let at = self.earliest(
                ledger,
                &slots,
                now,
                CallClass::QueueableWrite,
                Some(&address),
            );
            slots.push_back((at, Some(address)));
            times[index] = at;
        }
        times
    }

    /// The first time from `now`, and no earlier than any call sent, at
    /// which a call of `class` fits the window with `slots`: room under the
    /// class's share and, for a call held to `fair_for`'s fair share (an
    /// address that has it in the window already), room left for other
    /// addresses.
    fn earliest(
        &self,
        ledger: &Ledger,
        slots: &VecDeque<(Instant, Option<Arc<str>>)>,
        now: Instant,
        class: CallClass,
        fair_for: Option<&str>,
    ) -> Instant {
        let share = match class {
            CallClass::Read => self.read_share(),
            CallClass::Write | CallClass::QueueableWrite => self.limit,
        } as usize;
        let fair = self.fair_share() as usize;
        let start = ledger
            .sent
            .back()
            .map_or(now, |(latest, _)| *latest)
            .max(now);
        let mut candidates: Vec<Instant> = std::iter::once(start)
            .chain(
                slots
                    .iter()
                    .map(|(at, _)| *at + self.window)
                    .filter(|at| *at > start),
            )
            .collect();
        candidates.sort();
        for at in candidates {
            let within = slots
                .iter()
                .filter(|(sent_at, _)| *sent_at <= at && *sent_at + self.window > at);
            let (count, own) = within.fold((0, 0), |(count, own), (_, sent_by)| {
                let mine = fair_for.is_some() && sent_by.as_deref() == fair_for;
                (count + 1, own + usize::from(mine))
            });
            let room = if own >= fair {
                share.min(self.read_share() as usize).saturating_sub(fair)
            } else {
                share
            };
            if count < room {
                return at;
            }
        }
        slots
            .iter()
            .map(|(at, _)| *at + self.window)
            .max()
            .unwrap_or(start)
            .max(start)
    }
}

/// A fresh random ticket.
fn new_ticket() -> QueueTicket {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    QueueTicket(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    const CAPS: QueueCaps = QueueCaps {
        per_session: 100,
        per_address: 100,
    };

    fn caller(address: &str, session: &str) -> Caller {
        Caller {
            address: address.into(),
            session: session.into(),
        }
    }

    fn waits(slot: &Slot) -> Duration {
        match slot {
            Slot::After(wait)
            | Slot::Queued { wait, .. }
            | Slot::Busy { wait }
            | Slot::TooManyWaiting { wait } => *wait,
        }
    }

    #[test]
    fn writes_use_the_whole_window_then_wait_for_the_oldest_slot() {
        let budget = CallBudget::new(60, MINUTE, CAPS);
        let start = Instant::now();
        for _ in 0..60 {
            assert_eq!(
                budget.slot(CallClass::Write, None, None, start),
                Slot::After(Duration::ZERO)
            );
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(
            budget.slot(CallClass::Write, None, None, later),
            Slot::After(Duration::from_secs(51)),
            "the 61st call waits until the first leaves the window (60 s + margin)"
        );
    }

    #[test]
    fn reads_leave_the_write_reserve() {
        let budget = CallBudget::new(60, MINUTE, CAPS);
        let now = Instant::now();
        for _ in 0..50 {
            assert_eq!(
                budget.slot(CallClass::Read, None, None, now),
                Slot::After(Duration::ZERO)
            );
        }
        assert!(matches!(
            budget.slot(CallClass::Read, None, None, now),
            Slot::Busy { .. }
        ));
        for _ in 0..10 {
            assert_eq!(
                budget.slot(CallClass::Write, None, None, now),
                Slot::After(Duration::ZERO)
            );
        }
    }

    #[test]
    fn an_address_with_its_fair_share_leaves_room_for_others() {
        let budget = CallBudget::new(60, MINUTE, CAPS);
        let now = Instant::now();
        let flood = caller("flood", "f");
        let mut sent = 0;
        while let Slot::After(wait) = budget.slot(CallClass::Read, None, Some(&flood), now) {
            assert_eq!(wait, Duration::ZERO);
            sent += 1;
        }
        assert_eq!(sent, 40, "the read share less the room kept for others");
        let other = caller("other", "o");
        assert_eq!(
            budget.slot(CallClass::Read, None, Some(&other), now),
            Slot::After(Duration::ZERO),
            "another address's read finds room"
        );
        assert_eq!(
            budget.slot(CallClass::QueueableWrite, None, Some(&other), now),
            Slot::After(Duration::ZERO),
            "and so does its first hold"
        );
    }

    #[test]
    fn a_queued_write_goes_on_its_turn_and_its_ticket_is_used_once() {
        let budget = CallBudget::new(2, MINUTE, CAPS);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, None, now);
        budget.slot(CallClass::Write, None, None, now);
        let one = caller("a", "1");
        let Slot::Queued { ticket, wait } =
            budget.slot(CallClass::QueueableWrite, None, Some(&one), now)
        else {
            panic!("a write over the limit is queued");
        };
        assert_eq!(wait, Duration::from_secs(61));
        let two = caller("b", "2");
        let Slot::Queued { wait: second, .. } =
            budget.slot(CallClass::QueueableWrite, None, Some(&two), now)
        else {
            panic!("the next write queues behind it");
        };
        assert_eq!(second, Duration::from_secs(61), "the window's second slot");
        let due = now + wait;
        assert_eq!(
            budget.slot(CallClass::QueueableWrite, Some(&ticket), Some(&one), due),
            Slot::After(Duration::ZERO),
            "the ticket's turn is taken"
        );
        assert!(
            matches!(
                budget.slot(CallClass::QueueableWrite, Some(&ticket), Some(&one), due),
                Slot::Queued { .. }
            ),
            "a ticket is used once"
        );
    }

    #[test]
    fn a_ticket_presented_early_keeps_its_place() {
        let budget = CallBudget::new(1, MINUTE, CAPS);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, None, now);
        let one = caller("a", "1");
        let Slot::Queued { ticket, .. } =
            budget.slot(CallClass::QueueableWrite, None, Some(&one), now)
        else {
            panic!("queued");
        };
        let early = now + Duration::from_secs(30);
        let Slot::Queued {
            ticket: again,
            wait,
        } = budget.slot(CallClass::QueueableWrite, Some(&ticket), Some(&one), early)
        else {
            panic!("still queued");
        };
        assert_eq!((again, wait), (ticket, Duration::from_secs(31)));
    }

    #[test]
    fn a_late_ticket_takes_a_new_turn() {
        let budget = CallBudget::new(1, MINUTE, CAPS);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, None, now);
        let one = caller("a", "1");
        let Slot::Queued { ticket, wait } =
            budget.slot(CallClass::QueueableWrite, None, Some(&one), now)
        else {
            panic!("queued");
        };
        let due = now + wait;
        let two = caller("b", "2");
        let late = due + LATE_GRACE + Duration::from_secs(1);
        assert_eq!(
            budget.slot(CallClass::QueueableWrite, None, Some(&two), late),
            Slot::After(Duration::ZERO),
            "the late ticket's turn went to the next request"
        );
        assert!(
            matches!(
                budget.slot(CallClass::QueueableWrite, Some(&ticket), Some(&one), late),
                Slot::Queued { .. }
            ),
            "the late ticket waits for a new turn: {ticket:?}"
        );
    }

    #[test]
    fn another_addresss_first_request_goes_before_a_floods_queue() {
        let budget = CallBudget::new(12, MINUTE, CAPS);
        let now = Instant::now();
        let flood = caller("flood", "f");
        let mut queued = 0;
        for _ in 0..40 {
            if let Slot::Queued { .. } =
                budget.slot(CallClass::QueueableWrite, None, Some(&flood), now)
            {
                queued += 1;
            }
        }
        assert!(queued >= 5, "{queued}");
        let other = caller("other", "o");
        let wait = waits(&budget.slot(CallClass::QueueableWrite, None, Some(&other), now));
        assert!(
            wait <= Duration::from_secs(2),
            "another address waited {wait:?} behind one address's queue"
        );
    }

    #[test]
    fn waiting_requests_are_capped_per_session_and_per_address() {
        let caps = QueueCaps {
            per_session: 1,
            per_address: 2,
        };
        let budget = CallBudget::new(12, MINUTE, caps);
        let now = Instant::now();
        for _ in 0..12 {
            budget.slot(CallClass::Write, None, None, now);
        }
        let queue = |address: &str, session: &str| {
            budget.slot(
                CallClass::QueueableWrite,
                None,
                Some(&caller(address, session)),
                now,
            )
        };
        assert!(matches!(queue("a", "1"), Slot::Queued { .. }));
        assert!(matches!(queue("a", "1"), Slot::TooManyWaiting { .. }));
        assert!(matches!(queue("a", "2"), Slot::Queued { .. }));
        assert!(matches!(queue("a", "3"), Slot::TooManyWaiting { .. }));
        assert!(matches!(queue("b", "4"), Slot::Queued { .. }));
        assert_eq!(budget.waiting(now), 3, "the requests queued wait");
    }

    #[test]
    fn a_ticket_past_its_grace_no_longer_waits() {
        let budget = CallBudget::new(1, MINUTE, CAPS);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, None, now);
        let Slot::Queued { wait, .. } = budget.slot(
            CallClass::QueueableWrite,
            None,
            Some(&caller("a", "1")),
            now,
        ) else {
            panic!("queued");
        };
        assert_eq!(budget.waiting(now), 1);
        assert_eq!(budget.waiting(now + wait + LATE_GRACE), 1);
        assert_eq!(
            budget.waiting(now + wait + LATE_GRACE + Duration::from_secs(1)),
            0
        );
    }

    #[test]
    fn a_wait_beyond_the_queue_is_busy_and_takes_nothing() {
        let budget = CallBudget::new(1, Duration::from_secs(300), CAPS);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, None, now);
        let one = caller("a", "1");
        let busy = budget.slot(CallClass::QueueableWrite, None, Some(&one), now);
        assert!(matches!(busy, Slot::Busy { .. }), "{busy:?}");
        assert_eq!(waits(&busy), Duration::from_secs(301));
        let later = now + Duration::from_secs(200);
        assert!(
            matches!(
                budget.slot(CallClass::QueueableWrite, None, Some(&one), later),
                Slot::Queued { .. }
            ),
            "a busy answer reserved nothing, so the wait shrinks"
        );
    }

    /// One step of a run: at `at_ms`, an address sends a call of a class,
    /// bringing back one of its tickets when it has one, `lateness_ms` off
    /// (negative: early) from when it was told.
    #[derive(Debug, Clone)]
    struct Step {
        gap_ms: u64,
        address: u8,
        class: u8,
        lateness_ms: i64,
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(
            (0u64..1_500, 0u8..4, 0u8..3, -4_000i64..8_000).prop_map(
                |(gap_ms, address, class, lateness_ms)| Step {
                    gap_ms,
                    address,
                    class,
                    lateness_ms,
                },
            ),
            1..300,
        )
    }

    proptest! {
        /// However tickets come back, late or early, and whatever else is
        /// sent, no span of the window ever holds more calls than the limit.
        #[test]
        fn no_window_ever_holds_more_than_the_limit(run in steps()) {
            let budget = CallBudget::new(5, Duration::from_secs(9), CAPS);
            let start = Instant::now();
            let mut now = start;
            let mut sent = Vec::new();
            let mut tickets: Vec<(u8, QueueTicket, Instant)> = Vec::new();
            for step in run {
                now += Duration::from_millis(step.gap_ms);
                let caller = caller(&format!("address-{}", step.address), &format!("session-{}", step.address));
                let class = [CallClass::Read, CallClass::Write, CallClass::QueueableWrite][usize::from(step.class)];
                let redeemed = tickets.iter().position(|(address, _, _)| *address == step.address);
                let (ticket, at) = match (class, redeemed) {
                    (CallClass::QueueableWrite, Some(index)) => {
                        let (_, ticket, due) = tickets.remove(index);
                        let shifted = if step.lateness_ms >= 0 {
                            due + Duration::from_millis(step.lateness_ms.unsigned_abs())
                        } else {
                            due.checked_sub(Duration::from_millis(step.lateness_ms.unsigned_abs())).unwrap_or(due)
                        };
                        now = now.max(shifted);
                        (Some(ticket), now)
                    }
                    _ => (None, now),
                };
                match budget.slot(class, ticket.as_ref(), Some(&caller), at) {
                    Slot::After(wait) => sent.push(at + wait),
                    Slot::Queued { ticket, wait } => tickets.push((step.address, ticket, at + wait)),
                    Slot::Busy { .. } | Slot::TooManyWaiting { .. } => {}
                }
            }
            sent.sort();
            for (index, at) in sent.iter().enumerate() {
                let within = sent[index..]
                    .iter()
                    .take_while(|later| **later < *at + budget.window)
                    .count();
                prop_assert!(within <= 5, "{} calls within a window from {}", within, index);
            }
        }
    }
}
