//! The upstream's rate limit, kept by the gateway: every upstream call takes
//! a slot of a sliding window, so the agency's candidates together never
//! pass the documented 60 requests a minute the upstream allows the
//! gateway's address.
//!
//! Invariants:
//! - In any span of [`CallBudget::window`], at most `limit` calls are sent
//!   (a slot is given at a time no earlier than any slot given before, so
//!   the check looks back only). The window is the upstream's minute plus
//!   [`WINDOW_MARGIN`], so calls sent a window apart cannot arrive within
//!   one of the upstream's windows however their network delays differ.
//! - Reads may fill the window only up to `limit` less a reserve: the last
//!   slots of every window (one in [`WRITE_RESERVE_ONE_IN`]) are kept for holds and bookings (reads have a
//!   cached copy to fall back on; writes do not).
//! - A write whose slot is further off than [`INLINE_WAIT`] is not kept
//!   waiting silently: its slot is reserved under a [`QueueTicket`] and the
//!   widget is told how long, to send it again with the ticket then. A
//!   reserved slot counts as used whether or not the ticket comes back.
//! - A slot further off than [`MAX_QUEUE`] is not given: the caller answers
//!   "busy" and nothing is sent.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rand::RngCore;
use tokio::time::Instant;

/// Added to the upstream's minute, against differing network delays.
pub const WINDOW_MARGIN: Duration = Duration::from_secs(1);

/// Longest a call waits for its slot without the candidate being told.
pub const INLINE_WAIT: Duration = Duration::from_secs(2);

/// Longest wait for a slot that is queued rather than refused.
pub const MAX_QUEUE: Duration = Duration::from_secs(120);

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

/// A reserved slot's claim, handed to the widget and sent back with the
/// request when its wait is over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueTicket(pub String);

/// When a call may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// After this wait (zero: now), the slot taken.
    After(Duration),
    /// Reserved for later: tell the candidate, and send again with the
    /// ticket after the wait.
    Queued {
        /// The claim on the slot.
        ticket: QueueTicket,
        /// How long until the slot.
        wait: Duration,
    },
    /// No slot within [`MAX_QUEUE`] (or, for a read, within
    /// [`INLINE_WAIT`]): nothing is taken.
    Busy {
        /// How long until a slot might be given.
        wait: Duration,
    },
}

/// The sliding window of calls sent or reserved.
#[derive(Debug)]
struct Ledger {
    /// Slot times, oldest first, never decreasing; only those within a
    /// window of the latest are kept.
    slots: VecDeque<Instant>,
    /// Reserved slots by ticket.
    tickets: HashMap<QueueTicket, Instant>,
}

/// The gateway's share of the upstream's rate limit.
#[derive(Debug)]
pub struct CallBudget {
    limit: u32,
    window: Duration,
    ledger: Mutex<Ledger>,
}

impl CallBudget {
    /// A budget of `limit` calls per `per` (the upstream's window; the
    /// margin is added).
    pub fn new(limit: u32, per: Duration) -> CallBudget {
        CallBudget {
            limit: limit.max(1),
            window: per + WINDOW_MARGIN,
            ledger: Mutex::new(Ledger {
                slots: VecDeque::new(),
                tickets: HashMap::new(),
            }),
        }
    }

    /// The calls of each window a read may use.
    fn read_share(&self) -> u32 {
        (self.limit - self.limit / WRITE_RESERVE_ONE_IN).max(1)
    }

    /// A slot for a call of `class` made at `now`, or the claim of
    /// `ticket` when it is one this budget reserved.
    pub fn slot(&self, class: CallClass, ticket: Option<&QueueTicket>, now: Instant) -> Slot {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let window = self.window;
        ledger.tickets.retain(|_, at| *at + window > now);
        if let Some(at) = ticket.and_then(|ticket| ledger.tickets.remove(ticket)) {
            return Slot::After(at.saturating_duration_since(now));
        }
        while ledger
            .slots
            .front()
            .is_some_and(|sent| *sent + window <= now)
        {
            ledger.slots.pop_front();
        }
        let share = match class {
            CallClass::Read => self.read_share(),
            CallClass::Write | CallClass::QueueableWrite => self.limit,
        };
        let latest = ledger.slots.back().copied().unwrap_or(now).max(now);
        let at = match ledger.slots.len().checked_sub(share as usize) {
            Some(index) => latest.max(ledger.slots[index] + window),
            None => latest,
        };
        let wait = at - now;
        let slot = match class {
            _ if wait > MAX_QUEUE => Slot::Busy { wait },
            CallClass::Read if wait > INLINE_WAIT => Slot::Busy { wait },
            CallClass::QueueableWrite if wait > INLINE_WAIT => {
                let mut bytes = [0u8; 16];
                rand::rng().fill_bytes(&mut bytes);
                let ticket = QueueTicket(bytes.iter().map(|byte| format!("{byte:02x}")).collect());
                ledger.tickets.insert(ticket.clone(), at);
                Slot::Queued { ticket, wait }
            }
            _ => Slot::After(wait),
        };
        if !matches!(slot, Slot::Busy { .. }) {
            ledger.slots.push_back(at);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn waits(slot: &Slot) -> Duration {
        match slot {
            Slot::After(wait) | Slot::Queued { wait, .. } | Slot::Busy { wait } => *wait,
        }
    }

    #[test]
    fn writes_use_the_whole_window_then_wait_for_the_oldest_slot() {
        let budget = CallBudget::new(60, MINUTE);
        let start = Instant::now();
        for _ in 0..60 {
            assert_eq!(
                budget.slot(CallClass::Write, None, start),
                Slot::After(Duration::ZERO)
            );
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(
            budget.slot(CallClass::Write, None, later),
            Slot::After(Duration::from_secs(51)),
            "the 61st call waits until the first leaves the window (60 s + margin)"
        );
    }

    #[test]
    fn reads_leave_the_write_reserve() {
        let budget = CallBudget::new(60, MINUTE);
        let now = Instant::now();
        for _ in 0..50 {
            assert_eq!(
                budget.slot(CallClass::Read, None, now),
                Slot::After(Duration::ZERO)
            );
        }
        assert!(matches!(
            budget.slot(CallClass::Read, None, now),
            Slot::Busy { .. }
        ));
        for _ in 0..10 {
            assert_eq!(
                budget.slot(CallClass::QueueableWrite, None, now),
                Slot::After(Duration::ZERO)
            );
        }
    }

    #[test]
    fn a_queued_write_holds_its_slot_under_a_ticket() {
        let budget = CallBudget::new(2, MINUTE);
        let now = Instant::now();
        budget.slot(CallClass::Write, None, now);
        budget.slot(CallClass::Write, None, now);
        let Slot::Queued { ticket, wait } = budget.slot(CallClass::QueueableWrite, None, now)
        else {
            panic!("a write over the limit is queued");
        };
        assert_eq!(wait, Duration::from_secs(61));
        let Slot::Queued { wait: second, .. } = budget.slot(CallClass::QueueableWrite, None, now)
        else {
            panic!("the next write queues behind it");
        };
        assert_eq!(second, Duration::from_secs(61), "the second of the window");
        let due = now + wait;
        assert_eq!(
            budget.slot(CallClass::QueueableWrite, Some(&ticket), due),
            Slot::After(Duration::ZERO),
            "the ticket's slot is taken without another"
        );
        assert!(
            matches!(
                budget.slot(CallClass::QueueableWrite, Some(&ticket), due),
                Slot::Queued { .. }
            ),
            "a ticket is used once"
        );
    }

    #[test]
    fn a_wait_beyond_the_queue_is_busy_and_takes_nothing() {
        let budget = CallBudget::new(1, Duration::from_secs(300));
        let now = Instant::now();
        budget.slot(CallClass::Write, None, now);
        let busy = budget.slot(CallClass::QueueableWrite, None, now);
        assert!(matches!(busy, Slot::Busy { .. }), "{busy:?}");
        assert_eq!(waits(&busy), Duration::from_secs(301));
        let later = now + Duration::from_secs(200);
        assert!(
            matches!(
                budget.slot(CallClass::QueueableWrite, None, later),
                Slot::Queued { .. }
            ),
            "a busy answer reserved nothing, so the wait shrinks"
        );
    }

    #[test]
    fn no_window_ever_holds_more_than_the_limit() {
        let budget = CallBudget::new(5, Duration::from_secs(10));
        let start = Instant::now();
        let mut sent = Vec::new();
        for step in 0..200u64 {
            let now = start + Duration::from_millis(step * 373);
            let class =
                [CallClass::Read, CallClass::Write, CallClass::QueueableWrite][(step % 3) as usize];
            if let Slot::After(wait) | Slot::Queued { wait, .. } = budget.slot(class, None, now) {
                sent.push(now + wait);
            }
        }
        sent.sort();
        for (index, at) in sent.iter().enumerate() {
            let within = sent[index..]
                .iter()
                .take_while(|later| **later < *at + budget.window)
                .count();
            assert!(within <= 5, "{within} calls within a window from {index}");
        }
    }
}
