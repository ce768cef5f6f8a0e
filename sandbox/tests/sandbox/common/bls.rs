//! Helpers for the Virtual BLS API (`/bls/api/v1`) of the sandbox.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{Harness, Reply};

/// HB-BLS-DEMO's credentials: invoice payments on, 5 credits of course 41,
/// 2 of course 42, £250.
pub const BLS_DEMO: (&str, &str) = ("HB-BLS-DEMO", "bls-sandbox-key");
/// HB-BLS-NOINV's credentials: invoice payments off, no credits, £30.
pub const BLS_NOINV: (&str, &str) = ("HB-BLS-NOINV", "bls-sandbox-key-noinv");

/// The 60-minute course (15 minutes' buffer each side, £55).
pub const UPDATE: i64 = 41;

impl Harness {
    /// Absolute URL of a Virtual BLS API path (`/timeslots`).
    pub fn bls(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.bls_api_url())
    }

    /// GET a Virtual BLS API path.
    pub async fn bls_get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, &self.bls(path), Some(token), None, &[])
            .await
    }

    /// POST JSON to a Virtual BLS API path.
    pub async fn bls_post(&self, token: Option<&str>, path: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.send(Method::POST, &self.bls(path), token, Some(bytes), &[])
            .await
    }

    /// DELETE a Virtual BLS API path.
    pub async fn bls_delete(&self, token: &str, path: &str) -> Reply {
        self.send(Method::DELETE, &self.bls(path), Some(token), None, &[])
            .await
    }

    /// Signs in to the Virtual BLS API and returns the access token.
    pub async fn bls_login(&self, (client_id, api_key): (&str, &str)) -> String {
        let reply = self
            .bls_post(
                None,
                "/auth/token",
                json!({ "hb_client_id": client_id, "api_key": api_key }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Creates a Virtual BLS account through the fixture endpoint and signs
    /// in.
    pub async fn bls_account(&self, client_id: &str, extra: Value) -> String {
        let mut body = json!({ "product": "virtual_bls" });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.create_account(client_id, "key", body).await;
        self.bls_login((client_id, "key")).await
    }

    /// The timeslots of a course on one UK date: (time, remaining_slots).
    pub async fn slots_on(&self, token: &str, course: i64, date: NaiveDate) -> Vec<(String, i64)> {
        let reply = self
            .bls_get(
                token,
                &format!(
                    "/timeslots?course_id={course}&date_from={date}&date_to={date}&per_page=100"
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|slot| {
                (
                    slot["time"].as_str().expect("time").to_owned(),
                    slot["remaining_slots"].as_i64().expect("remaining"),
                )
            })
            .collect()
    }

    /// Holds a timeslot.
    pub async fn bls_hold(&self, token: &str, course: i64, date: NaiveDate, time: &str) -> Reply {
        self.bls_post(
            Some(token),
            "/timeslots/hold",
            json!({ "course_id": course, "date": date.to_string(), "time": time }),
        )
        .await
    }

    /// Holds a timeslot and returns the hash, insisting on success.
    pub async fn bls_hold_hash(
        &self,
        token: &str,
        course: i64,
        date: NaiveDate,
        time: &str,
    ) -> String {
        let reply = self.bls_hold(token, course, date, time).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["hold_hash"].as_str().expect("hash").to_owned()
    }

    /// Books a hold with a pay option.
    pub async fn bls_book(&self, token: &str, hold_hash: &str, pay_option: &str) -> Reply {
        self.bls_post(
            Some(token),
            "/bookings",
            bls_booking_body(hold_hash, pay_option),
        )
        .await
    }

    /// The sandbox's UK date today.
    pub async fn uk_today(&self) -> NaiveDate {
        booking_core::uk_time::uk_today(self.now().await)
    }
}

/// A complete, valid Virtual BLS booking body.
pub fn bls_booking_body(hold_hash: &str, pay_option: &str) -> Value {
    json!({
        "hold_hash": hold_hash,
        "first_name": "Owen",
        "last_name": "Hughes",
        "email": "owen.hughes@carestaff.example",
        "phone": "+447700900456",
        "pay_option": pay_option,
        "agency_contact_name": "Tom Birch",
        "agency_contact_email": "tom.birch@northwestcare.example",
        "address": "12 Canal Street",
        "city": "Leeds",
        "postcode": "ls1 4pr"
    })
}

/// The first `weekday` on or after `from`.
pub fn next_weekday(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let mut day = from;
    while day.weekday() != weekday {
        day += Duration::days(1);
    }
    day
}

/// Bank holidays in England and Wales, 2026 to 2028 (the oracle for the
/// kit's working days).
const BANK_HOLIDAYS: &[&str] = &[
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-04",
    "2026-05-25",
    "2026-08-31",
    "2026-12-25",
    "2026-12-28",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-03",
    "2027-05-31",
    "2027-08-30",
    "2027-12-27",
    "2027-12-28",
    "2028-01-03",
    "2028-04-14",
    "2028-04-17",
    "2028-05-01",
    "2028-05-29",
    "2028-08-28",
    "2028-12-25",
    "2028-12-26",
];

/// Whether a date is a working day for posting the kit.
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
        && !BANK_HOLIDAYS.contains(&day.to_string().as_str())
}

/// The first bookable date: `today` plus three working days.
pub fn earliest_bookable(today: NaiveDate) -> NaiveDate {
    let mut day = today;
    let mut left = 3;
    while left > 0 {
        day += Duration::days(1);
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// The first `weekday` on or after `from` that is not a bank holiday.
pub fn next_open(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let mut day = next_weekday(from, weekday);
    while BANK_HOLIDAYS.contains(&day.to_string().as_str()) {
        day = next_weekday(day + Duration::days(1), weekday);
    }
    day
}
