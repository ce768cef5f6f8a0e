//! Laravel-style input validation for JSON bodies and query strings.
//!
//! Invariants, mirroring Laravel's default middleware and messages: strings are
//! trimmed and an empty string counts as absent; a field of the wrong JSON type
//! is a field error, never a decoding failure; every error is collected before
//! answering, and the summary `message` is the first error followed by
//! "(and N more errors)".

use std::collections::BTreeMap;

use booking_core::api::ValidationError;
use booking_core::validation::EMAIL_MAX_CHARS;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::errors::SandboxError;
use super::extract::QueryParams;

/// Collects field errors in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    errors: Vec<(String, String)>,
}

/// A field name as Laravel shows it: `first_name` becomes "first name".
pub(crate) fn attribute(field: &str) -> String {
    field.replace('_', " ")
}

impl Validator {
    /// Records an error for `field`.
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.to_owned(), message.into()));
    }

    /// `Ok` when no error was recorded, else the 422 carrying them all.
    pub(crate) fn finish(self) -> Result<(), SandboxError> {
        let Some((_, first)) = self.errors.first() else {
            return Ok(());
        };
        let more = self.errors.len() - 1;
        let message = match more {
            0 => first.clone(),
            1 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {n} more errors)"),
        };
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, text) in self.errors {
            errors.entry(field).or_default().push(text);
        }
        Err(SandboxError::Validation(ValidationError {
            message,
            errors,
        }))
    }

    /// A string field of a JSON body: trimmed, empty means absent, at most
    /// `max` characters. Records an error and returns `None` when invalid.
    pub(crate) fn string(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
        max: usize,
    ) -> Option<String> {
        let name = attribute(field);
        let value = match body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.trim()).filter(|text| !text.is_empty()),
            Some(_) => {
                self.add(field, format!("The {name} field must be a string."));
                return None;
            }
        };
        match value {
            None => {
                if required {
                    self.add(field, format!("The {name} field is required."));
                }
                None
            }
            Some(text) if text.chars().count() > max => {
                self.add(
                    field,
                    format!("The {name} field must not be greater than {max} characters."),
                );
                None
            }
            Some(text) => Some(text.to_owned()),
        }
    }

    /// An optional or required email field (at most `EMAIL_MAX_CHARS`
    /// characters, as `booking_core::validation` allows).
    pub(crate) fn email(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
    ) -> Option<String> {
        let value = self.string(body, field, required, EMAIL_MAX_CHARS)?;
        if is_email(&value) {
            Some(value)
        } else {
            let name = attribute(field);
            self.add(
                field,
                format!("The {name} field must be a valid email address."),
            );
            None
        }
    }

    /// An integer field of a JSON body within `min..=max`.
    pub(crate) fn integer(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let name = attribute(field);
        match body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.add(field, format!("The {name} field is required."));
                }
                None
            }
            Some(Value::Number(number)) => match number.as_i64() {
                Some(value) => self.in_range(field, value, min, max),
                None => {
                    self.add(field, format!("The {name} field must be an integer."));
                    None
                }
            },
            Some(_) => {
                self.add(field, format!("The {name} field must be an integer."));
                None
            }
        }
    }

    /// A non-negative GBP amount (JSON number of pounds) as pence, at most
    /// £1,000,000.
    pub(crate) fn pounds(
        &mut self,
        body: &Map<String, Value>,
        field: &str,
        required: bool,
    ) -> Option<i64> {
        let name = attribute(field);
        match body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.add(field, format!("The {name} field is required."));
                }
                None
            }
            Some(Value::Number(number)) => {
                let pence = number.as_f64().map(|pounds| (pounds * 100.0).round());
                match pence {
                    Some(pence) if (0.0..=100_000_000.0).contains(&pence) => Some(pence as i64),
                    _ => {
                        self.add(
                            field,
                            format!("The {name} field must be between 0 and 1000000."),
                        );
                        None
                    }
                }
            }
            Some(_) => {
                self.add(field, format!("The {name} field must be a number."));
                None
            }
        }
    }

    /// A boolean field of a JSON body.
    pub(crate) fn boolean(&mut self, body: &Map<String, Value>, field: &str) -> Option<bool> {
        match body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(_) => {
                let name = attribute(field);
                self.add(field, format!("The {name} field must be true or false."));
                None
            }
        }
    }

    /// Checks `value` against `min..=max`, recording Laravel's message.
    pub(crate) fn in_range(&mut self, field: &str, value: i64, min: i64, max: i64) -> Option<i64> {
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            let name = attribute(field);
            self.add(
                field,
                format!("The {name} field must be between {min} and {max}."),
            );
            None
        }
    }

    /// An integer query parameter within `min..=max`.
    pub(crate) fn query_integer(
        &mut self,
        raw: Option<&str>,
        field: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let raw = raw?;
        match parse_integer(raw) {
            Some(value) => self.in_range(field, value, min, max),
            None => {
                let name = attribute(field);
                self.add(field, format!("The {name} field must be an integer."));
                None
            }
        }
    }

    /// A `YYYY-MM-DD` query parameter.
    pub(crate) fn query_date(&mut self, raw: Option<&str>, field: &str) -> Option<NaiveDate> {
        let raw = raw?;
        let parsed = (raw.len() == 10)
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            let name = attribute(field);
            self.add(
                field,
                format!("The {name} field must match the format Y-m-d."),
            );
        }
        parsed
    }

    /// The query's `date_from` and `date_to` (`YYYY-MM-DD`), `date_to` no
    /// earlier than `date_from`.
    pub(crate) fn query_date_range(
        &mut self,
        query: &QueryParams,
    ) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let date_from = self.query_date(query.get("date_from"), "date_from");
        let date_to = self.query_date(query.get("date_to"), "date_to");
        if let (Some(from), Some(to)) = (date_from, date_to) {
            if to < from {
                self.add(
                    "date_to",
                    "The date to field must be a date after or equal to date from.",
                );
            }
        }
        (date_from, date_to)
    }

    /// A boolean query parameter (`true`, `false`, `1`, `0`).
    pub(crate) fn query_bool(&mut self, raw: Option<&str>, field: &str) -> Option<bool> {
        match raw? {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => {
                let name = attribute(field);
                self.add(field, format!("The {name} field must be true or false."));
                None
            }
        }
    }

    /// A query parameter that must be one of `allowed`.
    pub(crate) fn query_choice<'a>(
        &mut self,
        raw: Option<&'a str>,
        field: &str,
        allowed: &[&str],
    ) -> Option<&'a str> {
        let raw = raw?;
        if allowed.contains(&raw) {
            Some(raw)
        } else {
            let name = attribute(field);
            self.add(field, format!("The selected {name} is invalid."));
            None
        }
    }
}

/// An integer written as optional `-` and ASCII digits only.
pub(crate) fn parse_integer(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A pragmatic email check: one `@`, a local part without spaces or control
/// characters, and a dotted domain of letters, digits and hyphens.
pub(crate) fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"@".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// An absolute `http` or `https` URL, read by `booking_core::redirect` (the
/// widget's parser): a host, no user info, and no whitespace, control,
/// backslash or non-ASCII characters.
pub(crate) fn is_http_url(value: &str) -> bool {
    booking_core::redirect::origin_of(value).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert!(is_email("priya.patel@carestaff.example"));
        assert!(is_email("a+b@x.co.uk"));
        assert!(!is_email("priya"));
        assert!(!is_email("priya@localhost"));
        assert!(!is_email("pri ya@x.com"));
        assert!(!is_email("@x.com"));
        assert!(!is_email("a@-x.com"));
        assert!(!is_email("a@x..com"));
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://agency.example/booked?x=1"));
        assert!(is_http_url("http://127.0.0.1:8080/"));
        assert!(is_http_url("http://agency.test/booked"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("//evil.example"));
        assert!(!is_http_url("https://user@evil.example"));
        assert!(!is_http_url("https://a.example/ b"));
        assert!(!is_http_url("https://a.example\\@evil.example/"));
        assert!(!is_http_url("https://bücher.example/"));
    }

    #[test]
    fn integers_are_digits_only() {
        assert_eq!(parse_integer("42"), Some(42));
        assert_eq!(parse_integer("-3"), Some(-3));
        assert_eq!(parse_integer("+3"), None);
        assert_eq!(parse_integer("4.0"), None);
        assert_eq!(parse_integer("99999999999999999999"), None);
    }

    #[test]
    fn messages_follow_laravel() {
        let body = json!({ "first_name": "  ", "email": 5, "job_role": "x".repeat(101) });
        let body = body.as_object().unwrap();
        let mut v = Validator::default();
        assert_eq!(v.string(body, "first_name", true, 100), None);
        assert_eq!(v.email(body, "email", true), None);
        assert_eq!(v.string(body, "job_role", false, 100), None);
        let Err(SandboxError::Validation(error)) = v.finish() else {
            panic!("expected a validation error");
        };
        assert_eq!(
            error.message,
            "The first name field is required. (and 2 more errors)"
        );
        assert_eq!(error.errors["email"], ["The email field must be a string."]);
        assert_eq!(
            error.errors["job_role"],
            ["The job role field must not be greater than 100 characters."]
        );
    }
}
