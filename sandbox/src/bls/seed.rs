//! Virtual BLS seed data: three courses with their slot rules, three
//! trainers with weekly schedules and exceptions, the bank holidays of
//! England and Wales, and the two Virtual BLS accounts of `db`'s seed list.
//!
//! Written once, when the database has no Virtual BLS data yet (a new
//! database, or an older one just migrated), from the UK date of the sandbox
//! clock at that moment: the same date always gives the same data.

use booking_core::uk_time::{bst_ends, bst_starts, to_uk};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rusqlite::{params, Connection, Transaction};

use super::super::db::{seed_accounts, seed_once};

/// A seeded Virtual BLS course: id, name, description, minutes, price in
/// pence, buffer before, buffer after (minutes).
type SeedCourse = (i64, &'static str, &'static str, i64, i64, i64, i64);

/// The Virtual BLS catalogue. Ids follow the Practical Training courses'
/// (one `courses` table, told apart by `product`).
pub(crate) const COURSES: &[SeedCourse] = &[
    (
        41,
        "BLS Annual Update (Virtual)",
        "Adult basic life support and AED refresher over Zoom, practised on a posted manikin and AED trainer.",
        60,
        5500,
        15,
        15,
    ),
    (
        42,
        "Basic Life Support and AED (Virtual)",
        "Full adult basic life support, AED use and choking management over Zoom, with the kit posted to the candidate.",
        120,
        7500,
        15,
        15,
    ),
    (
        43,
        "Paediatric Basic Life Support (Virtual)",
        "Infant and child basic life support over Zoom, practised on posted paediatric manikins.",
        90,
        6500,
        15,
        15,
    ),
];

/// Working days the kit needs to reach the candidate.
pub(crate) const LEAD_WORKING_DAYS: i64 = 3;
/// How far ahead a session can be booked, in days.
pub(crate) const HORIZON_DAYS: i64 = 90;

/// Trainers: id and name.
const TRAINERS: &[(i64, &str)] = &[
    (1, "Marcus Bell"),
    (2, "Dr Alana Reid"),
    (3, "Bethan Price"),
];

/// An hour and minute of UK wall-clock time.
type HourMinute = (u32, u32);

/// Weekly blocks: trainer, weekday, start and end, UK time.
const BLOCKS: &[(i64, Weekday, HourMinute, HourMinute)] = &[
    (1, Weekday::Mon, (8, 45), (12, 45)),
    (1, Weekday::Mon, (13, 15), (17, 15)),
    (1, Weekday::Tue, (8, 45), (12, 45)),
    (1, Weekday::Tue, (13, 15), (17, 15)),
    (1, Weekday::Wed, (8, 45), (12, 45)),
    (1, Weekday::Wed, (13, 15), (17, 15)),
    (1, Weekday::Thu, (8, 45), (12, 45)),
    (1, Weekday::Thu, (13, 15), (17, 15)),
    (1, Weekday::Fri, (8, 45), (12, 45)),
    (1, Weekday::Fri, (13, 15), (17, 15)),
    (2, Weekday::Tue, (8, 45), (17, 15)),
    (2, Weekday::Thu, (8, 45), (17, 15)),
    (2, Weekday::Sat, (8, 45), (12, 45)),
    (3, Weekday::Mon, (12, 45), (20, 15)),
    (3, Weekday::Wed, (12, 45), (20, 15)),
    (3, Weekday::Fri, (12, 45), (20, 15)),
];

/// Bank holidays in England and Wales, 2026 to 2028.
pub(crate) const BANK_HOLIDAYS: &[&str] = &[
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-04",
    "2026-05-25",
    "2026-08-31",
    "2026-12-25",
    "2026-12-28",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-03",
    "2027-05-31",
    "2027-08-30",
    "2027-12-27",
    "2027-12-28",
    "2028-01-03",
    "2028-04-14",
    "2028-04-17",
    "2028-05-01",
    "2028-05-29",
    "2028-08-28",
    "2028-12-25",
    "2028-12-26",
];

/// Days ahead in which each UK clock-change night gets an overnight extra
/// session (00:00 to 04:00), so both clock changes show in the timeslots.
const CLOCK_CHANGE_DAYS: i64 = 400;

/// Seeds the Virtual BLS data unless it is there already.
pub(crate) fn seed_if_new(conn: &mut Connection, now: DateTime<Utc>) -> rusqlite::Result<()> {
    seed_once(conn, "bls_seeded_on", now, seed)
}

/// Minutes from midnight of an (hour, minute).
fn minutes((hour, minute): (u32, u32)) -> u32 {
    hour * 60 + minute
}

/// Writes the Virtual BLS seed data.
fn seed(tx: &Transaction<'_>, now: DateTime<Utc>) -> rusqlite::Result<()> {
    let today = to_uk(now).date_naive();
    for &(id, name, description, minutes, cost, before, after) in COURSES {
        tx.execute(
            "INSERT INTO courses (id, name, description, duration_minutes, cost_pence, \
             requires_review, product) VALUES (?1, ?2, ?3, ?4, ?5, 0, 'virtual_bls')",
            params![id, name, description, minutes, cost],
        )?;
        tx.execute(
            "INSERT INTO bls_courses (course_id, buffer_before_minutes, buffer_after_minutes, \
             interval_minutes, lead_working_days, horizon_days) VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
            params![id, before, after, LEAD_WORKING_DAYS, HORIZON_DAYS],
        )?;
    }
    for &(id, name) in TRAINERS {
        tx.execute(
            "INSERT INTO bls_trainers (id, name) VALUES (?1, ?2)",
            params![id, name],
        )?;
        tx.execute(
            "INSERT INTO bls_schedules (id, trainer_id, first_day, last_day) VALUES (?1, ?1, ?2, NULL)",
            params![id, today.to_string()],
        )?;
    }
    for &(trainer, weekday, start, end) in BLOCKS {
        tx.execute(
            "INSERT INTO bls_schedule_blocks (schedule_id, weekday, start_minute, end_minute) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                trainer,
                weekday.num_days_from_monday(),
                minutes(start),
                minutes(end)
            ],
        )?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO bls_schedule_exceptions (trainer_id, kind, first_day, last_day, \
         start_minute, end_minute) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (trainer, kind, first, last, span) in exceptions(today) {
        let (start, end) = span.unzip();
        insert.execute(params![
            trainer,
            kind,
            first.to_string(),
            last.to_string(),
            start,
            end
        ])?;
    }
    for day in BANK_HOLIDAYS {
        tx.execute("INSERT INTO bls_bank_holidays (day) VALUES (?1)", [day])?;
    }
    seed_accounts(tx, "virtual_bls", now.timestamp())?;
    // Booking ids look like the upstream's four-digit references.
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('bls_bookings', 7000)",
        [],
    )?;
    Ok(())
}

/// A schedule exception: trainer, kind (`unavailable` or `extra`), first
/// and last day, and the extra session's minutes.
type SeedException = (i64, &'static str, NaiveDate, NaiveDate, Option<(u32, u32)>);

/// The schedule exceptions from `today`.
fn exceptions(today: NaiveDate) -> Vec<SeedException> {
    // Marcus Bell is on holiday for a week three weeks ahead.
    let holiday = today + Duration::days(21);
    // Bethan Price runs an extra Sunday morning session.
    let mut sunday = today + Duration::days(10);
    while sunday.weekday() != Weekday::Sun {
        sunday += Duration::days(1);
    }
    let mut exceptions = vec![
        (1, "unavailable", holiday, holiday + Duration::days(6), None),
        (
            3,
            "extra",
            sunday,
            sunday,
            Some((9 * 60 + 45, 12 * 60 + 45)),
        ),
    ];
    // Dr Alana Reid covers the night of each UK clock change.
    let last = today + Duration::days(CLOCK_CHANGE_DAYS);
    for year in today.year()..=last.year() {
        for change in [bst_starts(year), bst_ends(year)].into_iter().flatten() {
            let day = change.date_naive();
            if (today..=last).contains(&day) {
                exceptions.push((2, "extra", day, day, Some((0, 4 * 60))));
            }
        }
    }
    exceptions
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::super::super::db::{migrate, MIGRATIONS};
    use super::*;

    #[test]
    fn a_database_migrated_from_before_virtual_bls_gets_its_seed_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        migrate(&mut conn).unwrap();
        let now = Utc::now();
        seed_if_new(&mut conn, now).unwrap();
        seed_if_new(&mut conn, now).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
        assert_eq!(
            count("SELECT COUNT(*) FROM courses WHERE product = 'virtual_bls'"),
            3
        );
        assert_eq!(count("SELECT COUNT(*) FROM bls_trainers"), 3);
        assert_eq!(
            count("SELECT COUNT(*) FROM accounts WHERE product = 'virtual_bls'"),
            2
        );
    }
}
