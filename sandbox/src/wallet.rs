//! The wallet both products' bookings pay from: booking credits per course
//! and the money balance, and the check that an account can pay.
//!
//! Invariants: every movement of money or credits is one wallet transaction
//! row carrying the money balance after it; an option the account cannot
//! afford is refused (422 on `pay_option`) before anything is written;
//! `credits` takes one credit of the booked course, `balance` the cost, an
//! invoice (`inv`, or `invoice` on Virtual BLS) needs invoice payments
//! enabled, raises an invoice and moves nothing, and `candidate_pays` moves
//! nothing (the candidate pays outside the wallet). A refund gives back
//! exactly what the booking took: the credit or the money (another wallet
//! transaction), or voids the invoice.

use super::deliveries::{emit, event, Audience, BALANCE_LOW_MARK_PENCE, CREDITS_LOW_MARK};
use booking_core::api::{Money, PayOption, PayStatus};
use booking_core::product::Product;
use rusqlite::{params, Connection, OptionalExtension};

use super::db::random_token;
use super::errors::SandboxError;

/// Length of the opaque token in a checkout link.
pub(crate) const CHECKOUT_TOKEN_LEN: usize = 32;

/// The booking a wallet movement belongs to, in its product's table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BookingRef {
    /// A Practical Training booking (`bookings`).
    Practical(i64),
    /// A Virtual BLS booking (`bls_bookings`).
    Virtual(i64),
}

impl BookingRef {
    /// Booking `id` of `product`.
    pub(crate) fn of(product: Product, id: i64) -> BookingRef {
        match product {
            Product::Practical => BookingRef::Practical(id),
            Product::VirtualBls => BookingRef::Virtual(id),
        }
    }

    /// The values of the `booking_id` and `bls_booking_id` columns that
    /// point at it.
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            BookingRef::Practical(id) => (Some(id), None),
            BookingRef::Virtual(id) => (None, Some(id)),
        }
    }
}

/// One wallet movement to record.
pub(crate) struct WalletEntry<'a> {
    /// The account.
    pub account_id: i64,
    /// `credit` (into the wallet) or `debit` (out of it).
    pub kind: &'a str,
    /// Money moved, in pence.
    pub amount_pence: Option<i64>,
    /// Credits moved.
    pub credits: Option<i64>,
    /// The course concerned.
    pub course_id: i64,
    /// The booking concerned.
    pub booking: BookingRef,
    /// What it was for.
    pub description: &'a str,
}

/// Writes a wallet transaction row; `balance_after` is the account's money
/// balance as it now stands.
pub(crate) fn record(conn: &Connection, entry: &WalletEntry<'_>, now: i64) -> rusqlite::Result<()> {
    let (practical, virtual_bls) = entry.booking.columns();
    conn.prepare_cached(
        "INSERT INTO wallet_transactions (account_id, kind, amount_pence, credits, course_id, \
         booking_id, bls_booking_id, description, balance_after_pence, created_utc) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, balance_pence, ?9 FROM accounts WHERE id = ?1",
    )?
    .execute(params![
        entry.account_id,
        entry.kind,
        entry.amount_pence,
        entry.credits,
        entry.course_id,
        practical,
        virtual_bls,
        entry.description,
        now
    ])?;
    Ok(())
}

/// What is being paid for.
pub(crate) struct Priced<'a> {
    /// Its course.
    pub course_id: i64,
    /// The course's name, for messages.
    pub course_name: &'a str,
    /// Its price in pence.
    pub cost_pence: i64,
    /// What it is called in messages: "training event", "timeslot".
    pub noun: &'a str,
}

/// How a booking will be paid, found affordable before anything is written.
#[derive(Debug)]
pub(crate) struct Charge {
    /// The method.
    pub method: PayOption,
    /// The booking's `pay_status` once created.
    pub status: PayStatus,
    /// Money charged, invoiced or due (0 for a credit).
    pub amount_pence: i64,
    /// The checkout link's token (`candidate_pays`).
    pub checkout_token: Option<String>,
    /// The course whose credit a `credits` booking takes.
    pub course_id: i64,
    /// The course's credits before the booking.
    pub credits_before: i64,
    /// The money balance before the booking, in pence.
    pub balance_before: i64,
}

impl Charge {
    /// Checks that the account can pay for `item` with `method`: a known
    /// option, a credit of the course left, a balance that covers the cost,
    /// invoice payments enabled; else a 422 on `pay_option`.
    pub(crate) fn check(
        conn: &Connection,
        account_id: i64,
        item: &Priced<'_>,
        method: PayOption,
    ) -> Result<Charge, SandboxError> {
        let (balance, invoice_payments): (i64, bool) = conn
            .prepare_cached("SELECT balance_pence, invoice_payments FROM accounts WHERE id = ?1")?
            .query_row([account_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let cost = item.cost_pence;
        let credits: i64 = conn
            .prepare_cached(
                "SELECT credits FROM course_credits WHERE account_id = ?1 AND course_id = ?2",
            )?
            .query_row(params![account_id, item.course_id], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let (status, amount_pence, checkout_token) = match method {
            PayOption::Credits => {
                if credits < 1 {
                    return Err(SandboxError::invalid(
                        "pay_option",
                        format!("You have no booking credits left for {}.", item.course_name),
                    ));
                }
                (PayStatus::Completed, 0, None)
            }
            PayOption::Balance => {
                if balance < cost {
                    return Err(SandboxError::invalid(
                        "pay_option",
                        format!(
                            "Your booking money balance ({}) does not cover this {} ({}).",
                            Money(balance),
                            item.noun,
                            Money(cost)
                        ),
                    ));
                }
                (PayStatus::Completed, cost, None)
            }
            PayOption::Inv => {
                if !invoice_payments {
                    return Err(SandboxError::invalid(
                        "pay_option",
                        "Invoice payments are not enabled for this account.",
                    ));
                }
                (PayStatus::Completed, cost, None)
            }
            PayOption::CandidatePays => (
                PayStatus::Pending,
                cost,
                Some(random_token(CHECKOUT_TOKEN_LEN)),
            ),
            PayOption::Other(_) => {
                return Err(SandboxError::invalid(
                    "pay_option",
                    "The selected pay option is invalid.",
                ));
            }
        };
        Ok(Charge {
            method,
            status,
            amount_pence,
            checkout_token,
            course_id: item.course_id,
            credits_before: credits,
            balance_before: balance,
        })
    }

    /// After [`Charge::take`]: writes `credits.low` or `credits.depleted`
    /// when this booking's credit took the course's credits to the low mark
    /// or to none, and `balance.low` or `balance.depleted` when its cost
    /// took the balance below the low mark or to nothing.
    pub(crate) fn emit_running_low(
        &self,
        conn: &Connection,
        account_id: i64,
        item: &Priced<'_>,
        now: i64,
    ) -> Result<(), SandboxError> {
        let audience = Audience::Account(account_id);
        match self.method {
            PayOption::Credits => {
                let after = self.credits_before - 1;
                let kind = if after <= 0 {
                    Some(event::CREDITS_DEPLETED)
                } else if after <= CREDITS_LOW_MARK && self.credits_before > CREDITS_LOW_MARK {
                    Some(event::CREDITS_LOW)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    let data = serde_json::json!({
                        "course_id": item.course_id,
                        "course_name": item.course_name,
                        "credits": after.max(0),
                        "low_mark": CREDITS_LOW_MARK,
                    });
                    emit(conn, audience, kind, data, now)?;
                }
            }
            PayOption::Balance => {
                let after = self.balance_before - self.amount_pence;
                let kind = if after <= 0 {
                    Some(event::BALANCE_DEPLETED)
                } else if after < BALANCE_LOW_MARK_PENCE
                    && self.balance_before >= BALANCE_LOW_MARK_PENCE
                {
                    Some(event::BALANCE_LOW)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    let data = serde_json::json!({
                        "booking_money_balance": Money(after.max(0)),
                        "currency": "GBP",
                        "low_mark": Money(BALANCE_LOW_MARK_PENCE),
                    });
                    emit(conn, audience, kind, data, now)?;
                }
            }
            PayOption::Inv | PayOption::CandidatePays | PayOption::Other(_) => {}
        }
        Ok(())
    }

    /// Takes payment for a booking just inserted: one credit of the course
    /// or the cost from the balance, each with its wallet transaction; an
    /// invoice for the cost; nothing for `candidate_pays`.
    pub(crate) fn take(
        &self,
        conn: &Connection,
        account_id: i64,
        booking: BookingRef,
        description: &str,
        now: i64,
    ) -> Result<(), SandboxError> {
        let (amount_pence, credits) = match self.method {
            PayOption::Credits => {
                conn.execute(
                    "UPDATE course_credits SET credits = credits - 1 \
                     WHERE account_id = ?1 AND course_id = ?2",
                    params![account_id, self.course_id],
                )?;
                (None, Some(1))
            }
            PayOption::Balance => {
                conn.execute(
                    "UPDATE accounts SET balance_pence = balance_pence - ?1 WHERE id = ?2",
                    params![self.amount_pence, account_id],
                )?;
                (Some(self.amount_pence), None)
            }
            PayOption::Inv => {
                let (practical, virtual_bls) = booking.columns();
                conn.prepare_cached(
                    "INSERT INTO invoices (account_id, booking_id, bls_booking_id, amount_pence, \
                     status, created_utc) VALUES (?1, ?2, ?3, ?4, 'issued', ?5)",
                )?
                .execute(params![
                    account_id,
                    practical,
                    virtual_bls,
                    self.amount_pence,
                    now
                ])?;
                return Ok(());
            }
            PayOption::CandidatePays | PayOption::Other(_) => return Ok(()),
        };
        record(
            conn,
            &WalletEntry {
                account_id,
                kind: "debit",
                amount_pence,
                credits,
                course_id: self.course_id,
                booking,
                description,
            },
            now,
        )?;
        Ok(())
    }
}

/// A booking being cancelled, as its refund needs it.
pub(crate) struct Refund<'a> {
    /// The account that made it.
    pub account_id: i64,
    /// Whether it is paid.
    pub pay_status: PayStatus,
    /// Money charged, invoiced or due.
    pub amount_pence: i64,
    /// How it was paid.
    pub method: PayOption,
    /// Its course, whose credit comes back.
    pub course_id: i64,
    /// The booking, in its product's table.
    pub booking: BookingRef,
    /// What the wallet transaction says.
    pub description: &'a str,
}

/// Gives back what a booking took, inside the caller's transaction: a paid
/// credit comes back to the course and paid money to the balance, each as a
/// `credit` wallet transaction; an invoice is voided; an unpaid booking
/// gets nothing back. Returns the booking's `pay_status` after it:
/// `refunded` when it was paid, else as it was.
pub(crate) fn refund(
    conn: &Connection,
    booking: &Refund<'_>,
    now: i64,
) -> Result<PayStatus, SandboxError> {
    let account_id = booking.account_id;
    let paid = booking.pay_status == PayStatus::Completed;
    let give_back = |amount_pence: Option<i64>, credits: Option<i64>| {
        record(
            conn,
            &WalletEntry {
                account_id,
                kind: "credit",
                amount_pence,
                credits,
                course_id: booking.course_id,
                booking: booking.booking,
                description: booking.description,
            },
            now,
        )
    };
    match booking.method {
        PayOption::Credits if paid => {
            conn.execute(
                "INSERT INTO course_credits (account_id, course_id, credits) VALUES (?1, ?2, 1) \
                 ON CONFLICT (account_id, course_id) DO UPDATE SET credits = credits + 1",
                params![account_id, booking.course_id],
            )?;
            give_back(None, Some(1))?;
        }
        PayOption::Balance if paid => {
            conn.execute(
                "UPDATE accounts SET balance_pence = balance_pence + ?1 WHERE id = ?2",
                params![booking.amount_pence, account_id],
            )?;
            give_back(Some(booking.amount_pence), None)?;
        }
        PayOption::Inv => {
            let (practical, virtual_bls) = booking.booking.columns();
            conn.execute(
                "UPDATE invoices SET status = 'void' \
                 WHERE booking_id IS ?1 AND bls_booking_id IS ?2",
                params![practical, virtual_bls],
            )?;
        }
        _ => {}
    }
    Ok(if paid {
        PayStatus::Refunded
    } else {
        booking.pay_status.clone()
    })
}
