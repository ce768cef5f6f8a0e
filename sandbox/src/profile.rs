//! Upstream profiles: one named switch for each behaviour the published
//! Practical Training API leaves open, so the gateway and the widget can be
//! proven correct whichever answer the real API gives.
//!
//! Written on the command line as `--profile key=value,key=value` (any key
//! left out keeps its default) and, in test mode, read and changed at
//! `/_sandbox/profile`. The defaults are the sandbox's original guesses. The
//! documented rate limit (60 requests a minute per client IP) is the
//! separate `--rate-limit` setting, on by default.
//!
//! Invariants: the profile changes what the sandbox answers, never what it
//! stores as true (a hold still guarantees its seat, a booking still spends
//! its hold once); an unknown key or value is refused with a message naming
//! it.

use std::fmt;
use std::str::FromStr;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

/// How far one live hold reaches: what a second hold attempt meets as 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldScope {
    /// One live hold per account and event (the default).
    Event,
    /// One live hold per account, whatever the event.
    Account,
    /// No limit: every attempt with a free seat gets a new hold.
    None,
}

/// What the API does with an `Idempotency-Key` header on `POST /bookings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Idempotency {
    /// A repeated key replays its booking (the default).
    Honoured,
    /// The header is ignored: a repeat is a new request.
    Ignored,
}

/// What the 409 for an existing hold carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictBody {
    /// The existing hold's hash, expiry and event (the default).
    WithHold,
    /// A message only.
    MessageOnly,
}

/// What the API does with a `return_url` in `POST /bookings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnUrl {
    /// The checkout page sends the candidate back to it (the default).
    Honoured,
    /// It is ignored: the checkout page ends on its own "paid" page.
    Ignored,
}

/// Which fields the API's answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Every field the sandbox knows: the documented ones and the
    /// project's guesses (the default).
    Full,
    /// Only what the published documents show: each field
    /// `booking_core::contract` marks inferred is left out of every answer,
    /// and an error's body (none is documented) is `{}`.
    Documented,
}

/// Every switch of one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamProfile {
    /// How far one live hold reaches.
    pub hold_scope: HoldScope,
    /// Whether `Idempotency-Key` is honoured.
    pub idempotency: Idempotency,
    /// What a hold's 409 carries.
    pub conflict_body: ConflictBody,
    /// Whether `return_url` is honoured.
    pub return_url: ReturnUrl,
    /// The largest `per_page` a list accepts; above it, a 422.
    pub max_per_page: u32,
    /// Which fields the answers carry.
    pub shape: Shape,
}

/// The page sizes a profile may set as the largest.
pub const PAGE_SIZE_CHOICES: [u32; 2] = [100, 50];

impl Default for UpstreamProfile {
    fn default() -> Self {
        UpstreamProfile {
            hold_scope: HoldScope::Event,
            idempotency: Idempotency::Honoured,
            conflict_body: ConflictBody::WithHold,
            return_url: ReturnUrl::Honoured,
            max_per_page: PAGE_SIZE_CHOICES[0],
            shape: Shape::Full,
        }
    }
}

/// Why a profile could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProfileError(String);

/// Reads one snake_case value of a switch, naming the switch and its
/// choices when it is not one of them.
fn choice<T: for<'de> Deserialize<'de>>(
    key: &str,
    value: &str,
    choices: &str,
) -> Result<T, ProfileError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ProfileError(format!("profile: {key}={value} is not one of {choices}")))
}

impl UpstreamProfile {
    /// Sets one switch from its written form.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ProfileError> {
        match key {
            "hold_scope" => self.hold_scope = choice(key, value, "event, account, none")?,
            "idempotency" => self.idempotency = choice(key, value, "honoured, ignored")?,
            "conflict_body" => {
                self.conflict_body = choice(key, value, "with_hold, message_only")?;
            }
            "return_url" => self.return_url = choice(key, value, "honoured, ignored")?,
            "shape" => self.shape = choice(key, value, "full, documented")?,
            "max_per_page" => {
                self.max_per_page = value
                    .parse()
                    .ok()
                    .filter(|size| PAGE_SIZE_CHOICES.contains(size))
                    .ok_or_else(|| {
                        ProfileError(format!(
                            "profile: max_per_page={value} is not one of 100, 50"
                        ))
                    })?;
            }
            other => {
                return Err(ProfileError(format!(
                    "profile: unknown switch {other:?} (hold_scope, idempotency, conflict_body, \
                     return_url, max_per_page, shape)"
                )))
            }
        }
        Ok(())
    }

    /// Whether a hold on `event_id` by an account conflicts with its live
    /// hold on `held_event_id`.
    pub fn holds_conflict(&self, event_id: i64, held_event_id: i64) -> bool {
        self.hold_meets(event_id == held_event_id)
    }

    /// Whether a new hold meets an account's live hold as a 409: under
    /// `event` only when both are on the same thing (a training event, a
    /// Virtual BLS timeslot), under `account` always, under `none` never.
    pub fn hold_meets(&self, same_target: bool) -> bool {
        match self.hold_scope {
            HoldScope::Event => same_target,
            HoldScope::Account => true,
            HoldScope::None => false,
        }
    }
}

impl FromStr for UpstreamProfile {
    type Err = ProfileError;

    /// `key=value,key=value`; an empty string is the default profile.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut profile = UpstreamProfile::default();
        for pair in text
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ProfileError(format!("profile: {pair:?} is not key=value")))?;
            profile.set(key.trim(), value.trim())?;
        }
        Ok(profile)
    }
}

/// A switch's value as written: its snake_case name.
fn word<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

impl fmt::Display for UpstreamProfile {
    /// The written form `FromStr` reads back.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "hold_scope={},idempotency={},conflict_body={},return_url={},max_per_page={},shape={}",
            word(self.hold_scope),
            word(self.idempotency),
            word(self.conflict_body),
            word(self.return_url),
            self.max_per_page,
            word(self.shape)
        )
    }
}

/// The profile in force: set at start, changed only through test mode.
#[derive(Debug, Default)]
pub(crate) struct ProfileCell(RwLock<UpstreamProfile>);

impl ProfileCell {
    /// A cell holding `profile`.
    pub(crate) fn new(profile: UpstreamProfile) -> ProfileCell {
        ProfileCell(RwLock::new(profile))
    }

    /// The profile now (a plain copy: a lock is never held across work).
    pub(crate) fn get(&self) -> UpstreamProfile {
        *self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts `profile` in force.
    pub(crate) fn set(&self, profile: UpstreamProfile) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = profile;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_is_the_original_guess() {
        let profile: UpstreamProfile = "".parse().unwrap();
        assert_eq!(profile, UpstreamProfile::default());
        assert_eq!(
            profile.to_string(),
            "hold_scope=event,idempotency=honoured,conflict_body=with_hold,return_url=honoured,max_per_page=100,shape=full"
        );
    }

    #[test]
    fn switches_are_read_and_written_back() {
        let written = "hold_scope=account,idempotency=ignored,conflict_body=message_only,return_url=ignored,max_per_page=50,shape=documented";
        let profile: UpstreamProfile = written.parse().unwrap();
        assert_eq!(profile.hold_scope, HoldScope::Account);
        assert_eq!(profile.idempotency, Idempotency::Ignored);
        assert_eq!(profile.conflict_body, ConflictBody::MessageOnly);
        assert_eq!(profile.return_url, ReturnUrl::Ignored);
        assert_eq!(profile.max_per_page, 50);
        assert_eq!(profile.shape, Shape::Documented);
        assert_eq!(profile.to_string(), written);
        let partial: UpstreamProfile = " hold_scope = none ".parse().unwrap();
        assert_eq!(partial.hold_scope, HoldScope::None);
        assert_eq!(partial.idempotency, Idempotency::Honoured);
    }

    #[test]
    fn a_bad_switch_is_named() {
        let error = "hold_scope=agency".parse::<UpstreamProfile>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "profile: hold_scope=agency is not one of event, account, none"
        );
        assert!("max_per_page=25"
            .parse::<UpstreamProfile>()
            .unwrap_err()
            .to_string()
            .contains("max_per_page=25"));
        assert!("colour=blue"
            .parse::<UpstreamProfile>()
            .unwrap_err()
            .to_string()
            .contains("unknown switch \"colour\""));
        assert!("idempotency".parse::<UpstreamProfile>().is_err());
    }

    #[test]
    fn hold_scope_decides_what_conflicts() {
        let scope = |hold_scope| UpstreamProfile {
            hold_scope,
            ..UpstreamProfile::default()
        };
        assert!(scope(HoldScope::Event).holds_conflict(4, 4));
        assert!(!scope(HoldScope::Event).holds_conflict(4, 5));
        assert!(scope(HoldScope::Account).holds_conflict(4, 5));
        assert!(!scope(HoldScope::None).holds_conflict(4, 4));
    }

    #[test]
    fn a_json_profile_keeps_defaults_for_missing_switches() {
        let profile: UpstreamProfile =
            serde_json::from_str(r#"{"conflict_body":"message_only"}"#).unwrap();
        assert_eq!(profile.conflict_body, ConflictBody::MessageOnly);
        assert_eq!(profile.hold_scope, HoldScope::Event);
        assert!(serde_json::from_str::<UpstreamProfile>(r#"{"colour":"blue"}"#).is_err());
    }
}
