//! Test mode for Virtual BLS, the training provider's side: marking a
//! booking's training and kit status (which decides whether its certificate
//! is available), moving a booking to another timeslot, and cancelling one;
//! each writes the webhook events its change causes.
//!
//! Invariants: only a confirmed booking (`booked`, `completed` or
//! `no_show`) can be marked; the training can be marked `completed` or
//! `no_show` only once the session has started; `booking_status` follows the
//! training (`completed`, `no_show`, or `booked` when set back to
//! `scheduled`); `booking.certificate_available` is written once per
//! booking, when a change makes the certificate available; a booking moves
//! only to a timeslot a trainer is free for, found in the move's
//! `BEGIN IMMEDIATE` transaction, so no trainer is ever double-booked; a
//! cancellation refunds as Practical Training's does and frees the
//! trainer's time.

use axum::extract::State;
use axum::Json;
use booking_core::api::bls::{EquipmentStatus, TrainingStatus, VirtualBooking};
use booking_core::uk_time::to_uk;
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

use super::super::booking_api::{
    cancel_booking, change_booking, emit_booking, ProductBooking, BOOKING_NOT_FOUND,
};
use super::super::booking_form::validated_fields_missing;
use super::super::clock::from_unix;
use super::super::deliveries::event;
use super::super::errors::SandboxError;
use super::super::extract::{IgnoredBody, JsonObject, PathParam};
use super::super::testmode::timestamp;
use super::super::validate::{attribute, Validator};
use super::super::AppState;
use super::bookings::VirtualRecord;
use super::schedule::load_courses;
use super::timeslots::take_timeslot;

/// Why a time a booking cannot move to is refused.
const NOT_A_FREE_TIMESLOT: &str =
    "This time is not a free timeslot of the booking's course. Choose another time.";

/// `POST /_sandbox/bls/bookings/{id}/status`
/// `{ "training_status": "scheduled" | "completed" | "no_show",
///    "equipment_status": "pending" | "out" | "in" | "overdue" }` (either or
/// both); writes the events the change causes ([`report_marks`]).
pub(crate) async fn mark_status(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<VirtualBooking>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let (training, equipment) = read_statuses(&body)?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &VirtualRecord, public_url, now| {
            if !matches!(
                booking.stored.booking_status.as_str(),
                "booked" | "completed" | "no_show"
            ) {
                return Err(SandboxError::invalid(
                    "booking",
                    "Only a confirmed booking can be marked.",
                ));
            }
            if let Some(training) = &training {
                if *training != TrainingStatus::Scheduled && booking.start_utc > now {
                    return Err(SandboxError::invalid(
                        "training_status",
                        "The session has not started yet.",
                    ));
                }
                let booking_status = match training {
                    TrainingStatus::Completed => "completed",
                    TrainingStatus::NoShow => "no_show",
                    _ => "booked",
                };
                tx.execute(
                    "UPDATE bls_bookings SET training_status = ?1, booking_status = ?2 WHERE id = ?3",
                    params![training.as_str(), booking_status, id],
                )?;
            }
            if let Some(equipment) = &equipment {
                tx.execute(
                    "UPDATE bls_bookings SET equipment_status = ?1 WHERE id = ?2",
                    params![equipment.as_str(), id],
                )?;
            }
            report_marks(tx, booking, public_url, now)
        },
    )
    .await
}

/// Writes the events of what marking `before` changed, the booking as it
/// now stands: `booking.attendance_marked` when the training became
/// `completed` or `no_show`; `booking.equipment_overdue` when the kit became
/// `overdue`; `booking.certificate_available` when the certificate became
/// available (the training completed and the kit in, whichever came last),
/// the first time only.
fn report_marks(
    conn: &Connection,
    before: &VirtualRecord,
    public_url: &str,
    now: i64,
) -> Result<(), SandboxError> {
    let id = before.stored.id;
    let after = VirtualRecord::load(conn, None, id)?
        .ok_or_else(|| SandboxError::Internal("marked booking missing".into()))?;
    let emit = |kind: &str| emit_booking::<VirtualRecord>(conn, kind, id, public_url, now);
    if after.training_status != before.training_status
        && matches!(
            after.training_status,
            TrainingStatus::Completed | TrainingStatus::NoShow
        )
    {
        emit(event::BOOKING_ATTENDANCE_MARKED)?;
    }
    if after.equipment_status != before.equipment_status
        && after.equipment_status == EquipmentStatus::Overdue
    {
        emit(event::BOOKING_EQUIPMENT_OVERDUE)?;
    }
    if after.certificate_available() && !before.certificate_available() {
        let first = conn.execute(
            "UPDATE bls_bookings SET certificate_reported_utc = ?1 \
             WHERE id = ?2 AND certificate_reported_utc IS NULL",
            params![now, id],
        )?;
        if first == 1 {
            emit(event::BOOKING_CERTIFICATE_AVAILABLE)?;
        }
    }
    Ok(())
}

/// `POST /_sandbox/bls/bookings/{id}/reschedule` `{ "starts_at": "<RFC
/// 3339>" }`: the provider moves a booking that is neither cancelled nor
/// started to another timeslot of its course, one `GET /timeslots` would
/// list (its own time left out of what keeps trainers busy), checked and
/// taken in one `BEGIN IMMEDIATE` transaction as a hold is. It keeps its
/// trainer when they are free then, else takes the least busy free one;
/// its old time is free again; `booking.rescheduled` is written. A time in
/// the past, the booking's own, or not a free timeslot is a 422 on
/// `starts_at`.
pub(crate) async fn reschedule(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<VirtualBooking>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let mut v = Validator::default();
    let starts_at = timestamp(&mut v, &body, "starts_at", true);
    v.finish()?;
    let starts_at = starts_at.ok_or_else(validated_fields_missing)?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &VirtualRecord, public_url, now| {
            if booking.stored.is_cancelled() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has been cancelled.",
                ));
            }
            if booking.start_utc <= now {
                return Err(SandboxError::invalid(
                    "booking",
                    "The session has already started.",
                ));
            }
            let wanted = starts_at.timestamp();
            if wanted <= now {
                return Err(SandboxError::invalid(
                    "starts_at",
                    "The starts at field must be a time in the future.",
                ));
            }
            if wanted == booking.start_utc {
                return Err(SandboxError::invalid(
                    "starts_at",
                    "The booking is already at this time.",
                ));
            }
            let not_free = || SandboxError::invalid("starts_at", NOT_A_FREE_TIMESLOT);
            let course = load_courses(tx, Some(booking.course_id()))?
                .into_iter()
                .next()
                .ok_or_else(not_free)?;
            let local = to_uk(starts_at);
            let trainer = i64::try_from(booking.trainer.id).ok();
            let slot = take_timeslot(
                tx,
                &course,
                local.date_naive(),
                local.time(),
                from_unix(now),
                Some(id),
                trainer,
            )?
            .filter(|slot| slot.start_utc == wanted)
            .ok_or_else(not_free)?;
            tx.execute(
                "UPDATE bls_bookings SET trainer_id = ?1, local_date = ?2, start_utc = ?3, \
                 end_utc = ?4, busy_from_utc = ?5, busy_to_utc = ?6 WHERE id = ?7",
                params![
                    slot.trainer_id,
                    slot.date.to_string(),
                    slot.start_utc,
                    slot.end_utc,
                    slot.busy_from_utc,
                    slot.busy_to_utc,
                    id
                ],
            )?;
            emit_booking::<VirtualRecord>(tx, event::BOOKING_RESCHEDULED, id, public_url, now)
        },
    )
    .await
}

/// `POST /_sandbox/bls/bookings/{id}/cancel`: the provider cancels a booking
/// (Virtual BLS has no cancel endpoint for agencies), at any time, refunding
/// as Practical Training's cancel does (`booking_api::cancel_booking`: the
/// credit or the money back, the invoice voided); the trainer's time is
/// free again; `booking.cancelled` is written. 422 if it is already
/// cancelled.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    id: PathParam,
    _body: IgnoredBody,
) -> Result<Json<VirtualBooking>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    change_booking(
        &state,
        None,
        id,
        move |tx, booking: &VirtualRecord, public_url, now| {
            if booking.stored.is_cancelled() {
                return Err(SandboxError::invalid(
                    "booking",
                    "This booking has already been cancelled.",
                ));
            }
            cancel_booking(
                tx,
                booking,
                "Cancelled by the training provider",
                public_url,
                now,
            )
        },
    )
    .await
}

/// Reads `training_status` and `equipment_status`, at least one of them.
fn read_statuses(
    body: &Map<String, Value>,
) -> Result<(Option<TrainingStatus>, Option<EquipmentStatus>), SandboxError> {
    let mut v = Validator::default();
    let training: Option<TrainingStatus> = read_status(&mut v, body, "training_status");
    let equipment: Option<EquipmentStatus> = read_status(&mut v, body, "equipment_status");
    if training.is_none()
        && equipment.is_none()
        && !body.contains_key("training_status")
        && !body.contains_key("equipment_status")
    {
        v.add(
            "training_status",
            "The training status field is required when equipment status is not present.",
        );
    }
    v.finish()?;
    Ok((training, equipment))
}

/// A status this endpoint sets: one of the values its open enum knows.
trait KnownStatus: Sized {
    /// The status `text` names, if known.
    fn parse_known(text: &str) -> Option<Self>;
}

impl KnownStatus for TrainingStatus {
    fn parse_known(text: &str) -> Option<Self> {
        Some(Self::parse(text)).filter(|status| !matches!(status, Self::Other(_)))
    }
}

impl KnownStatus for EquipmentStatus {
    fn parse_known(text: &str) -> Option<Self> {
        Some(Self::parse(text)).filter(|status| !matches!(status, Self::Other(_)))
    }
}

/// An optional status `field`: `None`, with the error, for an unknown
/// value.
fn read_status<T: KnownStatus>(
    v: &mut Validator,
    body: &Map<String, Value>,
    field: &str,
) -> Option<T> {
    let text = v.string(body, field, false, 32)?;
    let status = T::parse_known(&text);
    if status.is_none() {
        v.add(
            field,
            format!("The selected {} is invalid.", attribute(field)),
        );
    }
    status
}
