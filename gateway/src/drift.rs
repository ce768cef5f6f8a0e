//! Contract drift: where an upstream answer differs from what booking-core
//! reads of it (`booking_core::contract`): a field missing, one it does not
//! know, one of another JSON type.
//!
//! Every answer the gateway decodes is compared with its type's shape
//! before it is read, and each difference is logged as a warning the first
//! time it is seen for its endpoint (product, method and route), once for
//! the life of the process: the log says where the published contract, or
//! the project's guesses about it, no longer match the upstream, without
//! repeating it on every call. Every difference in every answer is also
//! counted, per gateway instance, in its metrics (`hbg_contract_drift_total`,
//! by the caller: see `super::metrics`).
//!
//! Invariants: a line names the endpoint, the field and how it differs,
//! never a value (an answer may hold personal data); the set of differences
//! already logged is bounded ([`MAX_SEEN`]); a difference never fails a
//! call by itself (the typed read decides).

use std::collections::HashSet;
use std::fmt;
use std::sync::{LazyLock, Mutex, PoisonError};

use booking_core::contract::{drift, DriftKind, Kind, Source};
use booking_core::product::Product;
use reqwest::Method;
use serde_json::Value;

/// An upstream endpoint, as drift is logged per: the product, the method
/// and the route template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Whose API.
    pub product: Product,
    /// The method.
    pub method: Method,
    /// The route template, e.g. `/bookings/{id}`.
    pub route: &'static str,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.product, self.method, self.route)
    }
}

/// The most differences the process remembers having logged; past it no
/// more are logged (a line says so once).
pub const MAX_SEEN: usize = 1024;

/// Each (endpoint, field, kind) already logged.
static SEEN: LazyLock<Mutex<HashSet<(Endpoint, String, DriftKind)>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

/// Compares an answer of `endpoint` with `shape`, logs each difference
/// not logged before, and says how many differences the answer has, logged
/// or not (the caller counts them in its instance's metrics).
pub fn check(endpoint: &Endpoint, answer: &Value, shape: &Kind) -> usize {
    let found = drift(answer, shape);
    for drift in &found {
        if !first_time(endpoint, &drift.field, drift.kind) {
            continue;
        }
        let field_is = match drift.source {
            Some(Source::Documented) => "documented",
            Some(Source::Inferred) => "inferred",
            None => "unread",
        };
        tracing::warn!(
            upstream = %endpoint,
            field = %drift.field,
            drift = %drift.kind,
            field_is = %field_is,
            "the upstream's answer differs from the contract the gateway reads"
        );
    }
    found.len()
}

/// Whether this difference is new (it is remembered then), within
/// [`MAX_SEEN`].
fn first_time(endpoint: &Endpoint, field: &str, kind: DriftKind) -> bool {
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.len() >= MAX_SEEN {
        return false;
    }
    let new = seen.insert((endpoint.clone(), field.to_owned(), kind));
    if new && seen.len() == MAX_SEEN {
        tracing::warn!("{MAX_SEEN} differences from the upstream contract logged: no more will be");
    }
    new
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use booking_core::contract::Field;
    use serde_json::json;

    use super::*;

    /// A log written to memory, for a test to read.
    #[derive(Clone, Default)]
    pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Captured {
        /// What was logged.
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }

        /// Runs `work` with this thread's log written here.
        pub(crate) fn during<R>(&self, work: impl FnOnce() -> R) -> R {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(self.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(subscriber, work)
        }
    }

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("name", Kind::Text),
        Field::inferred("status", Kind::Text),
    ]);

    fn endpoint(route: &'static str) -> Endpoint {
        Endpoint {
            product: Product::Practical,
            method: Method::POST,
            route,
        }
    }

    #[test]
    fn each_difference_is_logged_once_per_endpoint_and_names_no_value() {
        let answer = json!({ "id": "Priya Patel", "name": "Priya Patel", "colour": "blue" });
        let (first, second) = (endpoint("/drift-once/a"), endpoint("/drift-once/b"));
        let log = Captured::default();
        log.during(|| {
            for _ in 0..3 {
                check(&first, &answer, &SHAPE);
            }
            check(&second, &answer, &SHAPE);
        });
        let text = log.text();
        for (field, drift) in [
            ("status", "drift=missing field_is=inferred"),
            ("colour", "drift=extra field_is=unread"),
            ("id", "drift=differently_typed field_is=documented"),
        ] {
            let lines: Vec<&str> = text
                .lines()
                .filter(|line| line.contains(&format!("field={field} ")))
                .collect();
            assert_eq!(lines.len(), 2, "once per endpoint: {text}");
            assert!(lines[0].contains("WARN"), "{text}");
            assert!(lines[0].contains(drift), "{text}");
            assert!(lines[0].contains("upstream=practical POST /drift-once/a"));
            assert!(lines[1].contains("upstream=practical POST /drift-once/b"));
        }
        assert!(!text.contains("Priya") && !text.contains("blue"), "{text}");
        let quiet = Captured::default();
        quiet.during(|| {
            check(
                &first,
                &json!({ "id": 1, "name": "x", "status": "s" }),
                &SHAPE,
            )
        });
        assert_eq!(quiet.text(), "", "an answer as read logs nothing");
    }
}
