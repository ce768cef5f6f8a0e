//! Token pairs, their lifetimes on the sandbox clock, rotation, revocation,
//! and the per-IP rate limit.

use crate::common::{Harness, DEMO};
use booking_core::api::{TokenInfo, TokenPair};
use booking_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn pair(h: &Harness) -> TokenPair {
    let reply = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": DEMO.0, "api_key": DEMO.1 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_value(reply.body).expect("a TokenPair")
}

fn assert_unauthenticated(reply: &crate::common::Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.body, json!({ "message": "Unauthenticated." }));
}

#[tokio::test]
async fn token_pair_has_the_documented_lifetimes() {
    let h = Harness::start().await;
    let pair = pair(&h).await;
    assert_eq!(pair.token_type, "Bearer");
    assert_eq!(pair.expires_in, Some(3600));
    assert_eq!(pair.refresh_expires_in, Some(604_800));
    assert_ne!(pair.access_token, pair.refresh_token);
    let info = h.get(&pair.access_token, "/auth/token-info").await;
    assert_eq!(info.status, StatusCode::OK);
    let raw_expiry = info.body["expires_at"].as_str().unwrap().to_owned();
    assert!(raw_expiry.ends_with("+00:00"), "{raw_expiry}");
    let info: TokenInfo = serde_json::from_value(info.body).expect("a TokenInfo");
    assert_eq!(info.hb_client_id, "HB-DEMO");
    assert_eq!(info.token_type, "access");
    assert!(
        (3595..=3600).contains(&info.expires_in),
        "{}",
        info.expires_in
    );
    assert_eq!(info.expires_at.offset().local_minus_utc(), 0);
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let h = Harness::start().await;
    for body in [
        json!({ "hb_client_id": "HB-DEMO", "api_key": "wrong" }),
        json!({ "hb_client_id": "HB-NOBODY", "api_key": "sandbox-key" }),
        json!({ "hb_client_id": "HB-DEMO-NOINV", "api_key": "sandbox-key" }),
        json!({ "hb_client_id": "HBG-INTERNAL", "api_key": "x" }),
    ] {
        let reply = h.post(None, "/auth/token", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(
            reply.body["message"],
            "These credentials do not match our records."
        );
    }
}

#[tokio::test]
async fn missing_credentials_are_validation_errors() {
    let h = Harness::start().await;
    let reply = h.post(None, "/auth/token", json!({ "api_key": 42 })).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.body["message"],
        "The hb client id field is required. (and 1 more error)"
    );
    assert_eq!(
        reply.body["errors"]["api_key"],
        json!(["The api key field must be a string."])
    );
}

#[tokio::test]
async fn protected_endpoints_need_a_valid_bearer_token() {
    let h = Harness::start().await;
    let paths = [
        "/auth/token-info",
        "/booking-url",
        "/profile",
        "/credits",
        "/transactions",
        "/courses",
        "/locations",
        "/training-events",
        "/training-events/1",
        "/bookings",
        "/bookings/no-shows",
        "/bookings/1",
        "/bookings/1/certificate",
    ];
    for path in paths {
        let missing = h.send(Method::GET, &h.api(path), None, None, &[]).await;
        assert_unauthenticated(&missing);
        let garbage = h.get("not-a-token", path).await;
        assert_unauthenticated(&garbage);
        let basic = h
            .send(
                Method::GET,
                &h.api(path),
                None,
                None,
                &[("authorization", "Basic SEItREVNTzpzYW5kYm94LWtleQ==")],
            )
            .await;
        assert_unauthenticated(&basic);
    }
    for path in [
        "/auth/revoke",
        "/training-events/1/hold",
        "/bookings",
        "/bookings/1/cancel",
    ] {
        let reply = h
            .send(Method::POST, &h.api(path), None, Some(b"{}".to_vec()), &[])
            .await;
        assert_unauthenticated(&reply);
    }
    let release = h
        .send(
            Method::DELETE,
            &h.api("/training-events/hold/abc"),
            None,
            None,
            &[],
        )
        .await;
    assert_unauthenticated(&release);
}

#[tokio::test]
async fn access_tokens_expire_after_an_hour() {
    let h = Harness::start().await;
    let pair = pair(&h).await;
    h.advance(3590).await;
    assert_eq!(
        h.get(&pair.access_token, "/profile").await.status,
        StatusCode::OK
    );
    h.advance(11).await;
    assert_unauthenticated(&h.get(&pair.access_token, "/profile").await);
    // The refresh token still works and gives a working access token.
    let refreshed = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": pair.refresh_token }),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let new_pair: TokenPair = serde_json::from_value(refreshed.body).expect("a TokenPair");
    assert_eq!(
        h.get(&new_pair.access_token, "/profile").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let h = Harness::start().await;
    let first = pair(&h).await;
    let reply = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": first.refresh_token }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let second: TokenPair = serde_json::from_value(reply.body).expect("a TokenPair");
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    let reused = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": first.refresh_token }),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reused.body["message"],
        "The refresh token is invalid, expired or revoked."
    );
    let again = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": second.refresh_token }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let missing = h.post(None, "/auth/refresh", json!({})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.body["errors"]["refresh_token"],
        json!(["The refresh token field is required."])
    );
}

#[tokio::test]
async fn refresh_tokens_expire_after_seven_days() {
    let h = Harness::start().await;
    let pair = pair(&h).await;
    h.advance(7 * 24 * 3600 + 1).await;
    let reply = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": pair.refresh_token }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_ends_both_tokens_of_the_pair() {
    let h = Harness::start().await;
    let pair = pair(&h).await;
    let other = self::pair(&h).await;
    let reply = h.post_empty(&pair.access_token, "/auth/revoke").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({ "message": "Token revoked." }));
    assert_unauthenticated(&h.get(&pair.access_token, "/auth/token-info").await);
    assert_unauthenticated(&h.post_empty(&pair.access_token, "/auth/revoke").await);
    let refresh = h
        .post(
            None,
            "/auth/refresh",
            json!({ "refresh_token": pair.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    // Another pair of the same account is unaffected.
    assert_eq!(
        h.get(&other.access_token, "/profile").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let h = Harness::start_with(SandboxConfig {
        rate_limit: 5,
        ..SandboxConfig::for_tests()
    })
    .await;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let reply = h
            .send(Method::GET, &h.api("/courses"), None, None, &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers["x-ratelimit-limit"], "5");
        remaining.push(
            reply.headers["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let limited = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": DEMO.0, "api_key": DEMO.1 }),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body, json!({ "message": "Too Many Attempts." }));
    let retry_after: i64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
    // The checkout pages and test-mode endpoints are not limited.
    let clock = h
        .send(Method::GET, &h.url("/_sandbox/clock"), None, None, &[])
        .await;
    assert_eq!(clock.status, StatusCode::OK);
    // A new window opens once the minute has passed.
    h.advance(61).await;
    let reply = h
        .post(
            None,
            "/auth/token",
            json!({ "hb_client_id": DEMO.0, "api_key": DEMO.1 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["x-ratelimit-remaining"], "4");
}
