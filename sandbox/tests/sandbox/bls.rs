//! The Virtual BLS API of the sandbox over real HTTP: its own accounts and
//! auth, courses, booking URL, credits and transactions, timeslots
//! generated from the trainers' schedules (buffers, holidays, extra
//! sessions, the booking window, both UK clock changes), holds and their
//! release, the upstream profiles, and its errors.

use crate::common::bls::{
    earliest_bookable, is_working_day, next_open, next_weekday, BLS_DEMO, BLS_NOINV, UPDATE,
};
use crate::common::{parse_time, Harness, DEMO};
use booking_core::uk_time::{bst_ends, bst_starts};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn slots(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs
        .iter()
        .map(|(time, left)| ((*time).to_owned(), *left))
        .collect()
}

#[tokio::test]
async fn bls_accounts_sign_in_only_to_the_bls_api() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let info = h.bls_get(&token, "/auth/token-info").await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.body["hb_client_id"], "HB-BLS-DEMO");
    assert!(info.body["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("timeslots")));
    // A BLS account cannot sign in to Practical Training, nor the reverse.
    let wrong = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": "HB-BLS-DEMO", "api_key": "bls-sandbox-key" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let wrong = h
        .bls_post(
            None,
            "/auth/token",
            json!({ "hb_client_id": "HB-DEMO", "api_key": "sandbox-key" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body["message"],
        "These credentials do not match our records."
    );
    // Tokens do not cross either.
    let practical = h.login(DEMO).await;
    assert_eq!(
        h.bls_get(&practical, "/credits").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.get(&token, "/credits").await.status,
        StatusCode::UNAUTHORIZED
    );
    let missing = h.bls_post(None, "/auth/token", json!({})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body["errors"]["api_key"].is_array());
}

#[tokio::test]
async fn bls_tokens_refresh_and_revoke() {
    let h = Harness::start().await;
    let pair = h
        .bls_post(
            None,
            "/auth/token",
            json!({ "hb_client_id": "HB-BLS-DEMO", "api_key": "bls-sandbox-key" }),
        )
        .await;
    let refresh = pair.body["refresh_token"].as_str().unwrap();
    let renewed = h
        .bls_post(None, "/auth/refresh", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let again = h
        .bls_post(None, "/auth/refresh", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "refresh rotates");
    let token = renewed.body["access_token"].as_str().unwrap();
    let revoked = h.bls_post(Some(token), "/auth/revoke", json!({})).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        h.bls_get(token, "/courses").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.bls_get("nonsense", "/timeslots").await.body["message"],
        "Unauthenticated."
    );
}

#[tokio::test]
async fn courses_booking_url_credits_and_transactions_are_the_bls_accounts() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let courses = h.bls_get(&token, "/courses").await;
    assert_eq!(courses.status, StatusCode::OK, "{}", courses.body);
    let ids: Vec<i64> = courses.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|course| course["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [41, 42, 43]);
    assert_eq!(
        courses.body["data"][0]["name"],
        "BLS Annual Update (Virtual)"
    );
    assert_eq!(courses.body["data"][0]["duration_minutes"], 60);
    assert_eq!(courses.body["data"][0]["cost_inc_vat"], 55.0);
    assert_eq!(courses.body["meta"]["total"], 3);
    // Practical Training's catalogue does not list them.
    let practical = h.login(DEMO).await;
    let practical_courses = h.get(&practical, "/courses").await;
    assert!(practical_courses.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|course| course["id"].as_i64().unwrap() < 41));
    let url = h.bls_get(&token, "/booking-url").await;
    let booking_url = url.body["booking_url"].as_str().unwrap();
    assert_eq!(
        booking_url,
        format!("{}/virtual-bls/?sgi=NWCAREBLS", h.sandbox.url())
    );
    let page = h.client.get(booking_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Northwest Care Staffing"));
    let credits = h.bls_get(&token, "/credits").await;
    assert_eq!(credits.body["booking_money_balance"], 250.0);
    assert_eq!(credits.body["currency"], "GBP");
    assert_eq!(credits.body["booking_credits"][0]["course_id"], 41);
    assert_eq!(credits.body["booking_credits"][0]["credits"], 5);
    assert_eq!(
        credits.body["booking_credits"][0]["course_name"],
        "BLS Annual Update (Virtual)"
    );
    let transactions = h.bls_get(&token, "/transactions").await;
    assert_eq!(
        transactions.body["meta"]["total"], 3,
        "{}",
        transactions.body
    );
    assert!(transactions.body["links"]["next"].is_null());
    let paged = h.bls_get(&token, "/transactions?per_page=1").await;
    assert_eq!(
        paged.body["links"]["next"],
        format!(
            "{}/bls/api/v1/transactions?per_page=1&page=2",
            h.sandbox.url()
        )
    );
}

#[tokio::test]
async fn practical_training_only_routes_are_not_found_on_bls() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    for path in [
        "/profile",
        "/locations",
        "/training-events",
        "/bookings/no-shows",
        "/nothing",
    ] {
        let reply = h.bls_get(&token, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body["message"].is_string(), "{path}");
    }
    let cancel = h
        .bls_post(Some(&token), "/bookings/7001/cancel", json!({}))
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let wrong_method = h
        .send(Method::PUT, &h.bls("/timeslots"), Some(&token), None, &[])
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.body["message"],
        "The PUT method is not supported for this route."
    );
}

#[tokio::test]
async fn timeslots_list_their_course_times_and_price_within_the_booking_window() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let today = h.uk_today().await;
    let earliest = earliest_bookable(today);
    let latest = today + Duration::days(90);
    let mut page = 1;
    let mut seen = 0;
    loop {
        let reply = h
            .bls_get(
                &token,
                &format!("/timeslots?course_id=41&per_page=100&page={page}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for slot in reply.body["data"].as_array().unwrap() {
            let date =
                NaiveDate::parse_from_str(slot["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            assert!(date >= earliest && date <= latest, "{slot}");
            let start = parse_time(&slot["start_date"]);
            let end = parse_time(&slot["end_date"]);
            assert_eq!(start.date_naive(), date);
            assert_eq!(start.format("%H:%M").to_string(), slot["time"]);
            assert_eq!(end - start, Duration::minutes(60));
            assert_eq!(
                slot["course"],
                json!({ "id": 41, "name": "BLS Annual Update (Virtual)" })
            );
            assert_eq!(slot["cost_inc_vat"], 55.0);
            assert!(slot["remaining_slots"].as_i64().unwrap() >= 1);
            seen += 1;
        }
        if reply.body["links"]["next"].is_null() {
            break;
        }
        page += 1;
    }
    assert!(seen > 200, "{seen} slots in 90 days");
    // The first bookable date has slots (when a trainer works that day) and
    // the day before it has none.
    let before = h
        .slots_on(&token, UPDATE, earliest - Duration::days(1))
        .await;
    assert!(before.is_empty(), "{before:?}");
    // Every course when none is named.
    let all = h
        .bls_get(
            &token,
            &format!("/timeslots?date_from={earliest}&date_to={earliest}&per_page=100"),
        )
        .await;
    let courses: std::collections::BTreeSet<i64> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|slot| slot["course"]["id"].as_i64().unwrap())
        .collect();
    if is_working_day(earliest) {
        assert_eq!(courses.into_iter().collect::<Vec<_>>(), [41, 42, 43]);
    }
}

#[tokio::test]
async fn timeslots_come_from_each_trainers_weekly_schedule_with_buffers() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let earliest = earliest_bookable(h.uk_today().await);
    // Saturday: only Dr Alana Reid, 08:45 to 12:45. A 60-minute session with
    // 15 minutes either side fits twice.
    let saturday = next_open(earliest, Weekday::Sat);
    assert_eq!(
        h.slots_on(&token, UPDATE, saturday).await,
        slots(&[("09:00", 1), ("10:30", 1)])
    );
    // Tuesday: Marcus Bell (08:45-12:45, 13:15-17:15) and Dr Alana Reid
    // (08:45-17:15): 12:00 fits only the trainer without a lunch break.
    let tuesday = next_open(earliest, Weekday::Tue);
    assert_eq!(
        h.slots_on(&token, UPDATE, tuesday).await,
        slots(&[
            ("09:00", 2),
            ("10:30", 2),
            ("12:00", 1),
            ("13:30", 2),
            ("15:00", 2)
        ])
    );
    // The two-hour course: 150 minutes a session with its buffers.
    assert_eq!(
        h.slots_on(&token, 42, saturday).await,
        slots(&[("09:00", 1)])
    );
}

#[tokio::test]
async fn holidays_bank_holidays_and_extra_sessions_change_the_timeslots() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let today = h.uk_today().await;
    // Marcus Bell's week off (21 to 27 days after the seed date): only Dr
    // Alana Reid on that Tuesday.
    let holiday_tuesday = next_weekday(today + Duration::days(21), Weekday::Tue);
    let alana_only = if is_working_day(holiday_tuesday) {
        slots(&[
            ("09:00", 1),
            ("10:30", 1),
            ("12:00", 1),
            ("13:30", 1),
            ("15:00", 1),
        ])
    } else {
        Vec::new()
    };
    assert_eq!(
        h.slots_on(&token, UPDATE, holiday_tuesday).await,
        alana_only
    );
    // Bethan Price's extra Sunday session, 09:45 to 12:45.
    let extra = next_weekday(today + Duration::days(10), Weekday::Sun);
    assert_eq!(
        h.slots_on(&token, UPDATE, extra).await,
        slots(&[("10:00", 1), ("11:30", 1)])
    );
    // A week later nobody works that Sunday (unless the clocks change then).
    let plain = extra + Duration::days(7);
    let change = [bst_starts(plain.year()), bst_ends(plain.year())]
        .into_iter()
        .flatten()
        .any(|instant| instant.date_naive() == plain);
    if !change {
        assert!(h.slots_on(&token, UPDATE, plain).await.is_empty());
    }
    // A weekday bank holiday in the window has no timeslots at all.
    let bank_holiday = (5..90)
        .map(|days| today + Duration::days(days))
        .find(|day| !is_working_day(*day) && day.weekday().num_days_from_monday() < 5);
    if let Some(day) = bank_holiday {
        assert!(h.slots_on(&token, UPDATE, day).await.is_empty(), "{day}");
    }
}

/// Moves the sandbox clock so that `day` is 30 days ahead.
async fn bring_within_window(h: &Harness, day: NaiveDate) {
    let today = h.uk_today().await;
    let days = (day - today).num_days() - 30;
    if days > 0 {
        h.advance(days * 86_400).await;
    }
}

/// The next date, at least a week ahead, on which `change` (bst_starts or
/// bst_ends) falls.
fn next_change(
    today: NaiveDate,
    change: fn(i32) -> Option<chrono::DateTime<chrono::Utc>>,
) -> NaiveDate {
    (today.year()..today.year() + 2)
        .filter_map(change)
        .map(|instant| instant.date_naive())
        .find(|day| *day > today + Duration::days(7))
        .unwrap()
}

#[tokio::test]
async fn the_spring_clock_change_night_has_no_slot_in_the_missing_hour() {
    let h = Harness::start().await;
    let day = next_change(h.uk_today().await, bst_starts);
    bring_within_window(&h, day).await;
    let token = h.bls_login(BLS_DEMO).await;
    // Overnight cover 00:00 to 04:00 local: 01:00-01:59 do not exist, so
    // only 00:15 GMT fits; its session ends at 02:15 BST, an hour later.
    let reply = h
        .bls_get(
            &token,
            &format!("/timeslots?course_id=41&date_from={day}&date_to={day}"),
        )
        .await;
    let data = reply.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", reply.body);
    assert_eq!(data[0]["time"], "00:15");
    assert_eq!(data[0]["start_date"], format!("{day}T00:15:00+00:00"));
    assert_eq!(data[0]["end_date"], format!("{day}T02:15:00+01:00"));
    let gap = h.bls_hold(&token, UPDATE, day, "01:45").await;
    assert_eq!(gap.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", gap.body);
    // The working days either side are on GMT and BST.
    let thursday = day - Duration::days(3);
    let tuesday = day + Duration::days(2);
    for (date, offset) in [(thursday, "+00:00"), (tuesday, "+01:00")] {
        let reply = h
            .bls_get(
                &token,
                &format!("/timeslots?date_from={date}&date_to={date}&per_page=100"),
            )
            .await;
        let data = reply.body["data"].as_array().unwrap();
        assert!(!data.is_empty(), "{date}");
        for slot in data {
            assert!(
                slot["start_date"].as_str().unwrap().ends_with(offset),
                "{slot}"
            );
        }
    }
}

#[tokio::test]
async fn the_autumn_clock_change_night_offers_the_repeated_hour_once() {
    let h = Harness::start().await;
    let day = next_change(h.uk_today().await, bst_ends);
    bring_within_window(&h, day).await;
    let token = h.bls_login(BLS_DEMO).await;
    let reply = h
        .bls_get(
            &token,
            &format!("/timeslots?course_id=41&date_from={day}&date_to={day}"),
        )
        .await;
    let starts: Vec<(String, String)> = reply.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|slot| {
            (
                slot["start_date"].as_str().unwrap().to_owned(),
                slot["end_date"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // 01:45 is its first occurrence (BST); the session runs through the
    // repeated hour and ends at 01:45 GMT.
    assert_eq!(
        starts,
        [
            (
                format!("{day}T00:15:00+01:00"),
                format!("{day}T01:15:00+01:00")
            ),
            (
                format!("{day}T01:45:00+01:00"),
                format!("{day}T01:45:00+00:00")
            ),
        ]
    );
    let held = h.bls_hold(&token, UPDATE, day, "01:45").await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    assert_eq!(held.body["slot"]["time"], "01:45");
}

#[tokio::test]
async fn timeslot_filters_are_validated() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    for (query, field) in [
        ("course_id=abc", "course_id"),
        ("date_from=2026-13-01", "date_from"),
        ("date_to=tomorrow", "date_to"),
        ("date_from=2027-02-01&date_to=2027-01-01", "date_to"),
        ("date_from=2027-01-01&date_to=2028-06-01", "date_to"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
    ] {
        let reply = h.bls_get(&token, &format!("/timeslots?{query}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(
            reply.body["errors"][field].is_array(),
            "{query}: {}",
            reply.body
        );
    }
    // An unknown course, or a Practical Training course, lists nothing.
    for course in [999, 2] {
        let reply = h
            .bls_get(&token, &format!("/timeslots?course_id={course}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["meta"]["total"], 0);
    }
    // Under max_per_page=50 the profile's limit applies here too.
    let changed = h
        .fixture("/_sandbox/profile", json!({ "max_per_page": 50 }))
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let reply = h.bls_get(&token, "/timeslots?per_page=51").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_hold_takes_one_trainer_for_thirty_minutes() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    let now = h.now().await;
    let reply = h.bls_hold(&token, UPDATE, tuesday, "09:00").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let hash = reply.body["hold_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 32);
    assert!(hash.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(reply.body["expires_in_seconds"], 1800);
    let expires = reply.body["expires_at"].as_str().unwrap();
    assert!(expires.ends_with("+00:00"), "{expires}");
    let lag =
        parse_time(&reply.body["expires_at"]).signed_duration_since(now) - Duration::seconds(1800);
    assert!(lag.num_seconds().abs() <= 2, "{lag}");
    assert_eq!(
        reply.body["slot"],
        json!({
            "date": tuesday.to_string(),
            "time": "09:00",
            "course": { "id": 41, "name": "BLS Annual Update (Virtual)" }
        })
    );
    // One of the two trainers is taken; the longer course starting then
    // (and overlapping it) has one trainer left too.
    let left = h.slots_on(&token, UPDATE, tuesday).await;
    assert_eq!(left[0], ("09:00".to_owned(), 1));
    assert_eq!(
        h.slots_on(&token, 42, tuesday).await[0],
        ("09:00".to_owned(), 1)
    );
}

#[tokio::test]
async fn a_second_hold_is_409_with_the_existing_hold_and_a_taken_slot_is_422() {
    let h = Harness::start().await;
    let demo = h.bls_login(BLS_DEMO).await;
    let noinv = h.bls_login(BLS_NOINV).await;
    let saturday = next_open(earliest_bookable(h.uk_today().await), Weekday::Sat);
    let hash = h.bls_hold_hash(&demo, UPDATE, saturday, "09:00").await;
    h.advance(100).await;
    let again = h.bls_hold(&demo, UPDATE, saturday, "09:00").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(
        again.body["message"],
        "An active hold already exists for this timeslot."
    );
    assert_eq!(again.body["hold_hash"], hash);
    let left = again.body["expires_in_seconds"].as_i64().unwrap();
    assert!((1698..=1700).contains(&left), "{left}");
    assert_eq!(again.body["slot"]["time"], "09:00");
    assert_eq!(again.body["slot"]["course"]["id"], 41);
    // The only trainer that Saturday morning is held: another account
    // meets a 422, and the slot is gone from the list.
    let taken = h.bls_hold(&noinv, UPDATE, saturday, "09:00").await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        taken.body["errors"]["time"][0],
        "This timeslot is not available. Choose another time."
    );
    assert_eq!(
        h.slots_on(&noinv, UPDATE, saturday).await,
        slots(&[("10:30", 1)])
    );
    // Another slot is fine for the same account under the default scope.
    assert_eq!(
        h.bls_hold(&demo, UPDATE, saturday, "10:30").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn hold_requests_are_validated() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let today = h.uk_today().await;
    let tuesday = next_open(earliest_bookable(today), Weekday::Tue);
    let empty = h.bls_post(Some(&token), "/timeslots/hold", json!({})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.body["message"],
        "The course id field is required. (and 2 more errors)"
    );
    for (body, field) in [
        (
            json!({ "course_id": "41", "date": tuesday.to_string(), "time": "09:00" }),
            "course_id",
        ),
        (
            json!({ "course_id": 41, "date": "02/09/2026", "time": "09:00" }),
            "date",
        ),
        (
            json!({ "course_id": 41, "date": tuesday.to_string(), "time": "9:00" }),
            "time",
        ),
        (
            json!({ "course_id": 41, "date": tuesday.to_string(), "time": "09:00:00" }),
            "time",
        ),
        (
            json!({ "course_id": 41, "date": tuesday.to_string(), "time": "25:00" }),
            "time",
        ),
        (
            json!({ "course_id": 2, "date": tuesday.to_string(), "time": "09:00" }),
            "course_id",
        ),
        (
            json!({ "course_id": 999, "date": tuesday.to_string(), "time": "09:00" }),
            "course_id",
        ),
        // Off the grid, before the kit can arrive, beyond the horizon.
        (
            json!({ "course_id": 41, "date": tuesday.to_string(), "time": "09:10" }),
            "time",
        ),
        (
            json!({ "course_id": 41, "date": today.to_string(), "time": "09:00" }),
            "time",
        ),
        (
            json!({ "course_id": 41, "date": (today + Duration::days(120)).to_string(), "time": "09:00" }),
            "time",
        ),
    ] {
        let reply = h
            .bls_post(Some(&token), "/timeslots/hold", body.clone())
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            reply.body["errors"][field].is_array(),
            "{body}: {}",
            reply.body
        );
    }
    let broken = h
        .send(
            Method::POST,
            &h.bls("/timeslots/hold"),
            Some(&token),
            Some(b"{\"course_id\":".to_vec()),
            &[],
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        broken.body["message"],
        "The request body is not valid JSON."
    );
}

#[tokio::test]
async fn releasing_a_hold_gives_the_trainer_back() {
    let h = Harness::start().await;
    let demo = h.bls_login(BLS_DEMO).await;
    let noinv = h.bls_login(BLS_NOINV).await;
    let saturday = next_open(earliest_bookable(h.uk_today().await), Weekday::Sat);
    let hash = h.bls_hold_hash(&demo, UPDATE, saturday, "09:00").await;
    let foreign = h
        .bls_delete(&noinv, &format!("/timeslots/hold/{hash}"))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.body["message"], "Hold not found.");
    let released = h
        .bls_delete(&demo, &format!("/timeslots/hold/{hash}"))
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(released.body["message"], "Hold released.");
    assert_eq!(
        h.slots_on(&demo, UPDATE, saturday).await,
        slots(&[("09:00", 1), ("10:30", 1)])
    );
    let twice = h
        .bls_delete(&demo, &format!("/timeslots/hold/{hash}"))
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        twice.body["errors"]["hold_hash"][0],
        "This hold has already been released."
    );
    assert_eq!(
        h.bls_delete(&demo, "/timeslots/hold/unknown").await.status,
        StatusCode::NOT_FOUND
    );
    // A hold that expires frees its trainer without a release.
    let hash = h.bls_hold_hash(&noinv, UPDATE, saturday, "09:00").await;
    assert!(h.slots_on(&demo, UPDATE, saturday).await[0].0 != "09:00");
    h.advance(1800).await;
    assert_eq!(
        h.slots_on(&demo, UPDATE, saturday).await[0],
        ("09:00".to_owned(), 1)
    );
    let expired = h
        .bls_delete(&noinv, &format!("/timeslots/hold/{hash}"))
        .await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        expired.body["errors"]["hold_hash"][0],
        "This hold has expired. Hold a timeslot again."
    );
}

#[tokio::test]
async fn the_upstream_profiles_apply_to_timeslot_holds() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    h.bls_hold_hash(&token, UPDATE, tuesday, "09:00").await;
    // hold_scope=account: any second hold of the account is a 409.
    h.fixture("/_sandbox/profile", json!({ "hold_scope": "account" }))
        .await;
    let other = h.bls_hold(&token, UPDATE, tuesday, "13:30").await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.body["message"], "An active hold already exists.");
    assert_eq!(other.body["slot"]["time"], "09:00");
    // conflict_body=message_only: the 409 says only that.
    h.fixture(
        "/_sandbox/profile",
        json!({ "conflict_body": "message_only" }),
    )
    .await;
    let bare = h.bls_hold(&token, UPDATE, tuesday, "13:30").await;
    assert_eq!(bare.status, StatusCode::CONFLICT);
    assert_eq!(
        bare.body,
        json!({ "message": "An active hold already exists." })
    );
    // hold_scope=none: the same slot again takes the second trainer, and a
    // third attempt finds none free.
    h.fixture("/_sandbox/profile", json!({ "hold_scope": "none" }))
        .await;
    let second = h.bls_hold(&token, UPDATE, tuesday, "09:00").await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let third = h.bls_hold(&token, UPDATE, tuesday, "09:00").await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_bls_api_has_its_own_rate_limit() {
    let mut config = booking_sandbox::SandboxConfig::for_tests();
    config.rate_limit = 3;
    let h = Harness::start_with(config).await;
    let token = h.bls_login(BLS_DEMO).await;
    for _ in 0..2 {
        let reply = h.bls_get(&token, "/courses").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers["x-ratelimit-limit"], "3");
    }
    let limited = h.bls_get(&token, "/courses").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["message"], "Too Many Attempts.");
    assert!(limited.headers.contains_key("retry-after"));
    // Practical Training's API is another host upstream: its own count.
    let practical = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": "HB-DEMO", "api_key": "sandbox-key" }),
        )
        .await;
    assert_eq!(practical.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_holds_never_take_more_trainers_than_are_free() {
    let h = Harness::start().await;
    let token = h.bls_login(BLS_DEMO).await;
    h.fixture("/_sandbox/profile", json!({ "hold_scope": "none" }))
        .await;
    let tuesday = next_open(earliest_bookable(h.uk_today().await), Weekday::Tue);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let client = h.client.clone();
        let url = h.bls("/timeslots/hold");
        let token = token.clone();
        let barrier = barrier.clone();
        let body = json!({ "course_id": UPDATE, "date": tuesday.to_string(), "time": "09:00" });
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("hold answered")
                .status()
        }));
    }
    let mut granted = 0;
    for task in tasks {
        let status = task.await.expect("task");
        assert!(
            status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        if status == StatusCode::OK {
            granted += 1;
        }
    }
    assert_eq!(granted, 2, "two trainers work that Tuesday morning");
    assert!(!h
        .slots_on(&token, UPDATE, tuesday)
        .await
        .iter()
        .any(|(time, _)| time == "09:00"));
}
