//! The fields both products' `POST /bookings` bodies carry, read once: the
//! candidate with `booking_core::validation`'s limits and phone rule (so the
//! widget and the sandbox agree on what is valid), the pay option, the
//! agency contact and `return_url`.
//!
//! Invariants: every error is collected before answering, in the order the
//! product reads its fields (its own fields read through the same
//! [`Validator`] in between); a valid body always yields every required
//! field.

use booking_core::api::PayOption;
use booking_core::product::Product;
use booking_core::validation::{is_international_phone, NAME_MAX_CHARS, PHONE_MAX_CHARS};
use serde_json::{Map, Value};

use super::errors::SandboxError;
use super::profile::{ReturnUrl, UpstreamProfile};
use super::validate::{is_http_url, Validator};

/// The shared fields of a valid `POST /bookings` body.
#[derive(Debug)]
pub(crate) struct CandidateInput {
    /// The live hold to book.
    pub hold_hash: String,
    /// Candidate's given name.
    pub first_name: String,
    /// Candidate's family name.
    pub last_name: String,
    /// Candidate's email.
    pub email: String,
    /// Candidate's phone, international form.
    pub phone: Option<String>,
    /// The pay option as the product writes it.
    pub pay_option: String,
    /// The pay option, a known one.
    pub pay_method: PayOption,
    /// Who at the agency to contact.
    pub agency_contact_name: Option<String>,
    /// Their email.
    pub agency_contact_email: Option<String>,
    /// Where the checkout page sends the browser after paying.
    pub return_url: Option<String>,
}

impl CandidateInput {
    /// The `return_url` a booking keeps: only one the candidate pays for
    /// goes through a checkout page that uses it.
    pub(crate) fn kept_return_url(&self) -> Option<&String> {
        self.return_url
            .as_ref()
            .filter(|_| self.pay_method == PayOption::CandidatePays)
    }
}

/// A `POST /bookings` body being read, field by field.
pub(crate) struct BookingForm<'a> {
    /// The body.
    body: &'a Map<String, Value>,
    /// Every field's errors, the product's own fields' included.
    pub v: Validator,
    hold_hash: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    pay: Option<(String, PayOption)>,
    agency_contact_name: Option<String>,
    agency_contact_email: Option<String>,
    return_url: Option<String>,
}

impl<'a> BookingForm<'a> {
    /// Starts reading `body` with `hold_hash`, `first_name`, `last_name`,
    /// `email` and `phone`.
    pub(crate) fn read_candidate(body: &'a Map<String, Value>) -> BookingForm<'a> {
        let mut v = Validator::default();
        let hold_hash = v.string(body, "hold_hash", true, 255);
        let first_name = v.string(body, "first_name", true, NAME_MAX_CHARS);
        let last_name = v.string(body, "last_name", true, NAME_MAX_CHARS);
        let email = v.email(body, "email", true);
        let phone = v.string(body, "phone", false, PHONE_MAX_CHARS);
        if phone
            .as_deref()
            .is_some_and(|phone| !is_international_phone(phone))
        {
            v.add("phone", "The phone field format is invalid.");
        }
        BookingForm {
            body,
            v,
            hold_hash,
            first_name,
            last_name,
            email,
            phone,
            pay: None,
            agency_contact_name: None,
            agency_contact_email: None,
            return_url: None,
        }
    }

    /// Reads the required `pay_option`: one of the four, as `product`
    /// names them.
    pub(crate) fn read_pay_option(&mut self, product: Product) {
        let Some(option) = self.v.string(self.body, "pay_option", true, 32) else {
            return;
        };
        match PayOption::from_wire_name(product, &option) {
            PayOption::Other(_) => self
                .v
                .add("pay_option", "The selected pay option is invalid."),
            known => self.pay = Some((option, known)),
        }
    }

    /// Reads the optional `agency_contact_name` and `agency_contact_email`.
    pub(crate) fn read_agency_contact(&mut self) {
        self.agency_contact_name = self.v.string(self.body, "agency_contact_name", false, 100);
        self.agency_contact_email = self.v.email(self.body, "agency_contact_email", false);
    }

    /// Reads `return_url` (an absolute http(s) URL) under
    /// `return_url=honoured`; under `return_url=ignored` it is neither
    /// checked nor kept, as an API that does not know it would do.
    pub(crate) fn read_return_url(&mut self, profile: &UpstreamProfile) {
        let return_url = match profile.return_url {
            ReturnUrl::Honoured => self.v.string(self.body, "return_url", false, 2000),
            ReturnUrl::Ignored => None,
        };
        if return_url.as_deref().is_some_and(|url| !is_http_url(url)) {
            self.v
                .add("return_url", "The return url field must be a valid URL.");
            return;
        }
        self.return_url = return_url;
    }

    /// The shared fields, or the 422 naming every field in error.
    pub(crate) fn finish(self) -> Result<CandidateInput, SandboxError> {
        self.v.finish()?;
        match (
            self.hold_hash,
            self.first_name,
            self.last_name,
            self.email,
            self.pay,
        ) {
            (
                Some(hold_hash),
                Some(first_name),
                Some(last_name),
                Some(email),
                Some((pay_option, pay_method)),
            ) => Ok(CandidateInput {
                hold_hash,
                first_name,
                last_name,
                email,
                phone: self.phone,
                pay_option,
                pay_method,
                agency_contact_name: self.agency_contact_name,
                agency_contact_email: self.agency_contact_email,
                return_url: self.return_url,
            }),
            _ => Err(validated_fields_missing()),
        }
    }
}

/// The error for a valid body without a required field: a bug, never the
/// caller's fault.
pub(crate) fn validated_fields_missing() -> SandboxError {
    SandboxError::Internal("validated fields missing".into())
}
