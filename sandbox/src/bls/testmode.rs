//! Test mode for Virtual BLS: marking a booking's training and kit status,
//! which decides whether its certificate is available.
//!
//! Invariants: only a confirmed booking (`booked`, `completed` or
//! `no_show`) can be marked; the training can be marked `completed` or
//! `no_show` only once the session has started; `booking_status` follows the
//! training (`completed`, `no_show`, or `booked` when set back to
//! `scheduled`).

use axum::extract::State;
use axum::Json;
use booking_core::api::bls::{EquipmentStatus, TrainingStatus, VirtualBooking};
use rusqlite::params;
use serde_json::{Map, Value};

use super::super::booking_api::{change_booking, BOOKING_NOT_FOUND};
use super::super::errors::SandboxError;
use super::super::extract::{JsonObject, PathParam};
use super::super::validate::{attribute, Validator};
use super::super::AppState;
use super::bookings::VirtualRecord;

/// `POST /_sandbox/bls/bookings/{id}/status`
/// `{ "training_status": "scheduled" | "completed" | "no_show",
///    "equipment_status": "pending" | "out" | "in" }` (either or both).
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
        move |tx, booking: &VirtualRecord, _public_url, now| {
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
            Ok(())
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
