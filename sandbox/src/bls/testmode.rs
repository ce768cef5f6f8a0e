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

use super::super::bookings::BOOKING_NOT_FOUND;
use super::super::db::write_tx;
use super::super::errors::SandboxError;
use super::super::extract::{JsonObject, PathParam};
use super::super::validate::Validator;
use super::super::AppState;
use super::bookings::load_virtual;

/// `POST /_sandbox/bls/bookings/{id}/status`
/// `{ "training_status": "scheduled" | "completed" | "no_show",
///    "equipment_status": "pending" | "out" | "in" }` (either or both).
pub(crate) async fn mark_status(
    State(state): State<AppState>,
    id: PathParam,
    JsonObject(body): JsonObject,
) -> Result<Json<VirtualBooking>, SandboxError> {
    let id = id.id(BOOKING_NOT_FOUND)?;
    let mut v = Validator::default();
    let training = v
        .string(&body, "training_status", false, 32)
        .and_then(|value| {
            let status = TrainingStatus::parse(&value);
            if matches!(status, TrainingStatus::Other(_)) {
                v.add(
                    "training_status",
                    "The selected training status is invalid.",
                );
                return None;
            }
            Some(status)
        });
    let equipment = v
        .string(&body, "equipment_status", false, 32)
        .and_then(|value| {
            let status = EquipmentStatus::parse(&value);
            if matches!(status, EquipmentStatus::Other(_)) {
                v.add(
                    "equipment_status",
                    "The selected equipment status is invalid.",
                );
                return None;
            }
            Some(status)
        });
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
    let now = state.clock.now_secs();
    let booking = state
        .db
        .call(move |conn| {
            let tx = write_tx(conn)?;
            let booking =
                load_virtual(&tx, None, id)?.ok_or(SandboxError::NotFound(BOOKING_NOT_FOUND))?;
            if !matches!(
                booking.booking_status.as_str(),
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
            let booking = load_virtual(&tx, None, id)?
                .ok_or_else(|| SandboxError::Internal("marked booking missing".into()))?;
            tx.commit()?;
            Ok(booking)
        })
        .await?;
    Ok(Json(booking.to_wire(&state.public_url)))
}
