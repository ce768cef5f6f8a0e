//! The `shape=documented` profile ([`Shape::Documented`]): each JSON answer
//! of either API cut down to what the published documents show.
//!
//! A successful answer keeps only the fields its type's shape marks
//! documented (`booking_core::contract`, where the project's guesses are
//! kept); an answer of a route this module does not name keeps nothing, and
//! so does an error: no error body is documented (a hold's 409 details, a
//! 422's `message` and `errors` are all guesses). Answers that are not JSON
//! (the certificate PDF) pass as they are.
//!
//! Invariants: only what the sandbox answers changes, never what it stores;
//! under `shape=full` (the default) every answer passes untouched.

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::Method;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use booking_core::api::bls::{Timeslot, TimeslotHold, VirtualBooking};
use booking_core::api::{
    ApiError, BookingDetail, BookingUrl, ClientProfile, Course, CreditsResponse, Location, Page,
    SeatHold, TokenInfo, TokenPair, TrainingEvent, TrainingEventDetail, WalletTransaction,
};
use booking_core::contract::{keep_documented, Answer, Kind};
use serde_json::Value;

use super::errors::message;
use super::invites::BookingInvite;
use super::profile::Shape;
use super::webhooks::{TestQueued, WebhookEndpoint};
use super::{AppState, Product};

/// An answer nothing of which is documented.
const NOTHING: Kind = Kind::Object(&[]);

/// The largest answer this cuts down (far above any page of 100 items).
const LARGEST_ANSWER: usize = 16 * 1024 * 1024;

/// The shape of `product`'s successful answer to `method` on `route` (a
/// route template under the API's base path).
fn answer_shape(product: Product, method: &Method, route: &str) -> Kind {
    let get = *method == Method::GET;
    match (product, route) {
        (_, "/auth/token" | "/auth/refresh") => TokenPair::SHAPE,
        (_, "/auth/token-info") => TokenInfo::SHAPE,
        (_, "/booking-url") => BookingUrl::SHAPE,
        (_, "/profile") => ClientProfile::SHAPE,
        (_, "/credits") => CreditsResponse::SHAPE,
        (_, "/transactions") => Page::<WalletTransaction>::SHAPE,
        (_, "/courses") => Page::<Course>::SHAPE,
        (_, "/locations") => Page::<Location>::SHAPE,
        (_, "/training-events") => Page::<TrainingEvent>::SHAPE,
        (_, "/training-events/{id}") => TrainingEventDetail::SHAPE,
        (_, "/training-events/{id}/hold") => SeatHold::SHAPE,
        (_, "/timeslots") => Page::<Timeslot>::SHAPE,
        (_, "/timeslots/hold") => TimeslotHold::SHAPE,
        (Product::Practical, "/bookings" | "/bookings/no-shows") if get => {
            Page::<BookingDetail>::SHAPE
        }
        (Product::Practical, "/bookings" | "/bookings/{id}" | "/bookings/{id}/cancel") => {
            BookingDetail::SHAPE
        }
        (Product::VirtualBls, "/bookings") if get => Page::<VirtualBooking>::SHAPE,
        (Product::VirtualBls, "/bookings" | "/bookings/{id}") => VirtualBooking::SHAPE,
        (_, "/webhooks") if get => Page::<WebhookEndpoint>::SHAPE,
        (_, "/webhooks/{id}") if *method == Method::DELETE => ApiError::SHAPE,
        (_, "/webhooks" | "/webhooks/{id}" | "/webhooks/{id}/rotate-secret") => {
            WebhookEndpoint::SHAPE
        }
        (_, "/webhooks/{id}/test") => TestQueued::SHAPE,
        (_, "/booking-invites") if get => Page::<BookingInvite>::SHAPE,
        (_, "/booking-invites" | "/booking-invites/{id}") => BookingInvite::SHAPE,
        (
            _,
            "/auth/revoke" | "/training-events/hold/{hold_hash}" | "/timeslots/hold/{hold_hash}",
        ) => ApiError::SHAPE,
        _ => NOTHING,
    }
}

/// Middleware over an API's routes: under `shape=documented`, each JSON
/// answer keeps only what the documents show.
pub(crate) async fn documented_only(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.profile.get().shape != Shape::Documented {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| {
            let full = matched.as_str();
            full.strip_prefix(state.product.api_base())
                .unwrap_or(full)
                .to_owned()
        })
        .unwrap_or_default();
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return response;
    }
    let shape = if response.status().is_success() {
        answer_shape(state.product, &method, &route)
    } else {
        NOTHING
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, LARGEST_ANSWER).await else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Server Error");
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    keep_documented(&mut answer, &shape);
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(answer.to_string()))
}

#[cfg(test)]
mod tests {
    use booking_core::contract::inferred_fields;

    use super::*;

    /// Every JSON answer of both APIs: product, method, route.
    const ROUTES: [(Product, Method, &str); 27] = [
        (Product::Practical, Method::POST, "/auth/token"),
        (Product::Practical, Method::POST, "/auth/refresh"),
        (Product::Practical, Method::GET, "/auth/token-info"),
        (Product::Practical, Method::POST, "/auth/revoke"),
        (Product::Practical, Method::GET, "/booking-url"),
        (Product::Practical, Method::GET, "/profile"),
        (Product::Practical, Method::GET, "/credits"),
        (Product::Practical, Method::GET, "/transactions"),
        (Product::Practical, Method::GET, "/courses"),
        (Product::Practical, Method::GET, "/locations"),
        (Product::Practical, Method::GET, "/training-events"),
        (Product::Practical, Method::GET, "/training-events/{id}"),
        (
            Product::Practical,
            Method::POST,
            "/training-events/{id}/hold",
        ),
        (
            Product::Practical,
            Method::DELETE,
            "/training-events/hold/{hold_hash}",
        ),
        (Product::Practical, Method::GET, "/bookings"),
        (Product::Practical, Method::POST, "/bookings"),
        (Product::Practical, Method::GET, "/bookings/{id}"),
        (Product::Practical, Method::POST, "/bookings/{id}/cancel"),
        (Product::Practical, Method::GET, "/webhooks"),
        (Product::Practical, Method::PATCH, "/webhooks/{id}"),
        (Product::Practical, Method::POST, "/webhooks/{id}/test"),
        (Product::Practical, Method::GET, "/booking-invites"),
        (Product::VirtualBls, Method::GET, "/timeslots"),
        (Product::VirtualBls, Method::POST, "/timeslots/hold"),
        (
            Product::VirtualBls,
            Method::DELETE,
            "/timeslots/hold/{hold_hash}",
        ),
        (Product::VirtualBls, Method::GET, "/bookings"),
        (Product::VirtualBls, Method::POST, "/bookings"),
    ];

    #[test]
    fn each_route_is_cut_down_by_its_own_answer_type() {
        let shape = |product, method, route| answer_shape(product, &method, route);
        assert_eq!(
            shape(Product::VirtualBls, Method::GET, "/bookings"),
            Page::<VirtualBooking>::SHAPE
        );
        assert_eq!(
            shape(Product::Practical, Method::GET, "/bookings/{id}"),
            BookingDetail::SHAPE
        );
        assert_eq!(
            shape(Product::Practical, Method::DELETE, "/webhooks/{id}"),
            ApiError::SHAPE
        );
        assert_eq!(
            shape(Product::Practical, Method::GET, "/not-a-route"),
            NOTHING
        );
    }

    #[test]
    fn the_sandbox_guide_lists_every_field_shape_documented_leaves_out() {
        let guide = include_str!("../SANDBOX.md");
        let start = guide.find("### `shape=documented`").expect("the section");
        let section = &guide[start..];
        let section = &section[..section.find("\n## ").unwrap_or(section.len())];
        for (product, method, route) in ROUTES {
            for path in inferred_fields(&answer_shape(product, &method, route)) {
                let name = path.rsplit(['.', ']']).next().unwrap_or(&path);
                assert!(
                    section.contains(&format!("`{name}`")),
                    "{method} {route}: `{name}` is not listed"
                );
            }
        }
    }
}
