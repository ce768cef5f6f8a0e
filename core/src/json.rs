//! A small JSON reader for the widget: the same values as `serde_json`
//! for the gateway's answers, in a fraction of the WebAssembly.
//!
//! It reads any `Deserialize` type with serde's derived code, as
//! `serde_json::from_str` does, but keeps no reason when something is wrong
//! ([`JsonError`] is one value): formatting serde's error messages (and the
//! floating-point formatting they pull in) costs more code than every
//! decoder together, and the widget shows candidates a fixed sentence
//! anyway. The servers keep `serde_json`, whose errors go to their logs.
//!
//! Invariants: only JSON (RFC 8259) is accepted, with nothing but
//! whitespace after the value; nesting deeper than [`MAX_DEPTH`] is an error,
//! never a stack overflow; reading never panics. Numbers are read as
//! `serde_json` reads them (without its `float_roundtrip` feature): integers
//! as `u64` or `i64`, anything else as `f64` from the digits and the power
//! of ten, exactly when the power is at most 22 (every amount of money
//! written with up to 22 decimals).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, Unexpected, Visitor};

/// Arrays and objects may nest this deep and no deeper (as in `serde_json`).
pub const MAX_DEPTH: u32 = 127;

/// Why a JSON text could not be read as the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError;

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the JSON does not hold the expected value")
    }
}

impl std::error::Error for JsonError {}

impl de::Error for JsonError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        JsonError
    }

    fn invalid_type(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        JsonError
    }

    fn invalid_value(_: Unexpected<'_>, _: &dyn Expected) -> Self {
        JsonError
    }

    fn invalid_length(_: usize, _: &dyn Expected) -> Self {
        JsonError
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        JsonError
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        JsonError
    }

    fn missing_field(_: &'static str) -> Self {
        JsonError
    }

    fn duplicate_field(_: &'static str) -> Self {
        JsonError
    }
}

/// Reads a JSON text as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    let value = T::deserialize(&mut reader)?;
    if reader.peek().is_some() {
        return Err(JsonError);
    }
    Ok(value)
}

/// Exact powers of ten as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A JSON number as read.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

struct Reader<'de> {
    bytes: &'de [u8],
    text: &'de str,
    pos: usize,
    depth: u32,
}

impl<'de> Reader<'de> {
    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.pos) {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.pos += 1;
        }
        None
    }

    fn next_byte(&mut self) -> Result<u8, JsonError> {
        let byte = *self.bytes.get(self.pos).ok_or(JsonError)?;
        self.pos += 1;
        Ok(byte)
    }

    /// Consumes `word` (`null`, `true`, `false`).
    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) != Some(word.as_bytes()) {
            return Err(JsonError);
        }
        self.pos = end;
        Ok(())
    }

    /// Consumes `[` or `{`, one level deeper.
    fn open(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(JsonError);
        }
        self.pos += 1;
        Ok(())
    }

    /// Consumes the closing `]` or `}`.
    fn close(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.peek() != Some(byte) {
            return Err(JsonError);
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Before an element or member: `false` at the closing byte, else
    /// consumes the comma between items.
    fn has_next(&mut self, first: &mut bool, close: u8) -> Result<bool, JsonError> {
        let byte = self.peek().ok_or(JsonError)?;
        if byte == close {
            return Ok(false);
        }
        if *first {
            *first = false;
        } else if byte == b',' {
            self.pos += 1;
            self.peek().ok_or(JsonError)?;
        } else {
            return Err(JsonError);
        }
        Ok(true)
    }

    /// A string, at its opening quote.
    fn string(&mut self) -> Result<Cow<'de, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.next_byte()? {
                b'"' => return Ok(Cow::Borrowed(&self.text[start..self.pos - 1])),
                b'\\' => {
                    let mut text = self.text[start..self.pos - 1].to_owned();
                    text.push(self.escape()?);
                    return self.string_rest(text).map(Cow::Owned);
                }
                0..=0x1f => return Err(JsonError),
                _ => {}
            }
        }
    }

    /// The rest of a string that had an escape, added to `text`.
    fn string_rest(&mut self, mut text: String) -> Result<String, JsonError> {
        let mut start = self.pos;
        loop {
            match self.next_byte()? {
                b'"' => {
                    text.push_str(&self.text[start..self.pos - 1]);
                    return Ok(text);
                }
                b'\\' => {
                    text.push_str(&self.text[start..self.pos - 1]);
                    let escaped = self.escape()?;
                    text.push(escaped);
                    start = self.pos;
                }
                0..=0x1f => return Err(JsonError),
                _ => {}
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        Ok(match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xd800..=0xdbff => {
                        if self.next_byte()? != b'\\' || self.next_byte()? != b'u' {
                            return Err(JsonError);
                        }
                        let second = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&second) {
                            return Err(JsonError);
                        }
                        0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(JsonError),
                    code => code,
                };
                char::from_u32(code).ok_or(JsonError)?
            }
            _ => return Err(JsonError),
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = char::from(self.next_byte()?)
                .to_digit(16)
                .ok_or(JsonError)?;
            value = value * 16 + digit;
        }
        Ok(value)
    }

    fn digit(&self) -> Option<u64> {
        match self.bytes.get(self.pos) {
            Some(&byte @ b'0'..=b'9') => Some(u64::from(byte - b'0')),
            _ => None,
        }
    }

    /// Digits into `digits` while they fit in a `u64`; the rest are
    /// dropped (each counted as a power of ten when `whole`).
    fn digits(&mut self, digits: &mut Digits, whole: bool) {
        let mut full = false;
        while let Some(digit) = self.digit() {
            self.pos += 1;
            let next = digits
                .significand
                .checked_mul(10)
                .and_then(|n| n.checked_add(digit));
            match next {
                Some(next) if !full => {
                    digits.significand = next;
                    if !whole {
                        digits.exponent -= 1;
                    }
                }
                _ => {
                    full = true;
                    digits.float = true;
                    if whole {
                        digits.exponent += 1;
                    }
                }
            }
        }
    }

    /// A number, at its first byte.
    fn number(&mut self) -> Result<Number, JsonError> {
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let mut digits = Digits {
            significand: 0,
            exponent: 0,
            float: false,
        };
        match self.digit() {
            Some(0) => {
                self.pos += 1;
                if self.digit().is_some() {
                    return Err(JsonError);
                }
            }
            Some(_) => self.digits(&mut digits, true),
            None => return Err(JsonError),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            digits.float = true;
            self.digit().ok_or(JsonError)?;
            self.digits(&mut digits, false);
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            digits.float = true;
            let negative_exponent = match self.bytes.get(self.pos) {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            self.digit().ok_or(JsonError)?;
            let mut written: i32 = 0;
            while let Some(digit) = self.digit() {
                self.pos += 1;
                written = written.saturating_mul(10).saturating_add(digit as i32);
            }
            digits.exponent = if negative_exponent {
                digits.exponent.saturating_sub(written)
            } else {
                digits.exponent.saturating_add(written)
            };
        }
        let Digits {
            significand,
            exponent,
            float,
        } = digits;
        if !float {
            if !negative {
                return Ok(Number::Unsigned(significand));
            }
            let value = (significand as i64).wrapping_neg();
            if value < 0 {
                return Ok(Number::Signed(value));
            }
        }
        let magnitude = scale(significand as f64, exponent)?;
        Ok(Number::Float(if negative { -magnitude } else { magnitude }))
    }
}

/// The digits of a number: a significand and a power of ten.
struct Digits {
    significand: u64,
    exponent: i32,
    float: bool,
}

/// `value` times ten to the `exponent`; infinity is an error.
fn scale(mut value: f64, mut exponent: i32) -> Result<f64, JsonError> {
    while exponent != 0 && value != 0.0 && value.is_finite() {
        let step = exponent.unsigned_abs().min(22);
        let power = POW10[step as usize];
        if exponent > 0 {
            value *= power;
            exponent -= step as i32;
        } else {
            value /= power;
            exponent += step as i32;
        }
    }
    if value.is_infinite() {
        return Err(JsonError);
    }
    Ok(value)
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = JsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        match self.peek().ok_or(JsonError)? {
            b'n' => {
                self.literal("null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal("true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal("false")?;
                visitor.visit_bool(false)
            }
            b'"' => match self.string()? {
                Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
                Cow::Owned(text) => visitor.visit_string(text),
            },
            b'[' => {
                self.open()?;
                let value = visitor.visit_seq(Items {
                    reader: self,
                    first: true,
                })?;
                self.close(b']')?;
                Ok(value)
            }
            b'{' => {
                self.open()?;
                let value = visitor.visit_map(Items {
                    reader: self,
                    first: true,
                })?;
                self.close(b'}')?;
                Ok(value)
            }
            _ => match self.number()? {
                Number::Unsigned(value) => visitor.visit_u64(value),
                Number::Signed(value) => visitor.visit_i64(value),
                Number::Float(value) => visitor.visit_f64(value),
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, JsonError> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, JsonError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The elements of an array or the members of an object.
struct Items<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = JsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, JsonError> {
        if !self.reader.has_next(&mut self.first, b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = JsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, JsonError> {
        if !self.reader.has_next(&mut self.first, b'}')? {
            return Ok(None);
        }
        if self.reader.peek() != Some(b'"') {
            return Err(JsonError);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, JsonError> {
        if self.reader.peek() != Some(b':') {
            return Err(JsonError);
        }
        self.reader.pos += 1;
        seed.deserialize(&mut *self.reader)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;
    use crate::api::{Course, Money, TrainingEvent};
    use crate::widget_api::{BookingReceipt, HeldSeat, WidgetOptions};

    /// Reads `text` with both readers and checks they agree.
    fn same<T>(text: &str) -> Option<T>
    where
        T: DeserializeOwned + PartialEq + fmt::Debug,
    {
        let ours = from_str::<T>(text).ok();
        let theirs = serde_json::from_str::<T>(text).ok();
        assert_eq!(ours, theirs, "{text}");
        ours
    }

    #[test]
    fn reads_the_gateway_answers_as_serde_json_does() {
        let events = r#"[{"id":41,"course":{"id":2,"name":"Moving & Handling"},
            "location":{"id":5,"name":"Leeds","address":null},
            "start_date":"2026-08-04T09:30:00+01:00","end_date":"2026-08-04T16:30:00+01:00",
            "remaining_slots":4,"cost_inc_vat":412.5,"booking_url":"https://x/\u00e9\ud83d\ude00",
            "extra":[{"deep":[1,2.5e-3,-7,"\"q\""]},null,true,false]}]"#;
        let read = same::<Vec<TrainingEvent>>(events).expect("events");
        assert_eq!(read[0].cost_inc_vat, Money(41250));
        assert_eq!(read[0].booking_url, "https://x/é😀");
        same::<Vec<Course>>(r#"[{"id":1,"name":"PMVA","cost_inc_vat":95,"requires_review":null}]"#)
            .expect("courses");
        same::<WidgetOptions>(
            r#"{"account_name":"A","pay_options":["credits","x"],"payment_origins":[],"session":"s"}"#,
        )
        .expect("options");
        same::<HeldSeat>(
            r#"{"hold_ref":"r","hold":{"hold_hash":"h","expires_at":"2026-08-04T09:30:00+00:00",
            "expires_in_seconds":1800,"training_event":{"id":41,"course":"C","location":"L",
            "start_date":"2026-08-04T09:30:00+01:00"}}}"#,
        )
        .expect("hold");
        same::<BookingReceipt>(
            r#"{"booking_ref":"b","booking":{"id":9001,"candidate":{"name":"P","email":"e"},
            "course":{"id":2,"name":"C"},"location":{"id":5,"name":"Leeds"},
            "start_date":"2026-08-04T09:30:00+01:00","end_date":"2026-08-04T16:30:00+01:00",
            "booking_status":"booked","pay_status":"completed","pay_option":"credits",
            "attendance":null,"created_at":"2026-07-20T14:17:03+00:00","payment_url":null}}"#,
        )
        .expect("booking");
        same::<BTreeMap<String, Vec<String>>>(r#"{"email":["taken","bad"],"b":[]}"#).expect("map");
        same::<()>("null").expect("unit");
        assert_eq!(same::<()>(" "), None, "an empty text is not null");
    }

    #[test]
    fn numbers_are_read_as_serde_json_reads_them() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "412.5",
            "19.99",
            "1.005",
            "0.125",
            "1e3",
            "1E+3",
            "25e-1",
            "1e400",
            "1e-400",
            "123456789012345678901234567890.5",
            "00",
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "1.e3",
            "1e+",
            "2.50e1",
            "-412.50",
        ] {
            same::<Option<Value>>(text);
            same::<Option<Money>>(text);
            same::<Option<u64>>(text);
            same::<Option<i64>>(text);
            same::<Option<u32>>(text);
        }
    }

    #[test]
    fn only_json_is_accepted() {
        for text in [
            "",
            "nul",
            "truth",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"tab\there\"",
            "\"open",
            "[1] x",
            "{\"a\":[1,{\"b\":null}]}",
            " [ 1 , 2 ] ",
            "\"\\/\\b\\f\\n\\r\\t\"",
        ] {
            same::<Option<Value>>(text);
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let deep = "[".repeat(100_000);
        assert_eq!(from_str::<Value>(&deep), Err(JsonError));
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        same::<Value>(&nested(MAX_DEPTH as usize));
        same::<Value>(&nested(MAX_DEPTH as usize + 1));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Shape {
            id: u64,
            name: String,
        }
        for text in [
            r#"{"id":1,"name":"a"}"#,
            r#"{"id":1}"#,
            r#"{"id":"1","name":"a"}"#,
            r#"{"id":1,"name":"a","id":2}"#,
            r#"[1,"a"]"#,
            r#"{"id":-1,"name":"a"}"#,
            r#"{"id":1.5,"name":"a"}"#,
        ] {
            same::<Shape>(text);
        }
    }

    proptest! {
        #[test]
        fn any_json_value_reads_the_same(value in json_value()) {
            let text = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(from_str::<Value>(&text).ok(), serde_json::from_str::<Value>(&text).ok());
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            prop_assert_eq!(from_str::<Value>(&pretty).ok(), Some(value));
        }

        #[test]
        fn any_text_reads_the_same(text in "[\\[\\]{}\",:0-9.+\\-nulrtfas\\\\ ]{0,24}") {
            same::<Option<Value>>(&text);
        }

        #[test]
        fn any_amount_reads_the_same(pence in -10_000_000_000i64..10_000_000_000, decimals in 0usize..4) {
            let text = format!("{}.{:0width$}", pence / 100, (pence % 100).abs(), width = decimals.max(2));
            same::<Money>(&text);
            same::<Money>(&(pence / 100).to_string());
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(|n| Value::from((n * 100.0).round() / 100.0)),
            "[ -~\\u{e9}\\u{1f600}\\n\\t\"\\\\]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{0,6}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }
}
