//! The widget API's route table.

use booking_core::widget_api::route;

#[test]
fn a_reference_fills_its_route_template() {
    assert_eq!(route::with_ref(route::HOLD, "abc.123"), "/holds/abc.123");
    assert_eq!(
        route::with_ref(route::BOOKING, "42.sig"),
        "/bookings/42.sig"
    );
    assert_eq!(route::with_ref(route::HOLDS, "ignored"), "/holds");
}
