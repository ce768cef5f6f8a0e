//! The published example bodies of the Practical Training API (contract
//! reference, section 6.1), shared by the tests that decode them.

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
