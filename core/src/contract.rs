//! What the project reads of each upstream answer, field by field, and
//! whether the published documents show each field.
//!
//! Every answer type of [`crate::api`] declares its fields next to it, as
//! its [`Answer::SHAPE`]: the one place the project's guesses about the
//! upstream are written down. A field is *documented* when the published
//! documents show it in that answer (an example body, a schema page, or the
//! text naming it as part of the answer), *inferred* otherwise. Every
//! inferred field is optional when decoded, so an upstream that leaves one
//! out is read all the same.
//!
//! Two readers use the shapes:
//! * the gateway compares each answer it decodes with its shape
//!   ([`drift`]) and logs what differs: a field missing, one it does not
//!   read, one of another JSON type;
//! * the sandbox's `shape=documented` keeps only the documented fields of
//!   each answer ([`keep_documented`]).
//!
//! Invariants: a drift names fields, never values (an answer may hold
//! personal data); an answer's drift list is bounded ([`MAX_DRIFTS`]), and
//! a key of the answer that does not look like a field name is never
//! repeated ([`UNNAMED`]).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

/// The JSON type a field is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (names, timestamps, enum values).
    Text,
    /// A whole number.
    Integer,
    /// Any number (money).
    Number,
    /// `true` or `false`.
    Flag,
    /// An object with these fields.
    Object(&'static [Field]),
    /// An array of one kind of item.
    List(&'static Kind),
    /// An object whose keys are data, not fields (a 422's `errors`).
    Map,
}

impl Kind {
    /// Whether `value` is of this kind (`null` is not).
    fn admits(self, value: &Value) -> bool {
        match self {
            Kind::Text => value.is_string(),
            Kind::Integer => value.is_u64() || value.is_i64(),
            Kind::Number => value.is_number(),
            Kind::Flag => value.is_boolean(),
            Kind::Object(_) | Kind::Map => value.is_object(),
            Kind::List(_) => value.is_array(),
        }
    }
}

/// Whether the published documents show a field in its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Shown: an example body, a schema page, or the text names it.
    Documented,
    /// The project's guess.
    Inferred,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Documented => "documented",
            Source::Inferred => "inferred",
        })
    }
}

/// Whether an answer is expected to carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// In every answer, never `null`.
    Always,
    /// In every answer, possibly `null` (`attendance` before the event).
    Nullable,
    /// In some answers only, or `null` (`payment_url`, a phone not given).
    Optional,
}

/// One field of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its JSON name.
    pub name: &'static str,
    /// Its JSON type.
    pub kind: Kind,
    /// Whether the published documents show it.
    pub source: Source,
    /// Whether every answer carries it.
    pub presence: Presence,
}

impl Field {
    /// A field the documents show, in every answer.
    pub const fn documented(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            source: Source::Documented,
            presence: Presence::Always,
        }
    }

    /// A field the project guesses, in every answer.
    pub const fn inferred(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            source: Source::Inferred,
            presence: Presence::Always,
        }
    }

    /// The same field, possibly `null`.
    pub const fn nullable(self) -> Field {
        Field {
            presence: Presence::Nullable,
            ..self
        }
    }

    /// The same field, in some answers only.
    pub const fn optional(self) -> Field {
        Field {
            presence: Presence::Optional,
            ..self
        }
    }
}

/// An upstream answer type and what the project reads of it.
pub trait Answer {
    /// Its JSON shape: an object's fields, for every answer but a list.
    const SHAPE: Kind;
}

/// How an answer differs from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DriftKind {
    /// A field the shape expects is not there.
    Missing,
    /// A field the shape does not know (it is not read).
    Extra,
    /// A field of another JSON type than the shape's (or `null`).
    Type,
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriftKind::Missing => "missing",
            DriftKind::Extra => "extra",
            DriftKind::Type => "differently_typed",
        })
    }
}

/// One difference between an answer and its shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Drift {
    /// The field's path: `candidate.email`, `data[].training_status`,
    /// [`WHOLE_ANSWER`] for the answer itself.
    pub field: String,
    /// How it differs.
    pub kind: DriftKind,
    /// Whether the documents show the field (`None` for an extra one).
    pub source: Option<Source>,
}

/// The path naming the answer itself in a [`Drift`].
pub const WHOLE_ANSWER: &str = "(answer)";

/// The most drifts one answer reports: a hostile answer with thousands of
/// unknown fields costs no more than this.
pub const MAX_DRIFTS: usize = 32;

/// The longest field name a drift repeats from an answer.
pub const MAX_NAME_CHARS: usize = 64;

/// What a drift says for a key that does not look like a field name.
pub const UNNAMED: &str = "(unnamed)";

/// How `answer` differs from `shape`: every field the shape expects that is
/// missing (an optional one may be), every field it does not know, every
/// field of another JSON type. Nested objects and the items of lists are
/// compared too; a list's items are named `list[]` and the same drift of
/// many items is reported once. At most [`MAX_DRIFTS`], in path order.
pub fn drift(answer: &Value, shape: &Kind) -> Vec<Drift> {
    let mut found = BTreeSet::new();
    compare(answer, *shape, "", None, &mut found);
    found.into_iter().take(MAX_DRIFTS).collect()
}

fn compare(
    value: &Value,
    kind: Kind,
    path: &str,
    source: Option<Source>,
    found: &mut BTreeSet<Drift>,
) {
    if found.len() >= MAX_DRIFTS {
        return;
    }
    if !kind.admits(value) {
        found.insert(Drift {
            field: if path.is_empty() {
                WHOLE_ANSWER.to_owned()
            } else {
                path.to_owned()
            },
            kind: DriftKind::Type,
            source,
        });
        return;
    }
    match (kind, value) {
        (Kind::Object(fields), Value::Object(map)) => compare_fields(map, fields, path, found),
        (Kind::List(item), Value::Array(items)) => {
            let path = format!("{path}[]");
            for value in items {
                compare(value, *item, &path, source, found);
            }
        }
        _ => {}
    }
}

fn compare_fields(
    map: &Map<String, Value>,
    fields: &[Field],
    path: &str,
    found: &mut BTreeSet<Drift>,
) {
    let at = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    for field in fields {
        let drift = |kind| Drift {
            field: at(field.name),
            kind,
            source: Some(field.source),
        };
        match map.get(field.name) {
            None if field.presence != Presence::Optional => {
                found.insert(drift(DriftKind::Missing));
            }
            None => {}
            Some(Value::Null) if field.presence == Presence::Always => {
                found.insert(drift(DriftKind::Type));
            }
            Some(Value::Null) => {}
            Some(value) => compare(
                value,
                field.kind,
                &at(field.name),
                Some(field.source),
                found,
            ),
        }
    }
    for name in map.keys() {
        if found.len() >= MAX_DRIFTS {
            return;
        }
        if fields.iter().all(|field| field.name != name) {
            found.insert(Drift {
                field: at(&plain_name(name)),
                kind: DriftKind::Extra,
                source: None,
            });
        }
    }
}

/// A field name from an answer as a drift repeats it: the name when it
/// looks like one (1 to [`MAX_NAME_CHARS`] letters, digits, `_` or `-`),
/// else [`UNNAMED`], so data used as a key is never repeated.
fn plain_name(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_owned()
    } else {
        UNNAMED.to_owned()
    }
}

/// Leaves in `answer` only what the documents show of `shape`: every field
/// the shape marks inferred, and every field it does not know, is taken out
/// of the answer and of the objects and lists inside it.
pub fn keep_documented(answer: &mut Value, shape: &Kind) {
    match (shape, answer) {
        (Kind::Object(fields), Value::Object(map)) => {
            map.retain(|name, _| {
                fields
                    .iter()
                    .any(|field| field.name == name && field.source == Source::Documented)
            });
            for field in fields.iter() {
                if let Some(value) = map.get_mut(field.name) {
                    keep_documented(value, &field.kind);
                }
            }
        }
        (Kind::List(item), Value::Array(items)) => {
            for value in items {
                keep_documented(value, item);
            }
        }
        _ => {}
    }
}

/// The paths of the inferred fields of `shape`, in the order it lists them
/// (a list's items as `list[]`): what `shape=documented` leaves out.
pub fn inferred_fields(shape: &Kind) -> Vec<String> {
    let mut paths = Vec::new();
    collect_inferred(shape, "", &mut paths);
    paths
}

fn collect_inferred(kind: &Kind, path: &str, paths: &mut Vec<String>) {
    match kind {
        Kind::Object(fields) => {
            for field in fields.iter() {
                let at = if path.is_empty() {
                    field.name.to_owned()
                } else {
                    format!("{path}.{}", field.name)
                };
                if field.source == Source::Inferred {
                    paths.push(at);
                } else {
                    collect_inferred(&field.kind, &at, paths);
                }
            }
        }
        Kind::List(item) => collect_inferred(item, &format!("{path}[]"), paths),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PERSON: Kind = Kind::Object(&[
        Field::documented("name", Kind::Text),
        Field::documented("phone", Kind::Text).optional(),
    ]);

    const SHAPE: Kind = Kind::Object(&[
        Field::documented("id", Kind::Integer),
        Field::documented("person", PERSON),
        Field::documented("price", Kind::Number),
        Field::documented("note", Kind::Text).nullable(),
        Field::inferred("status", Kind::Text),
        Field::inferred("tags", Kind::List(&Kind::Text)).optional(),
        Field::documented("people", Kind::List(&PERSON)),
    ]);

    fn answer() -> Value {
        json!({
            "id": 7, "person": { "name": "Priya Patel", "phone": null },
            "price": 95.5, "note": null, "status": "booked",
            "people": [{ "name": "Owen Hughes" }]
        })
    }

    fn drift_of(answer: &Value) -> Vec<(String, DriftKind)> {
        drift(answer, &SHAPE)
            .into_iter()
            .map(|drift| (drift.field, drift.kind))
            .collect()
    }

    #[test]
    fn an_answer_as_read_does_not_drift() {
        assert_eq!(drift_of(&answer()), []);
        let mut fuller = answer();
        fuller["tags"] = json!(["a"]);
        fuller["person"]["phone"] = json!("+447700900123");
        assert_eq!(drift_of(&fuller), []);
    }

    #[test]
    fn missing_extra_and_differently_typed_fields_are_named() {
        let mut drifted = answer();
        let top = drifted.as_object_mut().unwrap();
        top.remove("status");
        top.remove("note");
        top.insert("id".into(), json!("7"));
        top.insert("price".into(), json!(95));
        top.insert("colour".into(), json!("blue"));
        drifted["person"]["name"] = json!(null);
        drifted["people"] = json!([{ "name": 1 }, { "name": 2, "age": 40 }, { "name": "x" }]);
        assert_eq!(
            drift_of(&drifted),
            [
                ("colour".to_owned(), DriftKind::Extra),
                ("id".to_owned(), DriftKind::Type),
                ("note".to_owned(), DriftKind::Missing),
                ("people[].age".to_owned(), DriftKind::Extra),
                ("people[].name".to_owned(), DriftKind::Type),
                ("person.name".to_owned(), DriftKind::Type),
                ("status".to_owned(), DriftKind::Missing),
            ]
        );
        let status = drift(&drifted, &SHAPE)
            .into_iter()
            .find(|drift| drift.field == "status")
            .unwrap();
        assert_eq!(status.source, Some(Source::Inferred));
        assert_eq!(
            drift_of(&json!([1])),
            [(WHOLE_ANSWER.to_owned(), DriftKind::Type)]
        );
    }

    #[test]
    fn drifts_name_fields_never_values_and_stay_bounded() {
        let mut hostile = answer();
        let top = hostile.as_object_mut().unwrap();
        for n in 0..100 {
            top.insert(format!("priya.patel{n}@example.com"), json!("secret"));
        }
        top.insert("x".repeat(MAX_NAME_CHARS + 1), json!(1));
        assert_eq!(drift_of(&hostile), [(UNNAMED.to_owned(), DriftKind::Extra)]);
        let top = hostile.as_object_mut().unwrap();
        for n in 0..1000 {
            top.insert(format!("field_{n:04}"), json!(1));
        }
        let drifts = drift(&hostile, &SHAPE);
        assert_eq!(drifts.len(), MAX_DRIFTS);
        assert!(drifts.iter().all(|drift| !drift.field.contains("priya")));
    }

    #[test]
    fn keeping_the_documented_fields_drops_the_inferred_and_the_unknown() {
        let mut full = answer();
        full["tags"] = json!(["a"]);
        full["colour"] = json!("blue");
        full["people"][0]["age"] = json!(40);
        keep_documented(&mut full, &SHAPE);
        let mut expected = answer();
        expected.as_object_mut().unwrap().remove("status");
        assert_eq!(full, expected);
        assert_eq!(inferred_fields(&SHAPE), ["status", "tags"]);
        assert_eq!(
            inferred_fields(&Kind::List(&SHAPE)),
            ["[].status", "[].tags"]
        );
    }
}
