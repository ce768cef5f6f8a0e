//! Where the candidate is: the steps and their place in the progress
//! indicator.

use crate::product::Product;

/// Number of steps in the progress indicator ("Step 3 of 6").
pub const PROGRESS_STEPS: u8 = 6;

/// Where the candidate is in the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Pick a course.
    ChooseCourse,
    /// Pick a location (or any).
    ChooseLocation,
    /// Pick a date and event in the calendar.
    ChooseEvent,
    /// A hold request is in flight.
    Holding,
    /// Enter the candidate's details (seat held).
    Details,
    /// Choose how to pay and confirm (seat held).
    Payment,
    /// The create-booking request is in flight.
    Submitting,
    /// Booked and confirmed.
    Confirmed,
    /// Booked, waiting for admin review before confirmation.
    PendingReview,
    /// Booked, waiting for the candidate's card payment.
    AwaitingPayment,
    /// The hold lapsed; everything typed is kept; hold again or choose another.
    HoldExpired,
    /// The seat is held elsewhere; choose another event, try again, or wait
    /// for it.
    HoldConflict,
    /// Waiting, with a countdown, for another candidate's hold to lapse, to
    /// hold the seat the moment it does
    /// ([`Intent::WaitForSeat`](super::Intent::WaitForSeat)).
    WaitingForSeat,
    /// Something failed; see [`Flow::failure`](super::Flow::failure).
    Failed,
}

impl Step {
    /// The step's number and the number of steps in the progress indicator
    /// for a product ("Step 2 of 5"): Virtual BLS has no location step.
    pub fn progress_of(self, product: Product) -> Option<(u8, u8)> {
        let n = self.progress()?;
        Some(match product {
            Product::Practical => (n, PROGRESS_STEPS),
            Product::VirtualBls => (if n > 2 { n - 1 } else { n }, PROGRESS_STEPS - 1),
        })
    }

    /// The step's heading (focus moves to it on every step change).
    pub fn heading(self) -> &'static str {
        match self {
            Step::ChooseCourse => "Choose a course",
            Step::ChooseLocation => "Choose a location",
            Step::ChooseEvent => "Choose a date and time",
            Step::Holding => "Holding your seat",
            Step::Details => "Your details",
            Step::Payment => "How the booking is paid for",
            Step::Submitting => "Booking your seat",
            Step::Confirmed => "Booking confirmed",
            Step::PendingReview => "Booking received: pending review",
            Step::AwaitingPayment => "Complete the payment",
            Step::HoldExpired => "Your seat is no longer held",
            Step::HoldConflict => "This seat is already held",
            Step::WaitingForSeat => "Waiting for this seat",
            Step::Failed => "There is a problem",
        }
    }

    /// The step's number in the progress indicator, 1 to [`PROGRESS_STEPS`];
    /// `None` for steps that are not on the main path.
    pub fn progress(self) -> Option<u8> {
        match self {
            Step::ChooseCourse => Some(1),
            Step::ChooseLocation => Some(2),
            Step::ChooseEvent | Step::Holding => Some(3),
            Step::Details => Some(4),
            Step::Payment | Step::Submitting => Some(5),
            Step::Confirmed | Step::PendingReview | Step::AwaitingPayment => Some(6),
            Step::HoldExpired | Step::HoldConflict | Step::WaitingForSeat | Step::Failed => None,
        }
    }

    /// What happens next, on the steps after a booking is made.
    pub fn what_next(self) -> Option<&'static str> {
        match self {
            Step::Confirmed => Some("Your place is booked. A confirmation email is on its way."),
            Step::PendingReview => Some(
                "Your booking has been received. The training provider reviews bookings for this course before confirming them; you will hear by email.",
            ),
            Step::AwaitingPayment => Some(
                "Your seat is reserved while you pay. Once the payment is complete, your place is confirmed by email.",
            ),
            _ => None,
        }
    }
}
