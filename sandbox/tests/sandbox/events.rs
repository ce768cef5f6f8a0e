//! The catalogue: courses, locations, training events with their filters,
//! pagination, UK offsets, and the account endpoints.

use crate::common::{Harness, DEMO, NOINV};
use booking_core::api::{
    BookingUrl, ClientProfile, Course, CreditsResponse, Location, Page, TrainingEvent,
    TrainingEventDetail, WalletTransaction,
};
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn events(body: Value) -> Page<TrainingEvent> {
    serde_json::from_value(body).expect("a page of TrainingEvent")
}

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    day
}

/// The UK offset in hours for a UTC instant, computed independently of the
/// sandbox.
fn uk_offset_hours(at: chrono::DateTime<Utc>) -> i32 {
    let year = at.year();
    let start = last_sunday(year, 3).and_hms_opt(1, 0, 0).unwrap().and_utc();
    let end = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .unwrap()
        .and_utc();
    i32::from(at >= start && at < end)
}

#[tokio::test]
async fn courses_include_the_review_course() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let reply = h.get(&token, "/courses").await;
    assert_eq!(reply.status, StatusCode::OK);
    let page: Page<Course> = serde_json::from_value(reply.body).expect("a page of Course");
    assert!(page.data.len() >= 6);
    assert_eq!(page.meta.total, page.data.len() as u64);
    let pmva = page
        .data
        .iter()
        .find(|course| course.id == 3)
        .expect("course 3");
    assert!(pmva.name.starts_with("PMVA"));
    assert!(pmva.requires_review);
    assert!(page
        .data
        .iter()
        .filter(|course| course.id != 3)
        .all(|course| !course.requires_review && course.cost_inc_vat.is_some()));
}

#[tokio::test]
async fn locations_are_paginated_with_addresses() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let reply = h.get(&token, "/locations?per_page=5").await;
    assert_eq!(reply.status, StatusCode::OK);
    let page: Page<Location> = serde_json::from_value(reply.body).expect("a page of Location");
    assert!(page.meta.total >= 8);
    assert_eq!(page.data.len(), 5);
    assert!(page
        .data
        .iter()
        .all(|location| !location.address.is_empty()));
    let next = page.links.next.expect("a next page");
    assert_eq!(
        next,
        format!("{}/locations?per_page=5&page=2", h.sandbox.api_url())
    );
    assert_eq!(page.links.prev, None);
}

#[tokio::test]
async fn events_are_upcoming_sorted_and_paginated() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let now = h.now().await;
    let first = h.get(&token, "/training-events?per_page=100").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["content-type"], "application/json");
    let page = events(first.body);
    assert!(
        page.meta.total > 200,
        "a few hundred events: {}",
        page.meta.total
    );
    assert_eq!(page.meta.per_page, 100);
    assert_eq!(page.meta.current_page, 1);
    assert_eq!(page.meta.last_page as u64, page.meta.total.div_ceil(100));
    assert!(page.data.iter().all(|event| event.start_date > now));
    assert!(page
        .data
        .windows(2)
        .all(|pair| pair[0].start_date <= pair[1].start_date));
    assert!(page.data.iter().all(|event| event
        .booking_url
        .ends_with("/practical-training/?sgi=NWCARE07")));

    let second = events(
        h.get(&token, "/training-events?per_page=100&page=2")
            .await
            .body,
    );
    assert_eq!(second.meta.current_page, 2);
    assert!(second.data[0].start_date >= page.data[99].start_date);
    assert!(second
        .data
        .iter()
        .all(|event| page.data.iter().all(|seen| seen.id != event.id)));
    assert_eq!(
        second.links.prev.as_deref(),
        Some(
            format!(
                "{}/training-events?per_page=100&page=1",
                h.sandbox.api_url()
            )
            .as_str()
        )
    );

    let beyond = events(h.get(&token, "/training-events?page=999").await.body);
    assert!(beyond.data.is_empty());
    assert_eq!(beyond.links.next, None);

    let descending = events(
        h.get(&token, "/training-events?sort=start_date&sort_dir=desc")
            .await
            .body,
    );
    assert!(descending
        .data
        .windows(2)
        .all(|pair| pair[0].start_date >= pair[1].start_date));
    assert_eq!(descending.meta.per_page, 20);
}

#[tokio::test]
async fn past_events_are_not_listed() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let soon = h.create_event(2, 12, 1).await;
    let listed = |body: Value| {
        events(body)
            .data
            .iter()
            .any(|event| event.id as i64 == soon)
    };
    assert!(listed(
        h.get(&token, "/training-events?course_id=2&per_page=100")
            .await
            .body
    ));
    h.advance(2 * 3600).await;
    let token = h.login(DEMO).await;
    assert!(!listed(
        h.get(&token, "/training-events?course_id=2&per_page=100")
            .await
            .body
    ));
    // It can still be fetched by id.
    let detail = h.get(&token, &format!("/training-events/{soon}")).await;
    assert_eq!(detail.status, StatusCode::OK);
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let by_course = events(
        h.get(&token, "/training-events?course_id=3&per_page=100")
            .await
            .body,
    );
    assert!(!by_course.data.is_empty());
    assert!(by_course.data.iter().all(|event| event.course.id == 3));

    let by_location = events(
        h.get(&token, "/training-events?location_id=4&per_page=100")
            .await
            .body,
    );
    assert!(!by_location.data.is_empty());
    assert!(by_location.data.iter().all(|event| event.location.id == 4));

    let all = events(h.get(&token, "/training-events?per_page=100").await.body);
    let day = all.data[10].start_date.date_naive();
    let one_day = events(
        h.get(
            &token,
            &format!("/training-events?date_from={day}&date_to={day}&per_page=100"),
        )
        .await
        .body,
    );
    assert!(!one_day.data.is_empty());
    assert!(one_day
        .data
        .iter()
        .all(|event| event.start_date.date_naive() == day));

    let available = events(
        h.get(&token, "/training-events?available_only=true&per_page=100")
            .await
            .body,
    );
    assert!(available.data.iter().all(|event| event.remaining_slots > 0));
    let every = events(
        h.get(&token, "/training-events?available_only=0&per_page=100")
            .await
            .body,
    );
    assert!(
        every.meta.total > available.meta.total,
        "some events are full"
    );
    assert!(every.data.iter().any(|event| event.remaining_slots == 1));
    assert!(every.data.iter().any(|event| event.remaining_slots == 0));

    let link = events(
        h.get(&token, "/training-events?course_id=1&per_page=5")
            .await
            .body,
    )
    .links
    .next
    .expect("next page");
    assert_eq!(
        link,
        format!(
            "{}/training-events?course_id=1&per_page=5&page=2",
            h.sandbox.api_url()
        )
    );
}

#[tokio::test]
async fn bad_query_parameters_are_422() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let cases = [
        ("page=abc", "page", "The page field must be an integer."),
        (
            "page=0",
            "page",
            "The page field must be between 1 and 1000000.",
        ),
        (
            "per_page=101",
            "per_page",
            "The per page field must be between 1 and 100.",
        ),
        (
            "per_page=-1",
            "per_page",
            "The per page field must be between 1 and 100.",
        ),
        (
            "course_id=x",
            "course_id",
            "The course id field must be an integer.",
        ),
        (
            "location_id=1.5",
            "location_id",
            "The location id field must be an integer.",
        ),
        (
            "date_from=2026-13-01",
            "date_from",
            "The date from field must match the format Y-m-d.",
        ),
        (
            "date_to=tomorrow",
            "date_to",
            "The date to field must match the format Y-m-d.",
        ),
        (
            "date_from=2027-01-02&date_to=2027-01-01",
            "date_to",
            "The date to field must be a date after or equal to date from.",
        ),
        (
            "available_only=maybe",
            "available_only",
            "The available only field must be true or false.",
        ),
        ("sort=price", "sort", "The selected sort is invalid."),
        (
            "sort_dir=up",
            "sort_dir",
            "The selected sort dir is invalid.",
        ),
    ];
    for (query, field, message) in cases {
        let reply = h.get(&token, &format!("/training-events?{query}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.body["message"], message, "{query}");
        assert_eq!(reply.body["errors"][field], json!([message]), "{query}");
    }
    for path in [
        "/bookings?status=lost",
        "/transactions?per_page=1000",
        "/courses?page=-1",
    ] {
        let reply = h.get(&token, path).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
}

#[tokio::test]
async fn event_detail_extends_the_list_item() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let listed = events(h.get(&token, "/training-events?per_page=1").await.body).data[0].clone();
    let reply = h
        .get(&token, &format!("/training-events/{}", listed.id))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let detail: TrainingEventDetail = serde_json::from_value(reply.body).expect("detail");
    assert_eq!(detail.event, listed);
    let capacity = detail.capacity.expect("capacity");
    assert!(capacity >= listed.remaining_slots);
    assert!(detail.trainer.is_some());
    for (path, status) in [
        ("/training-events/999999", StatusCode::NOT_FOUND),
        ("/training-events/abc", StatusCode::NOT_FOUND),
        ("/training-events/-4", StatusCode::NOT_FOUND),
    ] {
        let reply = h.get(&token, path).await;
        assert_eq!(reply.status, status, "{path}");
        assert!(reply.body["message"].is_string());
    }
}

#[tokio::test]
async fn event_times_carry_the_uk_offset() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let mut page = 1;
    loop {
        let list = events(
            h.get(
                &token,
                &format!("/training-events?per_page=100&page={page}"),
            )
            .await
            .body,
        );
        for event in &list.data {
            let expected = uk_offset_hours(event.start_date.with_timezone(&Utc)) * 3600;
            assert_eq!(
                event.start_date.offset().local_minus_utc(),
                expected,
                "{}",
                event.id
            );
            assert_eq!(
                event.end_date.offset().local_minus_utc(),
                expected,
                "{}",
                event.id
            );
            let local = event.start_date.time();
            assert!(
                local >= chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                "{}",
                event.start_date
            );
            assert!(
                local <= chrono::NaiveTime::from_hms_opt(13, 30, 0).unwrap(),
                "{}",
                event.start_date
            );
        }
        if list.links.next.is_none() {
            break;
        }
        page += 1;
    }
    // Fixture events on both sides of the spring change.
    for (start, shown) in [
        ("2027-03-27T09:30:00Z", "2027-03-27T09:30:00+00:00"),
        ("2027-03-28T08:30:00Z", "2027-03-28T09:30:00+01:00"),
        ("2027-10-31T00:30:00Z", "2027-10-31T01:30:00+01:00"),
        ("2027-10-31T01:30:00Z", "2027-10-31T01:30:00+00:00"),
    ] {
        let reply = h
            .fixture(
                "/_sandbox/training-events",
                json!({ "course_id": 4, "location_id": 2, "start_date": start }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["start_date"], shown);
    }
}

#[tokio::test]
async fn seeded_events_surround_the_next_clock_change() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let today = h.now().await.date_naive();
    let change = [
        last_sunday(today.year(), 3),
        last_sunday(today.year(), 10),
        last_sunday(today.year() + 1, 3),
    ]
    .into_iter()
    .find(|day| *day > today + Duration::days(2));
    let Some(change) = change.filter(|day| *day <= today + Duration::days(179)) else {
        return; // No UK clock change in the seeded window from this date.
    };
    let spring = change.month() == 3;
    for (delta, after) in [(-2, false), (-1, false), (0, true), (1, true)] {
        let day = change + Duration::days(delta);
        let list = events(
            h.get(
                &token,
                &format!("/training-events?date_from={day}&date_to={day}&per_page=100"),
            )
            .await
            .body,
        );
        assert!(list.data.len() >= 3, "{day}: {}", list.data.len());
        let expected = if after == spring { 3600 } else { 0 };
        for event in &list.data {
            assert_eq!(
                event.start_date.offset().local_minus_utc(),
                expected,
                "{day}"
            );
            assert_eq!(event.start_date.date_naive(), day);
        }
    }
}

#[tokio::test]
async fn account_endpoints_show_the_seeded_accounts() {
    let h = Harness::start().await;
    let token = h.login(DEMO).await;
    let profile: ClientProfile =
        serde_json::from_value(h.get(&token, "/profile").await.body).expect("profile");
    assert_eq!(profile.hb_client_id, "HB-DEMO");
    assert_eq!(profile.name, "Northwest Care Staffing");
    assert_eq!(profile.invoice_payments, Some(true));
    let url: BookingUrl =
        serde_json::from_value(h.get(&token, "/booking-url").await.body).expect("booking url");
    assert_eq!(url.booking_url, profile.booking_url);
    assert_eq!(
        url.booking_url,
        format!("{}/practical-training/?sgi=NWCARE07", h.sandbox.url())
    );
    let credits: CreditsResponse =
        serde_json::from_value(h.get(&token, "/credits").await.body).expect("credits");
    assert_eq!(credits.currency, "GBP");
    assert_eq!(credits.booking_money_balance.pence(), 41250);
    assert_eq!(credits.credits_for(1), 6);
    assert_eq!(credits.credits_for(2), 4);
    assert_eq!(credits.credits_for(4), 2);
    assert_eq!(credits.credits_for(3), 0);
    let transactions: Page<WalletTransaction> =
        serde_json::from_value(h.get(&token, "/transactions").await.body).expect("transactions");
    assert_eq!(
        transactions.meta.total, 4,
        "opening balance and three credit purchases"
    );

    let noinv = h.login(NOINV).await;
    let profile: ClientProfile =
        serde_json::from_value(h.get(&noinv, "/profile").await.body).expect("profile");
    assert_eq!(profile.name, "Pennine Agency");
    assert_eq!(profile.invoice_payments, Some(false));
    let credits: CreditsResponse =
        serde_json::from_value(h.get(&noinv, "/credits").await.body).expect("credits");
    assert!(credits.booking_credits.is_empty());
    assert_eq!(credits.booking_money_balance.pence(), 4000);
}

#[tokio::test]
async fn public_booking_page_exists() {
    let h = Harness::start().await;
    let page = h
        .client
        .get(h.url("/practical-training/?sgi=NWCARE07"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Northwest Care Staffing"));
    let missing = h
        .client
        .get(h.url("/practical-training/?sgi=%3Cb%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
