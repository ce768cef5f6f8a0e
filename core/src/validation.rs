//! Candidate form validation, field errors and the pay options on offer.
//!
//! The checks mirror what the server checks (the sandbox reuses the limits
//! below), so most mistakes are caught before a request is made, and the
//! server's 422 answers map onto the same fields.
//!
//! Invariants:
//! * Validation never changes the [`CandidateForm`]: what the candidate
//!   typed is kept as typed; only the [`ValidCandidate`] it produces is
//!   trimmed and normalised.
//! * Messages are written for people, in the GOV.UK style: they say what to
//!   do ("Enter your first name"), not what went wrong in code.
//! * Lengths count characters (Unicode scalar values), after trimming.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{Money, PayOption, ValidationError};
use crate::product::Product;
use crate::widget_api::{BookingRequest, KitAddress};

/// Longest first or last name accepted, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest email address accepted, in characters (RFC 5321 path limit).
pub const EMAIL_MAX_CHARS: usize = 254;
/// Longest job role accepted, in characters.
pub const JOB_ROLE_MAX_CHARS: usize = 100;
/// Longest phone number accepted as typed, spaces and brackets included.
pub const PHONE_MAX_CHARS: usize = 30;
/// Most digits in an international (E.164) phone number, country code included.
pub const PHONE_MAX_DIGITS: usize = 15;
/// Fewest digits in an international phone number, country code included.
pub const PHONE_MIN_DIGITS: usize = 8;
/// Longest kit delivery street address accepted, in characters.
pub const ADDRESS_MAX_CHARS: usize = 200;
/// Longest kit delivery town or city accepted, in characters.
pub const CITY_MAX_CHARS: usize = 100;

/// The candidate's details exactly as typed. Kept across every step, hold
/// expiry and failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateForm {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email address.
    pub email: String,
    /// Phone number (optional).
    pub phone: String,
    /// Job role (optional; Practical Training only).
    pub job_role: String,
    /// Where the training kit is posted: street address (Virtual BLS only).
    #[serde(default)]
    pub address: String,
    /// Where the training kit is posted: town or city (Virtual BLS only).
    #[serde(default)]
    pub city: String,
    /// Where the training kit is posted: UK postcode (Virtual BLS only).
    #[serde(default)]
    pub postcode: String,
    /// The product booked, which decides the fields asked for.
    #[serde(default)]
    pub product: Product,
}

impl CandidateForm {
    /// An empty form for a product.
    pub fn for_product(product: Product) -> CandidateForm {
        CandidateForm {
            product,
            ..CandidateForm::default()
        }
    }

    /// The text typed in a candidate field; `None` for [`FormField::PayOption`].
    pub fn value(&self, field: FormField) -> Option<&str> {
        match field {
            FormField::FirstName => Some(&self.first_name),
            FormField::LastName => Some(&self.last_name),
            FormField::Email => Some(&self.email),
            FormField::Phone => Some(&self.phone),
            FormField::JobRole => Some(&self.job_role),
            FormField::Address => Some(&self.address),
            FormField::City => Some(&self.city),
            FormField::Postcode => Some(&self.postcode),
            FormField::PayOption => None,
        }
    }

    /// Replaces the text of a candidate field with what was typed; the pay
    /// option is not typed, so [`FormField::PayOption`] changes nothing.
    pub fn set(&mut self, field: FormField, typed: String) {
        match field {
            FormField::FirstName => self.first_name = typed,
            FormField::LastName => self.last_name = typed,
            FormField::Email => self.email = typed,
            FormField::Phone => self.phone = typed,
            FormField::JobRole => self.job_role = typed,
            FormField::Address => self.address = typed,
            FormField::City => self.city = typed,
            FormField::Postcode => self.postcode = typed,
            FormField::PayOption => {}
        }
    }
}

/// A field of the booking form that can carry an error, in the order the
/// form shows them (which is the error summary's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FormField {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// Job role.
    JobRole,
    /// Kit delivery: street address.
    Address,
    /// Kit delivery: town or city.
    City,
    /// Kit delivery: UK postcode.
    Postcode,
    /// The choice of how to pay (on the payment step).
    PayOption,
}

impl FormField {
    /// Every field, in form order.
    pub const ALL: [FormField; 9] = [
        FormField::FirstName,
        FormField::LastName,
        FormField::Email,
        FormField::Phone,
        FormField::JobRole,
        FormField::Address,
        FormField::City,
        FormField::Postcode,
        FormField::PayOption,
    ];

    /// The typed fields the details step asks for, in form order: Virtual
    /// BLS asks where the kit is posted and not the job role (its API takes
    /// none).
    pub fn candidate_fields(product: Product) -> &'static [FormField] {
        match product {
            Product::Practical => &[
                FormField::FirstName,
                FormField::LastName,
                FormField::Email,
                FormField::Phone,
                FormField::JobRole,
            ],
            Product::VirtualBls => &[
                FormField::FirstName,
                FormField::LastName,
                FormField::Email,
                FormField::Phone,
                FormField::Address,
                FormField::City,
                FormField::Postcode,
            ],
        }
    }

    /// The API's name for the field, also usable as an element id suffix.
    pub fn name(self) -> &'static str {
        match self {
            FormField::FirstName => "first_name",
            FormField::LastName => "last_name",
            FormField::Email => "email",
            FormField::Phone => "phone",
            FormField::JobRole => "job_role",
            FormField::Address => "address",
            FormField::City => "city",
            FormField::Postcode => "postcode",
            FormField::PayOption => "pay_option",
        }
    }

    /// The field's visible label.
    pub fn label(self) -> &'static str {
        match self {
            FormField::FirstName => "First name",
            FormField::LastName => "Last name",
            FormField::Email => "Email address",
            FormField::Phone => "Phone number (optional)",
            FormField::JobRole => "Job role (optional)",
            FormField::Address => "Address line",
            FormField::City => "Town or city",
            FormField::Postcode => "Postcode",
            FormField::PayOption => "How the booking is paid for",
        }
    }

    /// The field a server error names (`email`, or `candidate.email`).
    pub fn from_api_name(name: &str) -> Option<FormField> {
        let name = name.strip_prefix("candidate.").unwrap_or(name);
        FormField::ALL
            .into_iter()
            .find(|field| field.name() == name)
    }
}

impl FormField {
    /// The most characters the field may hold (the pay option is not
    /// typed), the same limit the form checks and the gateway enforces.
    pub fn max_chars(self) -> Option<usize> {
        match self {
            FormField::FirstName | FormField::LastName => Some(NAME_MAX_CHARS),
            FormField::Email => Some(EMAIL_MAX_CHARS),
            FormField::Phone => Some(PHONE_MAX_CHARS),
            FormField::JobRole => Some(JOB_ROLE_MAX_CHARS),
            FormField::Address => Some(ADDRESS_MAX_CHARS),
            FormField::City => Some(CITY_MAX_CHARS),
            FormField::Postcode => Some(POSTCODE_MAX_CHARS),
            FormField::PayOption => None,
        }
    }

    /// What a booking request holds in the field, if anything.
    fn in_request(self, request: &BookingRequest) -> Option<&str> {
        let kit = request.kit.as_ref();
        match self {
            FormField::FirstName => Some(&request.first_name),
            FormField::LastName => Some(&request.last_name),
            FormField::Email => Some(&request.email),
            FormField::Phone => request.phone.as_deref(),
            FormField::JobRole => request.job_role.as_deref(),
            FormField::Address => kit.map(|kit| kit.address.as_str()),
            FormField::City => kit.map(|kit| kit.city.as_str()),
            FormField::Postcode => kit.map(|kit| kit.postcode.as_str()),
            FormField::PayOption => None,
        }
    }
}

/// The fields of a booking request longer than [`FormField::max_chars`],
/// each with its message: the gateway refuses such a request before it
/// stores or sends anything (the widget never sends one).
pub fn overlong_fields(request: &BookingRequest) -> Vec<(FormField, String)> {
    FormField::ALL
        .into_iter()
        .filter_map(|field| {
            let max = field.max_chars()?;
            let value = field.in_request(request)?;
            (value.chars().count() > max).then(|| {
                let label = field.label().trim_end_matches(" (optional)");
                (field, format!("{label} must be {max} characters or less"))
            })
        })
        .collect()
}

/// Errors to show: one message per field plus general ones (not tied to a
/// field), for the error summary and beside each field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    fields: BTreeMap<FormField, String>,
    general: Vec<String>,
}

/// What the server says when a 422 carries no usable message.
const GENERIC_REJECTION: &str = "The booking could not be made. Check the details and try again";

impl FieldErrors {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// The message for a field.
    pub fn get(&self, field: FormField) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }

    /// Field messages in form order.
    pub fn fields(&self) -> impl Iterator<Item = (FormField, &str)> {
        self.fields
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }

    /// Messages not tied to a field.
    pub fn general(&self) -> &[String] {
        &self.general
    }

    /// Whether any candidate field (not the pay option) has an error.
    pub fn has_candidate_errors(&self) -> bool {
        self.fields
            .keys()
            .any(|field| *field != FormField::PayOption)
    }

    /// Adds a field message; the first message for a field wins.
    pub fn insert(&mut self, field: FormField, message: impl Into<String>) {
        self.fields.entry(field).or_insert_with(|| message.into());
    }

    /// Re-checks one field of `form` that is already in error (on blur):
    /// its message is replaced by the current one, or removed once the field
    /// is right. Fields not in error are left alone: people are not told off
    /// while they are still typing.
    pub fn recheck(&mut self, form: &CandidateForm, field: FormField) {
        if !self.fields.contains_key(&field) || field == FormField::PayOption {
            return;
        }
        let fresh = validate(form).err().unwrap_or_default();
        match fresh.get(field) {
            Some(message) => {
                self.fields.insert(field, message.to_owned());
            }
            None => {
                self.fields.remove(&field);
            }
        }
    }

    /// Removes the message of every field in error that `form` now has
    /// right (as the candidate types): a corrected field's message goes at
    /// once, not when the field loses focus, so nothing moves under the
    /// pointer when the candidate then presses a button. Messages of fields
    /// still wrong are left as they are until blur or submit.
    pub fn forget_corrected(&mut self, form: &CandidateForm) {
        if !self.has_candidate_errors() {
            return;
        }
        let fresh = validate(form).err().unwrap_or_default();
        self.fields
            .retain(|field, _| *field == FormField::PayOption || fresh.get(*field).is_some());
    }

    /// Adds a general message.
    pub fn push_general(&mut self, message: impl Into<String>) {
        self.general.push(message.into());
    }

    /// Maps a server 422 onto the form: known field names go beside their
    /// fields (first message each), anything else into the general list,
    /// and a bare message with no field errors becomes a general message.
    /// The server's own wording is kept.
    pub fn from_validation_error(error: &ValidationError) -> FieldErrors {
        let mut errors = FieldErrors::default();
        for (name, messages) in &error.errors {
            let Some(message) = messages.iter().find(|m| !m.trim().is_empty()) else {
                continue;
            };
            match FormField::from_api_name(name) {
                Some(field) => errors.insert(field, message.clone()),
                None => errors.push_general(message.clone()),
            }
        }
        if errors.is_empty() {
            let message = error.message.trim();
            errors.push_general(if message.is_empty() {
                GENERIC_REJECTION
            } else {
                message
            });
        }
        errors
    }
}

/// Candidate details that passed validation, trimmed and normalised, ready
/// for `POST /bookings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCandidate {
    /// Given name, trimmed, inner whitespace collapsed.
    pub first_name: String,
    /// Family name, trimmed, inner whitespace collapsed.
    pub last_name: String,
    /// Email address, trimmed.
    pub email: String,
    /// Phone number in international form (`+447700900123`), if given.
    pub phone: Option<String>,
    /// Job role, trimmed, if given (Practical Training only).
    pub job_role: Option<String>,
    /// Where the training kit is posted (Virtual BLS only), the postcode in
    /// its standard written form.
    pub kit: Option<KitAddress>,
}

/// Checks the form: required names and email, lengths, email format, a
/// phone number that can be put in international form, and, for a product
/// that posts a kit, the delivery address with a real UK postcode.
pub fn validate(form: &CandidateForm) -> Result<ValidCandidate, FieldErrors> {
    let mut errors = FieldErrors::default();
    let first_name = required_text(
        &form.first_name,
        FormField::FirstName,
        "Enter your first name",
        NAME_MAX_CHARS,
        &mut errors,
    );
    let last_name = required_text(
        &form.last_name,
        FormField::LastName,
        "Enter your last name",
        NAME_MAX_CHARS,
        &mut errors,
    );
    let email = form.email.trim().to_owned();
    if email.is_empty() {
        errors.insert(FormField::Email, "Enter an email address");
    } else if email.chars().count() > EMAIL_MAX_CHARS {
        errors.insert(
            FormField::Email,
            format!("Email address must be {EMAIL_MAX_CHARS} characters or less"),
        );
    } else if !is_valid_email(&email) {
        errors.insert(
            FormField::Email,
            "Enter an email address in the correct format, like name@example.com",
        );
    }
    let phone = if form.phone.trim().is_empty() {
        None
    } else {
        let normalised = normalise_phone(&form.phone);
        if normalised.is_none() {
            errors.insert(
                FormField::Phone,
                "Enter a UK phone number, like 07700 900123, or an international number starting with +",
            );
        }
        normalised
    };
    let kit = form
        .product
        .needs_kit_address()
        .then(|| kit_address(form, &mut errors));
    let job_role = if form.product.needs_kit_address() {
        String::new()
    } else {
        collapse_whitespace(&form.job_role)
    };
    if job_role.chars().count() > JOB_ROLE_MAX_CHARS {
        errors.insert(
            FormField::JobRole,
            format!("Job role must be {JOB_ROLE_MAX_CHARS} characters or less"),
        );
    } else if job_role.chars().any(char::is_control) {
        errors.insert(
            FormField::JobRole,
            "Job role must not include special characters",
        );
    }
    if errors.is_empty() {
        Ok(ValidCandidate {
            first_name,
            last_name,
            email,
            phone,
            job_role: (!job_role.is_empty()).then_some(job_role),
            kit,
        })
    } else {
        Err(errors)
    }
}

/// The kit's delivery address: a street address and a town, within their
/// lengths, and a UK postcode in its standard written form.
fn kit_address(form: &CandidateForm, errors: &mut FieldErrors) -> KitAddress {
    let address = required_text(
        &form.address,
        FormField::Address,
        "Enter the address the training kit is posted to",
        ADDRESS_MAX_CHARS,
        errors,
    );
    let city = required_text(
        &form.city,
        FormField::City,
        "Enter the town or city the training kit is posted to",
        CITY_MAX_CHARS,
        errors,
    );
    let postcode = if form.postcode.trim().is_empty() {
        errors.insert(FormField::Postcode, "Enter a postcode");
        String::new()
    } else {
        normalise_uk_postcode(&form.postcode).unwrap_or_else(|| {
            errors.insert(
                FormField::Postcode,
                "Enter a real UK postcode, like LS1 4AP",
            );
            String::new()
        })
    };
    KitAddress {
        address,
        city,
        postcode,
    }
}

/// A required name: trimmed, inner whitespace collapsed, within `max`
/// characters, no control characters.
fn required_text(
    typed: &str,
    field: FormField,
    missing: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> String {
    let text = collapse_whitespace(typed);
    let label = field.label();
    if text.is_empty() {
        errors.insert(field, missing);
    } else if text.chars().count() > max {
        errors.insert(field, format!("{label} must be {max} characters or less"));
    } else if text.chars().any(char::is_control) {
        errors.insert(
            field,
            format!("{label} must not include special characters"),
        );
    }
    text
}

/// Trims and turns every run of whitespace (tabs and newlines from a paste
/// included) into one space.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether an email address has a plausible format: one `@`, a local part
/// of common characters (no leading, trailing or double dots, at most 64),
/// and a domain of at least two dot-separated labels of letters, digits and
/// inner hyphens, with a top-level domain of two or more characters that is
/// not all digits. ASCII only (internationalised addresses are refused, as
/// GOV.UK Notify does).
pub fn is_valid_email(email: &str) -> bool {
    const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";
    if email.len() > EMAIL_MAX_CHARS || !email.is_ascii() {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    local_ok && labels_ok && tld_ok
}

/// Puts a phone number in international (E.164) form, or `None` when it
/// cannot be read as one.
///
/// * UK numbers: `07700 900123`, `+44 7700 900123`, `+44 (0)7700 900123`,
///   `0044 7700 900123` all give `+447700900123` (10 digits after the trunk
///   `0`, or 9 for a few `01` and `08` numbers).
/// * Other countries: `+` or `00` then 8 to 15 digits, the first not `0`,
///   kept as `+` and digits.
/// * Spaces, hyphens, dots and brackets are ignored; anything else (letters,
///   a `+` after the start, extensions) is refused.
pub fn normalise_phone(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() || typed.chars().count() > PHONE_MAX_CHARS {
        return None;
    }
    let (plus, rest) = match typed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, typed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    match international {
        Some(number) => match number.strip_prefix("44") {
            Some(national) => uk_number(national),
            None => {
                let international = format!("+{number}");
                is_international_phone(&international).then_some(international)
            }
        },
        None => digits.strip_prefix('0').and_then(uk_number),
    }
}

/// Whether a phone number is in the international (E.164) form the API
/// takes: `+`, then [`PHONE_MIN_DIGITS`] to [`PHONE_MAX_DIGITS`] digits, the
/// first not `0`. Every number [`normalise_phone`] returns has this form, and
/// the sandbox accepts exactly these.
pub fn is_international_phone(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A UK national number after `+44`, with or without its trunk `0`: 10
/// digits, or 9 for the few geographic (`01`) and freephone (`08`) numbers
/// that are that short.
fn uk_number(national: &str) -> Option<String> {
    let national = national.strip_prefix('0').unwrap_or(national);
    let plausible = match national.len() {
        10 => !national.starts_with('0'),
        9 => national.starts_with('1') || national.starts_with('8'),
        _ => false,
    };
    plausible.then(|| format!("+44{national}"))
}

/// Longest postcode field accepted, in characters, as typed.
pub const POSTCODE_MAX_CHARS: usize = 10;

/// A UK postcode in its standard written form (upper case, one space before
/// the three-character inward code: "LS1 4PR", "SW1A 1AA"), or `None` when
/// `typed` is not one. Spaces are ignored and letters may be any case. The
/// outward code is one of A9, A99, AA9, AA99, A9A or AA9A; the inward code a
/// digit and two letters; "GIR 0AA" is accepted too. Whether the postcode is
/// in use is not checked.
pub fn normalise_uk_postcode(typed: &str) -> Option<String> {
    if typed.chars().count() > POSTCODE_MAX_CHARS {
        return None;
    }
    let compact: String = typed
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let shape = |text: &str| -> String {
        text.chars()
            .map(|c| match c {
                'A'..='Z' => 'A',
                '0'..='9' => '9',
                _ => '?',
            })
            .collect()
    };
    let inward_ok = shape(inward) == "9AA";
    let outward_ok = matches!(
        shape(outward).as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    ) || compact == "GIR0AA";
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

/// Facts about the account that decide which pay options can be used. Each
/// is optional: a widget that knows only the gateway's allowed list leaves
/// them `None`, offers every allowed option, and lets a 422 explain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFacts {
    /// Whether invoice payments are enabled (`ClientProfile.invoice_payments`).
    pub invoice_payments: Option<bool>,
    /// Booking credits left for the chosen course.
    pub credits_for_course: Option<u32>,
    /// Whether the money balance covers the chosen place's cost.
    pub balance_covers_cost: Option<bool>,
}

/// One way to pay, as the payment step offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayOptionOffer {
    /// The option.
    pub option: PayOption,
    /// Its label: "Use a booking credit", "Pay by card", ...
    pub label: &'static str,
    /// Whether it can be chosen.
    pub usable: bool,
    /// Why not, for people, when it cannot.
    pub reason: Option<String>,
}

/// The label of a pay option.
pub fn pay_option_label(option: &PayOption) -> &'static str {
    match option {
        PayOption::Credits => "Use a booking credit",
        PayOption::Balance => "Pay from the account balance",
        PayOption::Inv => "Invoice the agency",
        PayOption::CandidatePays => "Pay by card",
        PayOption::Other(_) => "Other payment",
    }
}

/// What the candidate should know before confirming with a pay option, if
/// anything: card payments are made on the product's checkout (Stripe's for
/// Practical Training, PayPal's for Virtual BLS), and the confirmation comes
/// by email (the checkout may not send the candidate back here: the
/// published API does not say it honours `return_url`).
pub fn pay_option_note(option: &PayOption, product: Product) -> Option<&'static str> {
    match (option, product) {
        (PayOption::CandidatePays, Product::Practical) => Some(
            "After you confirm, you will pay by card on a secure Stripe page. Your confirmation is emailed to you once you have paid, whether or not that page brings you back here.",
        ),
        (PayOption::CandidatePays, Product::VirtualBls) => Some(
            "After you confirm, you will pay on a secure PayPal page. Your confirmation is emailed to you once you have paid, whether or not that page brings you back here.",
        ),
        _ => None,
    }
}

/// The pay options to show, in the order credits, balance, invoice,
/// candidate pays: only those the gateway allows (unknown values are
/// dropped), each marked usable or not with a reason, judged from the
/// account facts that are known.
pub fn offered_pay_options(
    allowed_by_gateway: &[PayOption],
    facts: &AccountFacts,
    event_cost: Money,
) -> Vec<PayOptionOffer> {
    PayOption::KNOWN
        .into_iter()
        .filter(|option| allowed_by_gateway.contains(option))
        .map(|option| {
            let reason = match option {
                PayOption::Credits if facts.credits_for_course == Some(0) => {
                    Some("No credits left for this course".to_owned())
                }
                PayOption::Balance if facts.balance_covers_cost == Some(false) => Some(format!(
                    "The account balance does not cover the cost of {event_cost}"
                )),
                PayOption::Inv if facts.invoice_payments == Some(false) => {
                    Some("Invoice payments are not enabled for this account".to_owned())
                }
                _ => None,
            };
            PayOptionOffer {
                label: pay_option_label(&option),
                usable: reason.is_none(),
                reason,
                option,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn overlong_request_fields_are_named_with_their_limit() {
        use super::{overlong_fields, FormField};
        use crate::api::PayOption;
        use crate::widget_api::{BookingRequest, KitAddress};
        let mut request = BookingRequest {
            hold_ref: "h.1.t".into(),
            first_name: "Priya".into(),
            last_name: "Patel".into(),
            email: "priya@example.com".into(),
            phone: None,
            job_role: Some("r".repeat(100)),
            pay_option: PayOption::Credits,
            return_url: None,
            kit: Some(KitAddress {
                address: "4 Mill Lane".into(),
                city: "Leeds".into(),
                postcode: "LS1 4AP".into(),
            }),
        };
        assert!(overlong_fields(&request).is_empty());
        request.email = format!("{}@example.com", "a".repeat(15_000));
        request.phone = Some("1".repeat(31));
        request.kit.as_mut().unwrap().postcode = "LS1 4AP LS1 4AP".into();
        let overlong = overlong_fields(&request);
        let fields: Vec<FormField> = overlong.iter().map(|(field, _)| *field).collect();
        assert_eq!(
            fields,
            [FormField::Email, FormField::Phone, FormField::Postcode]
        );
        assert_eq!(overlong[1].1, "Phone number must be 30 characters or less");
    }

    #[test]
    fn uk_postcodes_are_recognised_and_written_the_standard_way() {
        use super::normalise_uk_postcode as postcode;
        for (typed, written) in [
            ("LS1 4PR", "LS1 4PR"),
            ("ls14pr", "LS1 4PR"),
            (" sw1a 1aa ", "SW1A 1AA"),
            ("M1 3LA", "M1 3LA"),
            ("B33 8TH", "B33 8TH"),
            ("CR2 6XH", "CR2 6XH"),
            ("W1A 0AX", "W1A 0AX"),
            ("NE1 6EE", "NE1 6EE"),
            ("CF10 2HE", "CF10 2HE"),
            ("GIR 0AA", "GIR 0AA"),
        ] {
            assert_eq!(postcode(typed).as_deref(), Some(written), "{typed}");
        }
        for bad in [
            "",
            "LS1",
            "LS1 4P",
            "1LS 4PR",
            "LS1 44R",
            "LSS1 4PR",
            "LS1 4PRX",
            "LS1-4PR",
            "ŁS1 4PR",
            "12345",
            "LS1 4PR LS1 4PR",
        ] {
            assert_eq!(postcode(bad), None, "{bad}");
        }
    }

    use super::*;
    use crate::api::CreditsResponse;

    fn form(first: &str, last: &str, email: &str, phone: &str, role: &str) -> CandidateForm {
        CandidateForm {
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            phone: phone.into(),
            job_role: role.into(),
            ..CandidateForm::default()
        }
    }

    fn kit_form(address: &str, city: &str, postcode: &str) -> CandidateForm {
        CandidateForm {
            address: address.into(),
            city: city.into(),
            postcode: postcode.into(),
            job_role: "Not asked for".into(),
            ..form("Owen", "Hughes", "owen@example.com", "", "")
        }
        .with_product(Product::VirtualBls)
    }

    impl CandidateForm {
        fn with_product(self, product: Product) -> CandidateForm {
            CandidateForm { product, ..self }
        }
    }

    #[test]
    fn virtual_bls_asks_where_the_kit_is_posted() {
        let valid = validate(&kit_form(" 4  Mill Lane ", "Leeds", "ls14ap")).unwrap();
        assert_eq!(
            valid.kit,
            Some(KitAddress {
                address: "4 Mill Lane".into(),
                city: "Leeds".into(),
                postcode: "LS1 4AP".into(),
            })
        );
        assert_eq!(valid.job_role, None, "Virtual BLS takes no job role");
        let errors = validate(&kit_form("", " ", "LS1")).unwrap_err();
        assert_eq!(
            errors.get(FormField::Address),
            Some("Enter the address the training kit is posted to")
        );
        assert_eq!(
            errors.get(FormField::City),
            Some("Enter the town or city the training kit is posted to")
        );
        assert_eq!(
            errors.get(FormField::Postcode),
            Some("Enter a real UK postcode, like LS1 4AP")
        );
        let empty = validate(&kit_form("4 Mill Lane", "Leeds", "  ")).unwrap_err();
        assert_eq!(empty.get(FormField::Postcode), Some("Enter a postcode"));
        let long = validate(&kit_form(
            &"a".repeat(ADDRESS_MAX_CHARS + 1),
            "Leeds",
            "LS1 4AP",
        ))
        .unwrap_err();
        assert_eq!(
            long.get(FormField::Address),
            Some("Address line must be 200 characters or less")
        );
        // Practical Training neither asks for nor checks the kit's address.
        let practical =
            validate(&kit_form("", "", "nonsense").with_product(Product::Practical)).unwrap();
        assert_eq!(practical.kit, None);
        assert_eq!(practical.job_role.as_deref(), Some("Not asked for"));
    }

    #[test]
    fn each_product_asks_for_its_own_fields_and_a_422_maps_onto_them() {
        let practical = FormField::candidate_fields(Product::Practical);
        let bls = FormField::candidate_fields(Product::VirtualBls);
        assert!(
            practical.contains(&FormField::JobRole) && !practical.contains(&FormField::Postcode)
        );
        assert!(bls.contains(&FormField::Postcode) && !bls.contains(&FormField::JobRole));
        for fields in [practical, bls] {
            assert!(fields.windows(2).all(|w| w[0] < w[1]), "form order");
            assert!(!fields.contains(&FormField::PayOption));
        }
        let mut server = ValidationError::default();
        server.errors.insert(
            "postcode".into(),
            vec!["The postcode is not a valid UK postcode.".into()],
        );
        let errors = FieldErrors::from_validation_error(&server);
        assert_eq!(
            errors.get(FormField::Postcode),
            Some("The postcode is not a valid UK postcode.")
        );
        let mut typed = kit_form("", "Leeds", "LS1 4AP");
        let mut errors = validate(&typed).unwrap_err();
        typed.set(FormField::Address, "4 Mill Lane".into());
        assert_eq!(typed.value(FormField::Address), Some("4 Mill Lane"));
        errors.recheck(&typed, FormField::Address);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_complete_form_is_trimmed_and_normalised() {
        let typed = form(
            "  Priya ",
            "Patel\t Shah",
            " priya.patel@carestaff.example ",
            "07700 900123",
            " Healthcare Assistant ",
        );
        let valid = validate(&typed).unwrap();
        assert_eq!(valid.first_name, "Priya");
        assert_eq!(valid.last_name, "Patel Shah");
        assert_eq!(valid.email, "priya.patel@carestaff.example");
        assert_eq!(valid.phone.as_deref(), Some("+447700900123"));
        assert_eq!(valid.job_role.as_deref(), Some("Healthcare Assistant"));
        let minimal = validate(&form("A", "B", "a@b.co", " ", "")).unwrap();
        assert_eq!(minimal.phone, None);
        assert_eq!(minimal.job_role, None);
    }

    #[test]
    fn each_typed_field_is_set_and_read_back() {
        let mut typed = CandidateForm::default();
        for (n, field) in FormField::ALL.into_iter().enumerate() {
            typed.set(field, format!("text {n}"));
        }
        for (n, field) in FormField::ALL.into_iter().enumerate() {
            let expected = format!("text {n}");
            let read = typed.value(field);
            match field {
                FormField::PayOption => assert_eq!(read, None),
                _ => assert_eq!(read, Some(expected.as_str()), "{field:?}"),
            }
        }
        let before = typed.clone();
        typed.set(FormField::PayOption, "credits".into());
        assert_eq!(typed, before, "the pay option is not a typed field");
    }

    #[test]
    fn each_mistake_gets_its_message() {
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        let table: Vec<(CandidateForm, FormField, &str)> = vec![
            (form("", "P", "a@b.co", "", ""), FormField::FirstName, "Enter your first name"),
            (form("  ", "P", "a@b.co", "", ""), FormField::FirstName, "Enter your first name"),
            (form("P", "", "a@b.co", "", ""), FormField::LastName, "Enter your last name"),
            (
                form(&long, "P", "a@b.co", "", ""),
                FormField::FirstName,
                "First name must be 100 characters or less",
            ),
            (
                form("P", &long, "a@b.co", "", ""),
                FormField::LastName,
                "Last name must be 100 characters or less",
            ),
            (
                form("P\u{0}", "P", "a@b.co", "", ""),
                FormField::FirstName,
                "First name must not include special characters",
            ),
            (form("P", "P", "", "", ""), FormField::Email, "Enter an email address"),
            (
                form("P", "P", "priya@", "", ""),
                FormField::Email,
                "Enter an email address in the correct format, like name@example.com",
            ),
            (
                form("P", "P", &format!("{}@example.com", "a".repeat(250)), "", ""),
                FormField::Email,
                "Email address must be 254 characters or less",
            ),
            (
                form("P", "P", "a@b.co", "12345", ""),
                FormField::Phone,
                "Enter a UK phone number, like 07700 900123, or an international number starting with +",
            ),
            (
                form("P", "P", "a@b.co", "", &"r".repeat(JOB_ROLE_MAX_CHARS + 1)),
                FormField::JobRole,
                "Job role must be 100 characters or less",
            ),
        ];
        for (typed, field, message) in table {
            let errors = validate(&typed).unwrap_err();
            assert_eq!(errors.get(field), Some(message), "{typed:?}");
            assert_eq!(errors.fields().count(), 1, "{typed:?}");
        }
        let all = validate(&CandidateForm::default()).unwrap_err();
        let order: Vec<FormField> = all.fields().map(|(field, _)| field).collect();
        assert_eq!(
            order,
            vec![FormField::FirstName, FormField::LastName, FormField::Email]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let accented = "é".repeat(NAME_MAX_CHARS);
        assert!(validate(&form(&accented, "Ó", "a@b.co", "", "")).is_ok());
    }

    #[test]
    fn email_formats() {
        let good = [
            "name@example.com",
            "first.last+tag@sub.example.co.uk",
            "o'brien@nhs.net",
            "x@xn--bcher-kva.example",
        ];
        let bad = [
            "name",
            "name@",
            "@example.com",
            "name@example",
            "name@@example.com",
            "na me@example.com",
            ".name@example.com",
            "name.@example.com",
            "na..me@example.com",
            "name@-example.com",
            "name@example-.com",
            "name@example..com",
            "name@example.c",
            "name@example.123",
            "name@exämple.com",
            "name@[127.0.0.1]",
            "name@example.com.",
        ];
        for email in good {
            assert!(is_valid_email(email), "{email}");
        }
        for email in bad {
            assert!(!is_valid_email(email), "{email}");
        }
    }

    #[test]
    fn phone_numbers_are_normalised() {
        let table = [
            ("07700 900123", Some("+447700900123")),
            ("07700-900-123", Some("+447700900123")),
            ("+44 7700 900123", Some("+447700900123")),
            ("+44 (0)7700 900123", Some("+447700900123")),
            ("0044 7700 900123", Some("+447700900123")),
            ("(0113) 496 0000", Some("+441134960000")),
            ("016977 4567", Some("+44169774567")),
            ("+353 1 234 5678", Some("+35312345678")),
            ("0033 1 23 45 67 89", Some("+33123456789")),
            ("+1 (202) 555-0143", Some("+12025550143")),
            ("+123 45678", Some("+12345678")),
            ("00 123 45678", Some("+12345678")),
            ("+123 4567", None),
            ("+1234 5678 9012 345", Some("+123456789012345")),
            ("+1234 5678 9012 3456", None),
            ("7700 900123", None),
            ("07700 90012", None),
            ("07700 9001234", None),
            ("+44 0 0770 0900 123", None),
            ("+0 123 456 789", None),
            ("+1234", None),
            ("+1 234 567 890 123 456", None),
            ("07700 900123 ext 4", None),
            ("07700+900123", None),
            ("++447700900123", None),
            ("０７７００ ９００１２３", None),
            ("", None),
        ];
        for (typed, expected) in table {
            assert_eq!(normalise_phone(typed).as_deref(), expected, "{typed}");
        }
    }

    #[test]
    fn the_international_form_has_eight_to_fifteen_digits() {
        let table = [
            ("+447700900123", true),
            ("+12345678", true),
            ("+123456789012345", true),
            ("+1234567", false),
            ("+1234567890123456", false),
            ("+02345678", false),
            ("447700900123", false),
            ("+44 7700 900123", false),
            ("+4477009001a3", false),
            ("++447700900123", false),
            ("", false),
        ];
        for (number, expected) in table {
            assert_eq!(is_international_phone(number), expected, "{number}");
        }
    }

    #[test]
    fn server_errors_map_to_fields_or_the_general_list() {
        let body = r#"{
            "message": "The email field is required. (and 2 more errors)",
            "errors": {
                "email": ["The email field is required."],
                "candidate.phone": ["", "The phone format is invalid."],
                "pay_option": "No credits left.",
                "hold_hash": ["The hold has expired."],
                "agency_email": []
            }
        }"#;
        let error: ValidationError = crate::api::decode(body.as_bytes()).unwrap();
        let errors = FieldErrors::from_validation_error(&error);
        assert_eq!(
            errors.get(FormField::Email),
            Some("The email field is required.")
        );
        assert_eq!(
            errors.get(FormField::Phone),
            Some("The phone format is invalid.")
        );
        assert_eq!(errors.get(FormField::PayOption), Some("No credits left."));
        assert_eq!(errors.general(), ["The hold has expired."]);
        assert!(errors.has_candidate_errors());

        let bare = ValidationError {
            message: "This event is full.".into(),
            errors: Default::default(),
        };
        let errors = FieldErrors::from_validation_error(&bare);
        assert_eq!(errors.general(), ["This event is full."]);
        assert!(!errors.has_candidate_errors());
        let empty = FieldErrors::from_validation_error(&ValidationError::default());
        assert_eq!(errors.fields().count(), 0);
        assert_eq!(empty.general(), [GENERIC_REJECTION]);
    }

    #[test]
    fn pay_options_follow_the_gateway_and_the_account() {
        let everything = PayOption::KNOWN.to_vec();
        let cost = Money(9500);
        let unknown = offered_pay_options(&everything, &AccountFacts::default(), cost);
        assert_eq!(
            unknown.iter().map(|o| o.option.clone()).collect::<Vec<_>>(),
            everything
        );
        assert!(unknown.iter().all(|o| o.usable && o.reason.is_none()));

        let poor = AccountFacts {
            invoice_payments: Some(false),
            credits_for_course: Some(0),
            balance_covers_cost: Some(false),
        };
        let offers = offered_pay_options(&everything, &poor, cost);
        let reasons: Vec<Option<&str>> = offers.iter().map(|o| o.reason.as_deref()).collect();
        assert_eq!(
            reasons,
            vec![
                Some("No credits left for this course"),
                Some("The account balance does not cover the cost of £95"),
                Some("Invoice payments are not enabled for this account"),
                None,
            ]
        );
        assert_eq!(offers.iter().filter(|o| o.usable).count(), 1);
        assert_eq!(offers[3].label, "Pay by card");
        let notes: Vec<bool> = PayOption::KNOWN
            .iter()
            .map(|option| pay_option_note(option, Product::Practical).is_some())
            .collect();
        assert_eq!(
            notes,
            vec![false, false, false, true],
            "only the card goes to Stripe"
        );
        let paypal = pay_option_note(&PayOption::CandidatePays, Product::VirtualBls).unwrap();
        assert!(paypal.contains("PayPal") && !paypal.contains("Stripe"));
        assert!(pay_option_note(&PayOption::Inv, Product::VirtualBls).is_none());

        let rich = AccountFacts {
            invoice_payments: Some(true),
            credits_for_course: Some(1),
            balance_covers_cost: Some(true),
        };
        assert!(offered_pay_options(&everything, &rich, cost)
            .iter()
            .all(|o| o.usable));

        let gateway = [
            PayOption::CandidatePays,
            PayOption::Other("voucher".into()),
            PayOption::Credits,
        ];
        let offers = offered_pay_options(&gateway, &rich, cost);
        assert_eq!(
            offers.iter().map(|o| o.option.clone()).collect::<Vec<_>>(),
            vec![PayOption::Credits, PayOption::CandidatePays]
        );
    }

    #[test]
    fn the_widget_knows_no_account_facts_so_every_allowed_option_is_usable() {
        let facts = AccountFacts::default();
        assert_eq!(facts.invoice_payments, None);
        assert_eq!(facts.credits_for_course, None);
        assert_eq!(facts.balance_covers_cost, None);
        let credits: CreditsResponse = serde_json::from_str(
            r#"{"booking_credits":[{"course_id":2,"course_name":"M&H","credits":6}],
                "booking_money_balance":412.5,"currency":"GBP"}"#,
        )
        .unwrap();
        assert_eq!(credits.credits_for(2), 6);
        assert_eq!(credits.booking_money_balance, Money(41250));
        assert_eq!(credits.credits_for(3), 0);
        let offers = offered_pay_options(&PayOption::KNOWN, &facts, Money(1_000_000));
        assert!(offers
            .iter()
            .all(|offer| offer.usable && offer.reason.is_none()));
    }
}
