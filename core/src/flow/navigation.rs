//! Moving between steps: choosing the course (and reading its dates when
//! it is another) and the location, going back and starting over.

use super::{Command, FailureKind, Flow, HostEvent, Refusal, Step};
use crate::api::CourseRef;
use crate::product::Product;
use crate::validation::FieldErrors;

impl Flow {
    pub(super) fn choose_course(
        &mut self,
        course: CourseRef,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.is_choosing() {
            return Err(self.busy());
        }
        commands.push(Command::Emit(HostEvent::CourseChosen {
            product: self.product,
            course_id: course.id,
        }));
        let another = self
            .course
            .as_ref()
            .is_none_or(|chosen| chosen.id != course.id);
        self.course = Some(course);
        if another {
            self.load_dates(commands);
        }
        self.leave_event_choice();
        self.step = match self.product {
            Product::Practical => Step::ChooseLocation,
            Product::VirtualBls => Step::ChooseEvent,
        };
        Ok(())
    }

    pub(super) fn choose_location(
        &mut self,
        location: Option<u64>,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.is_choosing() {
            return Err(self.busy());
        }
        if self.course.is_none() {
            return Err(Refusal::CourseNotChosen);
        }
        if self.product != Product::Practical {
            return Err(Refusal::NotInThisStep);
        }
        self.location = location;
        self.leave_event_choice();
        self.step = Step::ChooseEvent;
        commands.push(Command::Emit(HostEvent::LocationChosen {
            location_id: location,
        }));
        Ok(())
    }

    pub(super) fn back(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        self.step = match self.step {
            Step::ChooseCourse => return Err(Refusal::NothingToGoBackTo),
            Step::ChooseLocation => Step::ChooseCourse,
            Step::ChooseEvent if self.product == Product::VirtualBls => Step::ChooseCourse,
            Step::ChooseEvent => Step::ChooseLocation,
            Step::Details => {
                if let Some(hold) = self.hold.take() {
                    commands.push(Command::Release {
                        hold_ref: hold.hold_ref,
                    });
                }
                self.errors = FieldErrors::default();
                self.leave_event_choice();
                Step::ChooseEvent
            }
            Step::Payment => Step::Details,
            Step::Submitting => return Err(Refusal::AlreadySubmitting),
            Step::Failed if self.failure_kind() == Some(FailureKind::BookingOutcomeUnknown) => {
                self.failure = None;
                Step::Payment
            }
            Step::Holding
            | Step::HoldExpired
            | Step::HoldConflict
            | Step::WaitingForSeat
            | Step::Failed
                if !self.booking_made() =>
            {
                self.leave_event_choice();
                Step::ChooseEvent
            }
            _ => return Err(Refusal::BookingFinished),
        };
        Ok(())
    }

    pub(super) fn start_over(&mut self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if self.step == Step::Submitting {
            return Err(Refusal::AlreadySubmitting);
        }
        if let Some(hold) = self.hold.take() {
            commands.push(Command::Release {
                hold_ref: hold.hold_ref,
            });
        }
        if self.step == Step::AwaitingPayment {
            commands.push(Command::ClearBookingInProgress);
        }
        *self = Flow::for_product(self.policy.clone(), self.product);
        Ok(())
    }

    /// Clears what belongs to a previous event choice (not the form).
    fn leave_event_choice(&mut self) {
        self.chosen = None;
        self.cannot_pay_with.clear();
        self.pay_options_read_for = None;
        self.conflict = None;
        self.seat_frees = None;
        self.failure = None;
        self.resume_step = Step::Details;
    }
}
