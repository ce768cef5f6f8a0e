//! The published example bodies of the Practical Training API and of the
//! Virtual BLS API (contract reference, sections 2 to 6 and 10), shared by
//! the tests that decode them.
#![allow(dead_code)] // Each test binary uses a different subset.

/// The documented `POST /bookings` request.
pub const BOOKING_REQUEST: &str = r#"{
  "hold_hash": "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K",
  "first_name": "Priya",
  "last_name": "Patel",
  "email": "priya.patel@carestaff.example",
  "phone": "+447700900123",
  "job_role": "Healthcare Assistant",
  "pay_option": "credits",
  "agency_contact_name": "Tom Birch",
  "agency_contact_email": "tom.birch@northwestcare.example",
  "agency_email": "accounts@northwestcare.example"
}"#;

/// The documented 201 `BookingDetail`, paid with a credit.
pub const BOOKING: &str = r#"{
  "id": 102388,
  "candidate": {
    "name": "Priya Patel",
    "email": "priya.patel@carestaff.example",
    "phone": "+447700900123",
    "job_role": "Healthcare Assistant"
  },
  "course":   { "id": 2, "name": "Moving & Handling Practical" },
  "location": { "id": 5, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" },
  "trainer":  { "id": 9, "name": "Megan Shaw" },
  "start_date": "2026-08-04T09:30:00+01:00",
  "end_date":   "2026-08-04T16:30:00+01:00",
  "booking_status": "booked",
  "pay_status": "completed",
  "pay_option": "credits",
  "booked_by": "Agency",
  "attendance": null,
  "certificate_available": false,
  "created_at": "2026-07-20T14:17:03+00:00"
}"#;

/// The documented `GET /training-events` page (section 5.1).
pub const EVENTS_PAGE: &str = r#"{
  "data": [
    {
      "id": 41,
      "course":   { "id": 2, "name": "Moving & Handling Practical" },
      "location": { "id": 5, "name": "Leeds", "address": "Unit 4, Aire Street, Leeds" },
      "start_date": "2026-08-04T09:30:00+01:00",
      "end_date":   "2026-08-04T16:30:00+01:00",
      "remaining_slots": 5,
      "cost_inc_vat": 95,
      "booking_url": "https://tdta.hbcompliance.co.uk/practical-training/?sgi=NWCARE07"
    }
  ],
  "meta":  { "current_page": 1, "per_page": 20, "last_page": 2, "total": 27 },
  "links": { "next": "https://tdta.hbcompliance.co.uk/api/v1/training-events?page=2", "prev": null }
}"#;

/// The documented `SlotHoldResponse` (section 5.3).
pub const HOLD: &str = r#"{
  "hold_hash": "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K",
  "expires_at": "2026-07-20T14:45:00+00:00",
  "expires_in_seconds": 1800,
  "training_event": {
    "id": 41,
    "course": "Moving & Handling Practical",
    "location": "Leeds",
    "start_date": "2026-08-04T09:30:00+01:00"
  }
}"#;

/// The documented `CreditsResponse` schema (section 2.3).
pub const CREDITS: &str = r#"{
  "booking_credits": [
    { "course_id": 2, "course_name": "Moving & Handling Practical", "credits": 6 }
  ],
  "booking_money_balance": 412.5,
  "currency": "GBP"
}"#;

/// The documented Virtual BLS `TimeslotHoldResponse` (section 10.2).
pub const TIMESLOT_HOLD: &str = r#"{
  "hold_hash": "Hn4Rk8Wq2Zx6Lp0Tv5Ys9Bc3Dm7Fg1Ja",
  "expires_at": "2026-08-28T11:05:00+00:00",
  "expires_in_seconds": 1800,
  "slot": {
    "date": "2026-09-02",
    "time": "14:00",
    "course": { "id": 4, "name": "BLS Annual Update (Virtual)" }
  }
}"#;

/// The documented Virtual BLS booking (section 10.3).
pub const VIRTUAL_BOOKING: &str = r#"{
  "id": 7731,
  "candidate": { "name": "Owen Hughes", "email": "owen.hughes@carestaff.example", "phone": "+447700900456" },
  "course":  { "id": 4, "name": "BLS Annual Update (Virtual)" },
  "trainer": { "id": 2, "name": "Dr Alana Reid" },
  "start_date": "2026-09-02T14:00:00+01:00",
  "end_date":   "2026-09-02T15:00:00+01:00",
  "booking_status": "booked",
  "pay_status": "completed",
  "pay_option": "credits",
  "booked_by": "Agency",
  "virtual": { "zoom_id": "845 112 9034", "zoom_link": "https://zoom.us/j/8451129034", "zoom_password": "k7Tq2w" },
  "certificate_available": false,
  "created_at": "2026-08-28T10:41:12+00:00"
}"#;
