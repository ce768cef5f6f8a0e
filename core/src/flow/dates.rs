//! Reading the chosen course's dates: when the flow asks for them, and
//! which answers it takes. The flow keeps no dates: it hands those still
//! wanted to the widget ([`Command::ShowDates`]), which indexes them once
//! for the calendar, so that a flow copied on every tick does not copy them.

use super::{Command, Flow, Refusal, Step};
use crate::api::bls::Timeslot;
use crate::api::TrainingEvent;
use crate::product::Product;

/// A course's dates as read: a Practical Training course's events, or a
/// Virtual BLS course's timeslots.
#[derive(Debug, Clone, PartialEq)]
pub enum Dates {
    /// A Practical Training course's events.
    Events(Vec<TrainingEvent>),
    /// A Virtual BLS course's timeslots.
    Timeslots(Vec<Timeslot>),
}

impl Dates {
    /// The product whose dates these are.
    pub fn product(&self) -> Product {
        match self {
            Dates::Events(_) => Product::Practical,
            Dates::Timeslots(_) => Product::VirtualBls,
        }
    }
}

impl Flow {
    /// Asks for the chosen course's dates, if a course is chosen.
    pub(super) fn load_dates(&self, commands: &mut Vec<Command>) {
        if let Some(course) = &self.course {
            commands.push(Command::LoadDates {
                course_id: course.id,
            });
        }
    }

    /// Asks for the chosen course's dates again, from the steps that show
    /// them (after a failed read).
    pub(super) fn retry_dates(&self, commands: &mut Vec<Command>) -> Result<(), Refusal> {
        if self.course.is_none() {
            return Err(Refusal::CourseNotChosen);
        }
        if !matches!(self.step, Step::ChooseLocation | Step::ChooseEvent) {
            return Err(self.busy());
        }
        self.load_dates(commands);
        Ok(())
    }

    pub(super) fn dates_loaded(
        &self,
        course_id: u64,
        dates: Dates,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.wants_dates_of(course_id) || dates.product() != self.product {
            return self.stale(None, commands);
        }
        commands.push(Command::ShowDates(dates));
        Ok(())
    }

    pub(super) fn dates_failed(
        &self,
        course_id: u64,
        reason: String,
        commands: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if !self.wants_dates_of(course_id) {
            return self.stale(None, commands);
        }
        commands.push(Command::ShowDatesFailed { reason });
        Ok(())
    }

    /// Whether an answer with `course_id`'s dates is still wanted: that
    /// course is still the chosen one.
    fn wants_dates_of(&self, course_id: u64) -> bool {
        self.course
            .as_ref()
            .is_some_and(|course| course.id == course_id)
    }
}
