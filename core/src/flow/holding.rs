//! Choosing an event or timeslot and holding its seat: the hold request and
//! its answers, the countdown, "Keep my seat", the hold lapsing, and
//! waiting for a seat another candidate holds.

use super::{
    ActiveHold, Chosen, Command, FailureKind, Flow, GrantedHold, HostEvent, Place, Refusal,
    SeatConflict, Step,
};
use crate::api::bls::Timeslot;
use crate::api::{Timestamp, TrainingEvent, ValidationError};
use crate::countdown::{HoldCountdown, HoldWarning};
use crate::product::Product;

const MESSAGE_HOLD_FAILED: &str =
    "We could not hold your seat. Check your connection and try again";
const MESSAGE_SEAT_FREE: &str = "The seat may be free now: holding it for you";
/// Longest wait offered for another candidate's hold: a hold's life.
const LONGEST_SEAT_WAIT_SECONDS: i64 = 1800;
/// How long after the other hold lapses the seat is asked for (clocks and
/// the upstream's expiry sweep differ by a little).
const SEAT_WAIT_GRACE_SECONDS: i64 = 2;
const MESSAGE_HOLD_REFUSED: &str = "This event can no longer be booked. Choose another date";

impl Flow {
    pub(super) fn choose_event(
        &mut self,
        event: TrainingEvent,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.product != Product::Practical {
            return Err(Refusal::NotInThisStep);
        }
        self.choose(Chosen::Event(event), commands)
    }

    pub(super) fn choose_timeslot(
        &mut self,
        slot: Timeslot,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.product != Product::VirtualBls {
            return Err(Refusal::NotInThisStep);
        }
        self.choose(Chosen::Slot(slot), commands)
    }

    /// Chooses an event or a timeslot of the chosen course and asks for a
    /// hold on it.
    fn choose(&mut self, chosen: Chosen, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        let course = self.course.as_ref().ok_or(Refusal::CourseNotChosen)?;
        if !self.is_choosing() || matches!(self.step, Step::ChooseCourse | Step::ChooseLocation) {
            return Err(self.busy());
        }
        if chosen.course_id() != course.id {
            return Err(Refusal::EventForAnotherCourse);
        }
        if chosen.is_full() {
            return Err(Refusal::EventFull);
        }
        let start = chosen.start().ok_or(Refusal::TimeUnknown)?;
        commands.push(Command::Emit(HostEvent::EventChosen {
            place: chosen.place(),
            start,
        }));
        self.chosen = Some(chosen);
        self.request_hold(Step::Details, commands);
        Ok(())
    }

    fn chosen_place(&self) -> Option<Place> {
        self.chosen.as_ref().map(Chosen::place)
    }

    /// Asks for a hold on the chosen event or timeslot, to continue at
    /// `resume` once granted.
    pub(super) fn request_hold(&mut self, resume: Step, commands: &mut Vec<Command>) {
        let place = self.enter_holding(resume);
        commands.push(Command::Hold { place });
    }

    /// Waits for a hold on the chosen event or timeslot, to continue at
    /// `resume`; where the hold is.
    fn enter_holding(&mut self, resume: Step) -> Place {
        let place = self
            .chosen_place()
            .expect("a hold is only requested for a chosen event or timeslot");
        self.step = Step::Holding;
        self.resume_step = resume;
        self.conflict_release_tried = false;
        self.conflict = None;
        self.seat_frees = None;
        self.failure = None;
        place
    }

    /// While waiting for a seat: the countdown to the moment it is asked
    /// for, at `now_ms`, as shown ("Free again in 4:05").
    pub fn seat_wait_text(&self, now_ms: f64) -> Option<String> {
        if self.step != Step::WaitingForSeat {
            return None;
        }
        let seconds = self.seat_frees.as_ref()?.remaining_seconds(now_ms);
        Some(format!(
            "Free again in {}:{:02}",
            seconds / 60,
            seconds % 60
        ))
    }

    pub(super) fn wait_for_seat(&mut self) -> Result<(), Refusal> {
        if self.step != Step::HoldConflict || self.seat_frees.is_none() {
            return Err(Refusal::NotInThisStep);
        }
        self.step = Step::WaitingForSeat;
        Ok(())
    }

    pub(super) fn stop_waiting(&mut self) -> Result<(), Refusal> {
        if self.step != Step::WaitingForSeat {
            return Err(Refusal::NotInThisStep);
        }
        self.step = Step::HoldConflict;
        Ok(())
    }

    pub(super) fn keep_my_seat(
        &mut self,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !matches!(self.step, Step::Details | Step::Payment) {
            return Err(Refusal::NoLiveHold);
        }
        let hold = self.hold.take().ok_or(Refusal::NoLiveHold)?;
        if !hold.countdown.can_extend(now_ms) {
            return Err(Refusal::NotExtendableYet);
        }
        let place = self.enter_holding(self.step);
        commands.push(Command::RenewHold {
            place,
            hold_ref: hold.hold_ref,
        });
        Ok(())
    }

    pub(super) fn tick(
        &mut self,
        prev_ms: f64,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step == Step::WaitingForSeat {
            let free = self
                .seat_frees
                .as_ref()
                .is_some_and(|frees| frees.is_expired(now_ms));
            if free {
                commands.push(Command::Announce(MESSAGE_SEAT_FREE));
                self.request_hold(self.resume_step, commands);
            }
            return Ok(());
        }
        let Some(hold) = self.hold.as_ref() else {
            return Ok(());
        };
        if !matches!(self.step, Step::Details | Step::Payment) {
            return Ok(());
        }
        let place = hold.place.clone();
        if hold.countdown.is_expired(now_ms) {
            self.expire(commands);
        } else if let Some(warning) = hold.countdown.warning_between(prev_ms, now_ms) {
            commands.push(Command::Announce(warning.announcement()));
            commands.push(Command::Emit(HostEvent::HoldExpiring {
                place,
                minutes_left: warning.minutes_left(),
            }));
        }
        Ok(())
    }

    pub(super) fn hold_expired(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if !matches!(self.step, Step::Details | Step::Payment) || self.hold.is_none() {
            return Err(Refusal::NoLiveHold);
        }
        self.expire(commands);
        Ok(())
    }

    /// The hold lapsed: keep everything, offer to hold again.
    pub(super) fn expire(&mut self, commands: &mut Vec<Command>) {
        if let Some(hold) = self.hold.take() {
            commands.push(Command::Announce(HoldWarning::Expired.announcement()));
            commands.push(Command::Emit(HostEvent::HoldExpired { place: hold.place }));
        }
        if matches!(self.step, Step::Details | Step::Payment) {
            self.resume_step = self.step;
        }
        self.step = Step::HoldExpired;
    }

    pub(super) fn hold_granted(
        &mut self,
        hold: GrantedHold,
        received_at_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Holding || self.chosen_place().as_ref() != Some(&hold.place) {
            return self.stale(Some(&hold.hold_ref), commands);
        }
        self.adopt_hold(
            hold.hold_ref,
            hold.place,
            Some(hold.expires_at),
            HoldCountdown::start(hold.expires_in_seconds, received_at_ms),
            commands,
        );
        Ok(())
    }

    pub(super) fn hold_conflict(
        &mut self,
        conflict: SeatConflict,
        received_at_ms: f64,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let hold_ref = conflict.hold_ref.clone().filter(|h| !h.is_empty());
        let Some(chosen) = self.chosen_place().filter(|_| self.step == Step::Holding) else {
            return self.stale(hold_ref.as_deref(), commands);
        };
        let held_event = conflict.event_id;
        let seconds = conflict.expires_in_seconds.unwrap_or(0);
        match hold_ref {
            Some(hold_ref)
                if held_event.is_none_or(|id| Place::Event(id) == chosen) && seconds > 0 =>
            {
                self.adopt_hold(
                    hold_ref,
                    chosen,
                    conflict.held_until,
                    HoldCountdown::start(seconds, received_at_ms),
                    commands,
                );
            }
            Some(hold_ref) if !self.conflict_release_tried => {
                self.conflict_release_tried = true;
                commands.push(Command::Release { hold_ref });
                commands.push(Command::Hold { place: chosen });
            }
            _ => {
                self.seat_frees = conflict
                    .expires_in_seconds
                    .filter(|seconds| (0..=LONGEST_SEAT_WAIT_SECONDS).contains(seconds))
                    .map(|seconds| {
                        HoldCountdown::start(seconds + SEAT_WAIT_GRACE_SECONDS, received_at_ms)
                    });
                self.conflict = Some(conflict);
                self.step = Step::HoldConflict;
                self.load_dates(commands);
                commands.push(Command::Emit(HostEvent::Error {
                    code: "hold_conflict",
                    message: "The seat is already held",
                }));
            }
        }
        Ok(())
    }

    pub(super) fn hold_refused(
        &mut self,
        error: ValidationError,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Holding {
            return self.stale(None, commands);
        }
        let message = match error.message.trim() {
            "" => MESSAGE_HOLD_REFUSED.to_owned(),
            server => server.to_owned(),
        };
        self.fail(FailureKind::HoldRefused, &message, error.message.clone());
        self.load_dates(commands);
        commands.push(Command::Emit(HostEvent::Error {
            code: "hold_refused",
            message: MESSAGE_HOLD_REFUSED,
        }));
        Ok(())
    }

    pub(super) fn hold_failed(
        &mut self,
        detail: String,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.step != Step::Holding {
            return self.stale(None, commands);
        }
        self.fail(FailureKind::HoldFailed, MESSAGE_HOLD_FAILED, detail);
        commands.push(Command::Emit(HostEvent::Error {
            code: "hold_failed",
            message: MESSAGE_HOLD_FAILED,
        }));
        Ok(())
    }

    fn adopt_hold(
        &mut self,
        hold_ref: String,
        place: Place,
        expires_at: Option<Timestamp>,
        countdown: HoldCountdown,
        commands: &mut Vec<Command>,
    ) {
        commands.push(Command::Emit(HostEvent::HoldCreated {
            place: place.clone(),
            hold_expires_at: expires_at,
            expires_in_seconds: countdown.expires_in_seconds(),
        }));
        let new_place = self.pay_options_read_for.as_ref() != Some(&place);
        if let Some(course_id) = self.course().map(|course| course.id).filter(|_| new_place) {
            self.pay_options_read_for = Some(place.clone());
            commands.push(Command::ReadPayOptions {
                hold_ref: hold_ref.clone(),
                course_id,
                cost: self.chosen.as_ref().and_then(Chosen::cost),
            });
        }
        self.hold = Some(ActiveHold {
            hold_ref,
            place,
            expires_at,
            countdown,
        });
        self.conflict = None;
        self.failure = None;
        self.step = self.resume_step;
    }
}
