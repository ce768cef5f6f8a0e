//! Courses, locations and training events.
//!
//! Invariants: `remaining_slots` is capacity minus seat-holding bookings
//! (holds do not count) and never negative; event times carry the UK offset
//! in force at that instant; the list shows only events starting after the
//! sandbox's now, while a single event can be fetched whatever its date.

use axum::extract::State;
use axum::Json;
use booking_core::api::{
    Course, CourseRef, Location, Money, Page, Trainer, TrainingEvent, TrainingEventDetail,
};
use booking_core::uk_time::to_uk;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row};

use super::auth::Authed;
use super::clock::from_unix;
use super::db::BOOKED_SEATS;
use super::errors::SandboxError;
use super::extract::{PathParam, QueryParams};
use super::pagination::{count_and_page, envelope, Filters, PageRequest};
use super::validate::Validator;
use super::AppState;

/// 404 message for an unknown event.
pub(crate) const EVENT_NOT_FOUND: &str = "Training event not found.";

/// A training event as read from the database.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    /// Event id.
    pub id: i64,
    /// Course id and name.
    pub course: CourseRef,
    /// Venue.
    pub location: Location,
    /// Trainer, if assigned.
    pub trainer: Option<Trainer>,
    /// Start, Unix seconds.
    pub start_utc: i64,
    /// End, Unix seconds.
    pub end_utc: i64,
    /// Seats.
    pub capacity: i64,
    /// Seat-holding bookings.
    pub booked: i64,
    /// Price in pence.
    pub cost_pence: i64,
    /// Whether bookings wait for admin review.
    pub requires_review: bool,
}

/// Columns [`EventRow::from_row`] reads, for `FROM training_events e`
/// joined as in [`EVENT_FROM`].
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.course_id, c.name, e.location_id, l.name, \
     l.address, e.trainer_id, t.name, e.start_utc, e.end_utc, e.capacity, e.cost_pence, \
     c.requires_review";

/// The joins every event query uses.
pub(crate) const EVENT_FROM: &str = "FROM training_events e \
     JOIN courses c ON c.id = e.course_id \
     JOIN locations l ON l.id = e.location_id \
     LEFT JOIN trainers t ON t.id = e.trainer_id";

impl EventRow {
    /// Reads [`EVENT_COLUMNS`] followed by the booked-seat count.
    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<EventRow> {
        EventRow::from_row_at(row, 0)
    }

    /// Like [`EventRow::from_row`], for columns starting at index `base`.
    pub(crate) fn from_row_at(row: &Row<'_>, base: usize) -> rusqlite::Result<EventRow> {
        let trainer_id: Option<i64> = row.get(base + 6)?;
        let trainer_name: Option<String> = row.get(base + 7)?;
        Ok(EventRow {
            id: row.get(base)?,
            course: CourseRef {
                id: to_u64(row.get(base + 1)?),
                name: row.get(base + 2)?,
            },
            location: Location {
                id: to_u64(row.get(base + 3)?),
                name: row.get(base + 4)?,
                address: row.get(base + 5)?,
            },
            trainer: trainer_id.zip(trainer_name).map(|(id, name)| Trainer {
                id: to_u64(id),
                name,
            }),
            start_utc: row.get(base + 8)?,
            end_utc: row.get(base + 9)?,
            capacity: row.get(base + 10)?,
            cost_pence: row.get(base + 11)?,
            requires_review: row.get(base + 12)?,
            booked: row.get(base + 13)?,
        })
    }

    /// Seats not taken by bookings.
    pub(crate) fn remaining(&self) -> i64 {
        (self.capacity - self.booked).max(0)
    }

    /// The list item, with the caller's booking page.
    pub(crate) fn to_event(&self, booking_url: &str) -> TrainingEvent {
        TrainingEvent {
            id: to_u64(self.id),
            course: self.course.clone(),
            location: self.location.clone(),
            start_date: to_uk(from_unix(self.start_utc)),
            end_date: to_uk(from_unix(self.end_utc)),
            remaining_slots: u32::try_from(self.remaining()).unwrap_or(u32::MAX),
            cost_inc_vat: Money(self.cost_pence),
            booking_url: booking_url.to_owned(),
            busy_for_seconds: None,
        }
    }

    /// The detail view.
    pub(crate) fn to_detail(&self, booking_url: &str) -> TrainingEventDetail {
        TrainingEventDetail {
            event: self.to_event(booking_url),
            capacity: u32::try_from(self.capacity).ok(),
            trainer: self.trainer.clone(),
        }
    }
}

/// A database id (always positive) as the wire's unsigned id.
pub(crate) fn to_u64(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}

/// One event by id, whatever its date.
pub(crate) fn load_event(conn: &Connection, id: i64) -> rusqlite::Result<Option<EventRow>> {
    conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS}, {BOOKED_SEATS} {EVENT_FROM} WHERE e.id = ?1"
    ))?
    .query_row([id], EventRow::from_row)
    .optional()
}

/// `GET /courses`: active courses, paginated.
pub(crate) async fn courses(
    State(state): State<AppState>,
    _authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<Course>>, SandboxError> {
    let mut validator = Validator::default();
    let request = PageRequest::from_query(&query, &mut validator, state.profile.get().max_per_page);
    validator.finish()?;
    let mut filters = Filters::new("product = ?", SqlValue::Text(state.product.as_str().into()));
    filters.and("active = 1");
    let (total, data) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                "SELECT id, name, description, duration_minutes, cost_pence, requires_review",
                "FROM courses",
                filters,
                "id",
                request,
                |row| {
                    Ok(Course {
                        id: to_u64(row.get(0)?),
                        name: row.get(1)?,
                        description: row.get(2)?,
                        duration_minutes: row.get(3)?,
                        cost_inc_vat: Some(Money(row.get(4)?)),
                        requires_review: row.get(5)?,
                    })
                },
            )?)
        })
        .await?;
    Ok(Json(envelope(
        &state, "/courses", &query, request, total, data,
    )))
}

/// `GET /locations`: training venues, paginated.
pub(crate) async fn locations(
    State(state): State<AppState>,
    _authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<Location>>, SandboxError> {
    let mut validator = Validator::default();
    let request = PageRequest::from_query(&query, &mut validator, state.profile.get().max_per_page);
    validator.finish()?;
    let (total, data) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                "SELECT id, name, address",
                "FROM locations",
                Filters::default(),
                "id",
                request,
                |row| {
                    Ok(Location {
                        id: to_u64(row.get(0)?),
                        name: row.get(1)?,
                        address: row.get(2)?,
                    })
                },
            )?)
        })
        .await?;
    Ok(Json(envelope(
        &state,
        "/locations",
        &query,
        request,
        total,
        data,
    )))
}

/// `GET /training-events`: upcoming events with filters, paginated.
pub(crate) async fn events(
    State(state): State<AppState>,
    authed: Authed,
    query: QueryParams,
) -> Result<Json<Page<TrainingEvent>>, SandboxError> {
    let mut validator = Validator::default();
    let course_id = validator.query_integer(query.get("course_id"), "course_id", 1, i64::MAX);
    let location_id = validator.query_integer(query.get("location_id"), "location_id", 1, i64::MAX);
    let date_from = validator.query_date(query.get("date_from"), "date_from");
    let date_to = validator.query_date(query.get("date_to"), "date_to");
    if let (Some(from), Some(to)) = (date_from, date_to) {
        if to < from {
            validator.add(
                "date_to",
                "The date to field must be a date after or equal to date from.",
            );
        }
    }
    let available_only = validator
        .query_bool(query.get("available_only"), "available_only")
        .unwrap_or(false);
    validator.query_choice(query.get("sort"), "sort", &["start_date"]);
    let descending =
        validator.query_choice(query.get("sort_dir"), "sort_dir", &["asc", "desc"]) == Some("desc");
    let request = PageRequest::from_query(&query, &mut validator, state.profile.get().max_per_page);
    validator.finish()?;

    let mut filters = Filters::new("e.start_utc > ?", SqlValue::Integer(state.clock.now_secs()));
    filters.and_some("e.course_id = ?", course_id.map(SqlValue::Integer));
    filters.and_some("e.location_id = ?", location_id.map(SqlValue::Integer));
    filters.and_some(
        "e.local_date >= ?",
        date_from.map(|from| SqlValue::Text(from.to_string())),
    );
    filters.and_some(
        "e.local_date <= ?",
        date_to.map(|to| SqlValue::Text(to.to_string())),
    );
    if available_only {
        filters.and(format!("e.capacity > {BOOKED_SEATS}"));
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let booking_url = state.booking_url(&authed.sgi_code);
    let (total, rows) = state
        .db
        .call(move |conn| {
            Ok(count_and_page(
                conn,
                &format!("SELECT {EVENT_COLUMNS}, {BOOKED_SEATS}"),
                EVENT_FROM,
                filters,
                &format!("e.start_utc {direction}, e.id {direction}"),
                request,
                EventRow::from_row,
            )?)
        })
        .await?;
    let data = rows.iter().map(|row| row.to_event(&booking_url)).collect();
    Ok(Json(envelope(
        &state,
        "/training-events",
        &query,
        request,
        total,
        data,
    )))
}

/// `GET /training-events/{id}`: one event with capacity and trainer.
pub(crate) async fn event(
    State(state): State<AppState>,
    authed: Authed,
    id: PathParam,
) -> Result<Json<TrainingEventDetail>, SandboxError> {
    let id = id.id(EVENT_NOT_FOUND)?;
    let row = state
        .db
        .call(move |conn| Ok(load_event(conn, id)?))
        .await?
        .ok_or(SandboxError::NotFound(EVENT_NOT_FOUND))?;
    Ok(Json(row.to_detail(&state.booking_url(&authed.sgi_code))))
}
