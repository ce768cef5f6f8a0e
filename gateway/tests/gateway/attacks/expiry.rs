//! Attacks with old tokens: a session token kept from long ago, and a hold
//! reference kept after its hold lapsed.

use std::time::Duration;

use booking_core::product::Product;
use booking_gateway::Signer;
use chrono::Utc;
use reqwest::{Method, StatusCode};

use crate::support::{Stack, Widget, SIGNING_KEY};

/// The test gateways' signer, as an attacker who kept old tokens meets it.
fn signer() -> Signer {
    Signer::new(SIGNING_KEY.as_bytes(), Duration::from_secs(12 * 60 * 60))
}

/// A session token issued 13 hours ago is refused on every route that
/// needs a session; one issued 11 hours ago is still served.
#[tokio::test]
async fn a_session_token_older_than_the_maximum_age_is_refused() {
    let stack = Stack::start().await;
    let aged = |hours: i64| {
        let (_, token) = signer().new_session(Utc::now() - chrono::Duration::hours(hours));
        Widget {
            client: stack.client.clone(),
            base: stack.gateway.url().to_owned(),
            session: token,
        }
    };
    let young = aged(11).get("/courses").await;
    assert_eq!(young.status, StatusCode::OK, "{}", young.text);
    let old = aged(13);
    for path in ["/courses", "/training-events?course_id=1"] {
        let reply = old.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            reply.text
        );
    }
    let hold = old.hold(1, None).await;
    assert_eq!(hold.status, StatusCode::UNAUTHORIZED, "{}", hold.text);
    let options = old.get("/options").await;
    assert!(
        options.body["session"].is_string(),
        "an expired session is given a new one: {}",
        options.text
    );
}

/// A reference to a real hold, signed for its session but lapsing twenty
/// minutes ago, opens nothing: it is answered like an unknown reference and
/// nothing is sent upstream.
#[tokio::test]
async fn a_hold_reference_past_its_hold_opens_nothing() {
    let stack = Stack::start().await;
    let event = stack.create_event(1, 5).await;
    let widget = stack.widget().await;
    let hold_ref = widget.hold_ref(event).await;
    let hash = hold_ref.split('.').next().expect("the hold's hash");
    let session = signer()
        .verify_session(&widget.session, Utc::now())
        .expect("the widget's session");
    let lapsed = signer()
        .hold_ref(
            &session,
            Product::Practical,
            hash,
            Utc::now() - chrono::Duration::minutes(20),
        )
        .expect("a reference");

    stack.proxy.clear();
    let released = widget.delete(&format!("/holds/{lapsed}")).await;
    assert_eq!(released.status, StatusCode::NOT_FOUND, "{}", released.text);
    let booked = widget
        .book(
            &lapsed,
            &booking_core::api::PayOption::CandidatePays,
            "late",
        )
        .await;
    assert_eq!(booked.status, StatusCode::NOT_FOUND, "{}", booked.text);
    assert!(
        stack.proxy.seen().is_empty(),
        "nothing is sent upstream for a lapsed reference"
    );
    let own = widget.delete(&format!("/holds/{hold_ref}")).await;
    assert_eq!(own.status, StatusCode::NO_CONTENT, "{}", own.text);
    assert_eq!(
        stack
            .proxy
            .count(Method::DELETE, &format!("/training-events/hold/{hash}")),
        1
    );
}
