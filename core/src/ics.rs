//! "Add to calendar": an iCalendar (RFC 5545) file for a booking, made in the
//! browser from the booking the API returned.
//!
//! Invariants: times are written in UTC (`...Z`), so every calendar shows the
//! venue's time correctly whatever its own zone; text values are escaped, so
//! a course or address can never add lines or properties; lines are folded at
//! 75 octets without splitting a UTF-8 character; lines end with CRLF.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::api::bls::VirtualBooking;
use crate::api::{BookingDetail, Timestamp};

/// What a calendar entry says of a booking, whichever product it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// Booking id.
    pub id: u64,
    /// Course name.
    pub course: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// When the booking was made.
    pub created_at: Timestamp,
    /// Where: the venue, or the Zoom link.
    pub location: String,
    /// How to attend, after "{course} " (e.g. "at Leeds").
    pub attend: String,
}

/// A booking that can be put in a calendar.
pub trait CalendarBooking {
    /// Its calendar entry.
    fn calendar_entry(&self) -> CalendarEntry;
}

impl CalendarBooking for BookingDetail {
    /// At the venue: its name and address.
    fn calendar_entry(&self) -> CalendarEntry {
        let venue = if self.location.address.is_empty() {
            self.location.name.clone()
        } else {
            format!("{}, {}", self.location.name, self.location.address)
        };
        CalendarEntry {
            id: self.id,
            course: self.course.name.clone(),
            start: self.start_date,
            end: self.end_date,
            created_at: self.created_at,
            attend: format!("at {venue}"),
            location: venue,
        }
    }
}

impl CalendarBooking for VirtualBooking {
    /// Over Zoom: the join link is the location; the meeting id and
    /// password are in the description.
    fn calendar_entry(&self) -> CalendarEntry {
        let zoom = &self.session;
        CalendarEntry {
            id: self.id,
            course: self.course.name.clone(),
            start: self.start_date,
            end: self.end_date,
            created_at: self.created_at,
            location: zoom.zoom_link.clone(),
            attend: format!(
                "over Zoom ({}, meeting ID {}, password {})",
                zoom.zoom_link, zoom.zoom_id, zoom.zoom_password
            ),
        }
    }
}

impl CalendarBooking for crate::flow::Booked {
    /// The entry of whichever product's booking it is.
    fn calendar_entry(&self) -> CalendarEntry {
        match self {
            crate::flow::Booked::Practical(booking) => booking.calendar_entry(),
            crate::flow::Booked::Virtual(booking) => booking.calendar_entry(),
        }
    }
}

/// The file name offered for download.
pub fn file_name(booking: &impl CalendarBooking) -> String {
    format!("training-booking-{}.ics", booking.calendar_entry().id)
}

/// The calendar file for a booking; with the address of the booking's own
/// page (`manage_url`), the entry links to it.
pub fn booking_ics(booking: &impl CalendarBooking, manage_url: Option<&str>) -> String {
    let entry = booking.calendar_entry();
    let see_or_change = manage_url
        .map(|url| format!(" See or change your booking: {url}"))
        .unwrap_or_default();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Healthier Business Group//Training booking widget//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:training-booking-{}@hbg-booking", entry.id),
        format!(
            "DTSTAMP:{}",
            utc_stamp(entry.created_at.with_timezone(&Utc))
        ),
        format!("DTSTART:{}", utc_stamp(entry.start.with_timezone(&Utc))),
        format!("DTEND:{}", utc_stamp(entry.end.with_timezone(&Utc))),
        format!("SUMMARY:{}", escape_text(&entry.course)),
        format!("LOCATION:{}", escape_text(&entry.location)),
        format!(
            "DESCRIPTION:{}",
            escape_text(&format!(
                "{} {}. Booking reference {}.{see_or_change}",
                entry.course, entry.attend, entry.id
            ))
        ),
    ];
    if let Some(url) = manage_url {
        lines.push(format!("URL:{}", escape_text(url)));
    }
    lines.extend(["END:VEVENT".to_owned(), "END:VCALENDAR".to_owned()]);
    lines.iter().map(|line| fold(line)).collect()
}

/// A UTC date-time as iCalendar writes it: `20260804T083000Z`.
fn utc_stamp(instant: DateTime<Utc>) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        instant.year(),
        instant.month(),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second()
    )
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            ch if ch.is_control() => {}
            ch => out.push(ch),
        }
    }
    out
}

/// Folds a content line at 75 octets and ends it with CRLF.
fn fold(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > LIMIT {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(course: &str, address: &str) -> BookingDetail {
        let body = serde_json::json!({
            "id": 102388,
            "candidate": { "name": "Priya Patel", "email": "priya@example.com" },
            "course": { "id": 2, "name": course },
            "location": { "id": 5, "name": "Leeds", "address": address },
            "start_date": "2026-08-04T09:30:00+01:00",
            "end_date": "2026-08-04T16:30:00+01:00",
            "booking_status": "booked",
            "pay_status": "completed",
            "pay_option": "credits",
            "booked_by": "Agency",
            "attendance": null,
            "certificate_available": false,
            "created_at": "2026-07-20T14:17:03+00:00"
        });
        serde_json::from_value(body).expect("a valid booking")
    }

    #[test]
    fn times_are_written_in_utc() {
        let ics = booking_ics(&booking("Moving & Handling Practical", "Unit 4"), None);
        assert!(ics.contains("DTSTART:20260804T083000Z\r\n"));
        assert!(ics.contains("DTEND:20260804T153000Z\r\n"));
        assert!(ics.contains("DTSTAMP:20260720T141703Z\r\n"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn the_entry_links_to_the_bookings_own_page() {
        let url = "https://agency.example/book?hbg-booking=pt.1.2.3.T";
        let ics = booking_ics(&booking("Moving & Handling Practical", "Unit 4"), Some(url));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("\r\nURL:{url}\r\n")), "{ics}");
        assert!(
            unfolded.contains(&format!("See or change your booking: {url}")),
            "{ics}"
        );
        assert!(
            !booking_ics(&booking("Moving & Handling Practical", "Unit 4"), None).contains("URL:")
        );
    }

    #[test]
    fn text_cannot_add_properties() {
        let ics = booking_ics(
            &booking("Evil\r\nATTENDEE:mailto:x@example.com", "A; B, C\\"),
            None,
        );
        assert!(!ics.contains("\r\nATTENDEE"));
        assert!(ics.contains("SUMMARY:Evil\\nATTENDEE:mailto:x@example.com"));
        assert!(ics.contains("Leeds\\, A\\; B\\, C\\\\"));
    }

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let ics = booking_ics(&booking(&"é".repeat(100), "Unit 4"), None);
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line too long: {line}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", "é".repeat(100))));
    }

    fn zoom_booking(password: &str) -> VirtualBooking {
        serde_json::from_value(serde_json::json!({
            "id": 7731,
            "candidate": { "name": "Owen Hughes", "email": "owen@example.com" },
            "course": { "id": 41, "name": "BLS Annual Update (Virtual)" },
            "start_date": "2026-10-26T14:00:00+00:00",
            "end_date": "2026-10-26T15:00:00+00:00",
            "booking_status": "booked", "pay_status": "completed", "pay_option": "invoice",
            "virtual": { "zoom_id": "845 112 9034", "zoom_link": "https://zoom.us/j/8451129034",
                         "zoom_password": password },
            "training_status": "scheduled", "equipment_status": "pending",
            "created_at": "2026-10-20T10:41:12+00:00"
        }))
        .expect("a valid Virtual BLS booking")
    }

    #[test]
    fn a_virtual_session_has_the_zoom_link_as_its_location() {
        let booking = zoom_booking("k7Tq2w");
        let ics = booking_ics(&booking, None);
        assert!(
            ics.contains("LOCATION:https://zoom.us/j/8451129034\r\n"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART:20261026T140000Z\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(
            "DESCRIPTION:BLS Annual Update (Virtual) over Zoom (https://zoom.us/j/8451129034\\, meeting ID 845 112 9034\\, password k7Tq2w). Booking reference 7731."
        ), "{unfolded}");
        assert_eq!(file_name(&booking), "training-booking-7731.ics");
        let hostile = booking_ics(&zoom_booking("x\r\nATTENDEE:mailto:x@example.com"), None);
        assert!(!hostile.contains("\r\nATTENDEE"));
    }
}
