//! The details and payment steps: the candidate's form, its checks and the
//! pay option.

use super::{Chosen, Flow, Refusal, Step};
use crate::api::PayOption;
use crate::validation::{
    self, AccountFacts, CandidateForm, FieldErrors, FormField, PayOptionOffer,
};

impl Flow {
    /// The pay options to offer for the chosen event or timeslot: those the
    /// gateway allows, in the usual order, each usable unless the gateway
    /// said the account cannot use it for the held place (no credit left
    /// for the course, a balance short of the cost). Until it says, or when
    /// it cannot, every allowed option is usable and a 422 explains a
    /// refusal.
    pub fn pay_option_offers(&self, allowed: &[PayOption]) -> Vec<PayOptionOffer> {
        let cost = self
            .chosen
            .as_ref()
            .and_then(Chosen::cost)
            .unwrap_or_default();
        let cannot = |option: PayOption| self.cannot_pay_with.contains(&option);
        let facts = AccountFacts {
            invoice_payments: None,
            credits_for_course: cannot(PayOption::Credits).then_some(0),
            balance_covers_cost: cannot(PayOption::Balance).then_some(false),
        };
        validation::offered_pay_options(allowed, &facts, cost)
    }

    /// Takes what the gateway said of the pay options for the hold
    /// `hold_ref`; an answer for a hold no longer held is dropped.
    pub(super) fn pay_options_read(&mut self, hold_ref: &str, cannot_pay_with: Vec<PayOption>) {
        if self
            .hold
            .as_ref()
            .is_some_and(|held| held.hold_ref == hold_ref)
        {
            self.cannot_pay_with = cannot_pay_with;
        }
    }

    /// The pay option to choose for the candidate on the payment step: the
    /// one on offer, when it is the only one and usable and nothing is chosen
    /// yet.
    pub fn sole_pay_option(&self, offers: &[PayOptionOffer]) -> Option<PayOption> {
        if self.step != Step::Payment || self.pay_option.is_some() {
            return None;
        }
        match offers {
            [only] if only.usable => Some(only.option.clone()),
            _ => None,
        }
    }

    pub(super) fn edit_form(&mut self, form: CandidateForm) -> Result<(), Refusal> {
        if self.step == Step::Submitting || self.booking_made() {
            return Err(self.busy());
        }
        self.form = CandidateForm {
            product: self.product,
            ..form
        };
        self.errors.forget_corrected(&self.form);
        Ok(())
    }

    pub(super) fn check_field(&mut self, field: FormField) -> Result<(), Refusal> {
        if self.step != Step::Details {
            return Err(Refusal::NotInThisStep);
        }
        self.errors.recheck(&self.form, field);
        Ok(())
    }

    pub(super) fn continue_to_payment(&mut self) -> Result<(), Refusal> {
        if self.step != Step::Details {
            return Err(Refusal::NotInThisStep);
        }
        match validation::validate(&self.form) {
            Ok(_) => {
                self.errors = FieldErrors::default();
                self.step = Step::Payment;
            }
            Err(errors) => self.errors = errors,
        }
        Ok(())
    }

    pub(super) fn choose_pay_option(&mut self, option: PayOption) -> Result<(), Refusal> {
        if self.step != Step::Payment {
            return Err(if self.step == Step::Submitting {
                Refusal::AlreadySubmitting
            } else {
                Refusal::NotInThisStep
            });
        }
        if matches!(option, PayOption::Other(_)) {
            return Err(Refusal::UnknownPayOption);
        }
        self.pay_option = Some(option);
        let mut errors = FieldErrors::default();
        for (field, message) in self.errors.fields() {
            if field != FormField::PayOption {
                errors.insert(field, message);
            }
        }
        self.errors = errors;
        Ok(())
    }
}
