//! The SQLite database: connection handle, schema migrations and seed data.
//!
//! Invariants:
//! * One connection, owned by one thread that runs queued jobs one after
//!   another, so requests never block the async runtime and all database
//!   work is serialised. Writes that check and then change seats or wallets
//!   also run in one `BEGIN IMMEDIATE` transaction.
//! * Money is stored in whole pence, times in Unix seconds (UTC). An event's
//!   `local_date` is its UK date, used by date filters.
//! * A booking occupies a seat unless its status is `cancelled`; a hold
//!   is live while it is neither released nor used and has not expired.
//! * The schema version lives in `PRAGMA user_version`; migrations run at
//!   start. Seed data is written once, when the database is new, and depends
//!   only on the UK date of the sandbox clock at that moment.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc;

use booking_core::uk_time::{bst_ends, bst_starts, to_uk, uk_local};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::errors::SandboxError;

/// Where the sandbox keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A private in-memory database, gone when the sandbox stops (`:memory:`).
    Memory,
    /// A SQLite file, created when missing.
    File(PathBuf),
}

impl FromStr for DatabaseLocation {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(if value == ":memory:" {
            DatabaseLocation::Memory
        } else {
            DatabaseLocation::File(PathBuf::from(value))
        })
    }
}

/// Prepared statements kept for reuse (the API uses a few dozen).
const STATEMENT_CACHE: usize = 128;

/// A unit of database work, run on the database thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The shared database handle: a queue to the one thread that owns the
/// connection.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    jobs: mpsc::Sender<Job>,
}

/// Opens (creating, migrating and seeding Practical Training's data as
/// needed) the database. `now` is the sandbox time used when seeding a new
/// database. Virtual BLS's seed data is `bls::seed`'s, written by the
/// sandbox's start right after.
pub(crate) fn open_connection(
    location: &DatabaseLocation,
    now: DateTime<Utc>,
) -> Result<Connection, rusqlite::Error> {
    let mut conn = match location {
        DatabaseLocation::Memory => Connection::open_in_memory()?,
        DatabaseLocation::File(path) => {
            let conn = Connection::open(path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn
        }
    };
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    migrate(&mut conn)?;
    seed_once(&mut conn, "seeded_on", now, seed)?;
    Ok(conn)
}

impl Db {
    /// Moves the connection to its own thread. The thread ends, closing the
    /// connection, when the last handle is dropped.
    pub(crate) fn start(mut conn: Connection) -> std::io::Result<Db> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sandbox-db".to_owned())
            .spawn(move || {
                for job in queue {
                    // A panicking job drops its reply (the request answers
                    // 500) and rolls its transaction back; the thread goes on.
                    let _ = panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                }
            })?;
        Ok(Db { jobs })
    }

    /// Runs `work` on the database thread and waits for its result.
    pub(crate) async fn call<R, F>(&self, work: F) -> Result<R, SandboxError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, SandboxError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| SandboxError::Internal("the database thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| SandboxError::Internal("a database job failed".into()))?
    }
}

/// Starts a write transaction that takes the write lock at once.
pub(crate) fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>, rusqlite::Error> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// SHA-256 of `text` as lowercase hex: how API keys and tokens are stored.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A random alphanumeric string (hold hashes, tokens, checkout links).
pub(crate) fn random_token(length: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// SQL for the number of seat-holding bookings of event `e`.
pub(crate) const BOOKED_SEATS: &str =
    "(SELECT COUNT(*) FROM bookings b WHERE b.event_id = e.id AND b.booking_status != 'cancelled')";

/// Live holds on an event at `now`.
pub(crate) fn live_holds(
    conn: &Connection,
    event_id: i64,
    now: i64,
) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT COUNT(*) FROM holds WHERE event_id = ?1 AND released_utc IS NULL \
         AND used_utc IS NULL AND expires_utc > ?2",
        params![event_id, now],
        |row| row.get(0),
    )
}

/// The schema, one entry per version.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    hb_client_id TEXT NOT NULL UNIQUE,
    api_key_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    sgi_code TEXT NOT NULL,
    invoice_payments INTEGER NOT NULL,
    balance_pence INTEGER NOT NULL,
    internal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE courses (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    cost_pence INTEGER NOT NULL,
    requires_review INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE course_credits (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    credits INTEGER NOT NULL CHECK (credits >= 0),
    PRIMARY KEY (account_id, course_id)
);
CREATE TABLE locations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL);
CREATE TABLE trainers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE training_events (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    trainer_id INTEGER REFERENCES trainers(id),
    start_utc INTEGER NOT NULL,
    end_utc INTEGER NOT NULL,
    local_date TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    cost_pence INTEGER NOT NULL
);
CREATE INDEX training_events_start ON training_events(start_utc);
CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    hold_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    event_id INTEGER NOT NULL REFERENCES training_events(id),
    created_utc INTEGER NOT NULL,
    expires_utc INTEGER NOT NULL,
    released_utc INTEGER,
    used_utc INTEGER
);
CREATE INDEX holds_event ON holds(event_id, expires_utc);
CREATE INDEX holds_account_event ON holds(account_id, event_id);
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    event_id INTEGER NOT NULL REFERENCES training_events(id),
    hold_id INTEGER REFERENCES holds(id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    job_role TEXT,
    agency_contact_name TEXT,
    agency_contact_email TEXT,
    agency_email TEXT,
    pay_option TEXT NOT NULL,
    booking_status TEXT NOT NULL,
    pay_status TEXT NOT NULL,
    attendance TEXT,
    certificate_available INTEGER NOT NULL DEFAULT 0,
    amount_pence INTEGER NOT NULL DEFAULT 0,
    checkout_token TEXT UNIQUE,
    return_url TEXT,
    created_utc INTEGER NOT NULL,
    paid_utc INTEGER,
    cancelled_utc INTEGER
);
CREATE INDEX bookings_event ON bookings(event_id, booking_status);
CREATE INDEX bookings_account ON bookings(account_id, id);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    booking_id INTEGER NOT NULL UNIQUE REFERENCES bookings(id),
    amount_pence INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_utc INTEGER NOT NULL
);
CREATE TABLE wallet_transactions (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    amount_pence INTEGER,
    credits INTEGER,
    course_id INTEGER REFERENCES courses(id),
    booking_id INTEGER REFERENCES bookings(id),
    description TEXT NOT NULL,
    balance_after_pence INTEGER NOT NULL,
    created_utc INTEGER NOT NULL
);
CREATE INDEX wallet_account ON wallet_transactions(account_id, id);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    access_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT NOT NULL UNIQUE,
    access_expires_utc INTEGER NOT NULL,
    refresh_expires_utc INTEGER NOT NULL,
    created_utc INTEGER NOT NULL,
    refreshed_utc INTEGER,
    revoked_utc INTEGER
);
CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    booking_id INTEGER NOT NULL REFERENCES bookings(id),
    created_utc INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
"#,
    // When a booking on a course that requires review was approved or refused.
    "ALTER TABLE bookings ADD COLUMN reviewed_utc INTEGER;",
    // Webhook endpoints, the events sent to them, each delivery and each of
    // its attempts; booking invites and the test-mode outbox.
    r#"
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    created_utc INTEGER NOT NULL,
    updated_utc INTEGER NOT NULL,
    deleted_utc INTEGER
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints(account_id, id);
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    occurred_utc INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    event_row INTEGER NOT NULL REFERENCES webhook_events(id),
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_ms);
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    attempt INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER,
    status_code INTEGER,
    outcome TEXT NOT NULL,
    error TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, attempt);
ALTER TABLE holds ADD COLUMN expiry_reported_utc INTEGER;
UPDATE holds SET expiry_reported_utc = expires_utc;
CREATE INDEX holds_unreported ON holds(expires_utc)
    WHERE expiry_reported_utc IS NULL AND used_utc IS NULL AND released_utc IS NULL;
CREATE TABLE booking_invites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    token TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    course_id INTEGER NOT NULL REFERENCES courses(id),
    pay_option TEXT NOT NULL,
    status TEXT NOT NULL,
    booking_id INTEGER REFERENCES bookings(id),
    created_utc INTEGER NOT NULL,
    opened_utc INTEGER,
    used_utc INTEGER
);
CREATE INDEX booking_invites_account ON booking_invites(account_id, id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    to_name TEXT NOT NULL,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    invite_id INTEGER REFERENCES booking_invites(id),
    created_utc INTEGER NOT NULL
);
ALTER TABLE bookings ADD COLUMN invite_id INTEGER REFERENCES booking_invites(id);
"#,
    // Virtual BLS: accounts and courses belong to a product; trainers with
    // recurring schedules and exceptions; timeslot holds and bookings.
    r#"
ALTER TABLE accounts ADD COLUMN product TEXT NOT NULL DEFAULT 'practical';
ALTER TABLE courses ADD COLUMN product TEXT NOT NULL DEFAULT 'practical';
CREATE TABLE bls_courses (
    course_id INTEGER PRIMARY KEY REFERENCES courses(id),
    buffer_before_minutes INTEGER NOT NULL,
    buffer_after_minutes INTEGER NOT NULL,
    interval_minutes INTEGER,
    lead_working_days INTEGER NOT NULL,
    horizon_days INTEGER NOT NULL
);
CREATE TABLE bls_trainers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE bls_schedules (
    id INTEGER PRIMARY KEY,
    trainer_id INTEGER NOT NULL REFERENCES bls_trainers(id),
    first_day TEXT NOT NULL,
    last_day TEXT
);
CREATE TABLE bls_schedule_blocks (
    schedule_id INTEGER NOT NULL REFERENCES bls_schedules(id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL,
    CHECK (0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440)
);
CREATE TABLE bls_schedule_exceptions (
    id INTEGER PRIMARY KEY,
    trainer_id INTEGER NOT NULL REFERENCES bls_trainers(id),
    kind TEXT NOT NULL CHECK (kind IN ('unavailable', 'extra')),
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    start_minute INTEGER,
    end_minute INTEGER
);
CREATE TABLE bls_bank_holidays (day TEXT PRIMARY KEY);
CREATE TABLE bls_holds (
    id INTEGER PRIMARY KEY,
    hold_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    trainer_id INTEGER NOT NULL REFERENCES bls_trainers(id),
    local_date TEXT NOT NULL,
    local_time TEXT NOT NULL,
    start_utc INTEGER NOT NULL,
    end_utc INTEGER NOT NULL,
    busy_from_utc INTEGER NOT NULL,
    busy_to_utc INTEGER NOT NULL,
    created_utc INTEGER NOT NULL,
    expires_utc INTEGER NOT NULL,
    released_utc INTEGER,
    used_utc INTEGER
);
CREATE INDEX bls_holds_busy ON bls_holds(busy_from_utc, expires_utc);
CREATE INDEX bls_holds_account ON bls_holds(account_id, expires_utc);
CREATE TABLE bls_bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    trainer_id INTEGER NOT NULL REFERENCES bls_trainers(id),
    hold_id INTEGER REFERENCES bls_holds(id),
    local_date TEXT NOT NULL,
    start_utc INTEGER NOT NULL,
    end_utc INTEGER NOT NULL,
    busy_from_utc INTEGER NOT NULL,
    busy_to_utc INTEGER NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    agency_contact_name TEXT,
    agency_contact_email TEXT,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postcode TEXT NOT NULL,
    pay_option TEXT NOT NULL,
    booking_status TEXT NOT NULL,
    pay_status TEXT NOT NULL,
    amount_pence INTEGER NOT NULL DEFAULT 0,
    checkout_token TEXT UNIQUE,
    return_url TEXT,
    zoom_id TEXT NOT NULL,
    zoom_password TEXT NOT NULL,
    training_status TEXT NOT NULL,
    equipment_status TEXT NOT NULL,
    created_utc INTEGER NOT NULL,
    paid_utc INTEGER
);
CREATE INDEX bls_bookings_busy ON bls_bookings(busy_from_utc, booking_status);
CREATE INDEX bls_bookings_account ON bls_bookings(account_id, id);
CREATE TABLE bls_idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    booking_id INTEGER NOT NULL REFERENCES bls_bookings(id),
    created_utc INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
ALTER TABLE wallet_transactions ADD COLUMN bls_booking_id INTEGER REFERENCES bls_bookings(id);
"#,
    // Virtual BLS cancellations, the certificate's event sent once, and
    // invoices of either product's bookings.
    r#"
ALTER TABLE bls_bookings ADD COLUMN cancelled_utc INTEGER;
ALTER TABLE bls_bookings ADD COLUMN certificate_reported_utc INTEGER;
CREATE TABLE invoices_of_both (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    booking_id INTEGER UNIQUE REFERENCES bookings(id),
    bls_booking_id INTEGER UNIQUE REFERENCES bls_bookings(id),
    amount_pence INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_utc INTEGER NOT NULL,
    CHECK ((booking_id IS NULL) != (bls_booking_id IS NULL))
);
INSERT INTO invoices_of_both (id, account_id, booking_id, amount_pence, status, created_utc)
    SELECT id, account_id, booking_id, amount_pence, status, created_utc FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_of_both RENAME TO invoices;
"#,
];

/// Applies the migrations the database has not seen yet.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let tx = write_tx(conn)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The account that owns the seeded "other people's" bookings. It cannot sign in.
pub(crate) const INTERNAL_ACCOUNT_ID: i64 = 3;

/// A course of the seed catalogue.
struct SeedCourse {
    id: i64,
    name: &'static str,
    description: &'static str,
    start: (u32, u32),
    minutes: i64,
    cost_pence: i64,
    requires_review: bool,
}

const COURSES: &[SeedCourse] = &[
    SeedCourse {
        id: 1,
        name: "CSTF Mandatory Practical Skills",
        description: "The practical elements of the Core Skills Training Framework: moving and handling, basic life support and conflict resolution, assessed in one day.",
        start: (9, 0),
        minutes: 480,
        cost_pence: 12000,
        requires_review: false,
    },
    SeedCourse {
        id: 2,
        name: "Moving & Handling Practical",
        description: "Safe people-handling techniques with hoists, slide sheets and standing aids, practised and assessed.",
        start: (9, 30),
        minutes: 420,
        cost_pence: 9500,
        requires_review: false,
    },
    SeedCourse {
        id: 3,
        name: "PMVA (Prevention and Management of Violence and Aggression)",
        description: "De-escalation, breakaway and restrictive-intervention skills for mental-health and secure settings. Bookings are reviewed by an administrator before confirmation.",
        start: (9, 0),
        minutes: 480,
        cost_pence: 14500,
        requires_review: true,
    },
    SeedCourse {
        id: 4,
        name: "Basic Life Support Practical",
        description: "Adult CPR, AED use and choking management on manikins, assessed to Resuscitation Council (UK) guidelines.",
        start: (13, 30),
        minutes: 180,
        cost_pence: 6500,
        requires_review: false,
    },
    SeedCourse {
        id: 5,
        name: "Fire Safety Practical",
        description: "Extinguisher handling, evacuation aids and horizontal evacuation in care settings.",
        start: (9, 30),
        minutes: 180,
        cost_pence: 5500,
        requires_review: false,
    },
    SeedCourse {
        id: 6,
        name: "Infection Prevention Practical Assessment",
        description: "Hand hygiene, PPE donning and doffing and spill management, observed and assessed.",
        start: (13, 0),
        minutes: 180,
        cost_pence: 6000,
        requires_review: false,
    },
];

const LOCATIONS: &[(&str, &str)] = &[
    ("Leeds", "Unit 4, Aire Street, Leeds LS1 4PR"),
    ("Manchester", "Suite 12, Portland Street, Manchester M1 3LA"),
    ("Birmingham", "2nd Floor, Colmore Row, Birmingham B3 2BJ"),
    (
        "London",
        "Training Suite, 40 Borough High Street, London SE1 1XW",
    ),
    ("Bristol", "Unit 7, Temple Quay, Bristol BS1 6DZ"),
    (
        "Newcastle",
        "Floor 3, Grey Street, Newcastle upon Tyne NE1 6EE",
    ),
    ("Sheffield", "Unit 2, Arundel Gate, Sheffield S1 2PN"),
    (
        "Nottingham",
        "Clinical Skills Room, Maid Marian Way, Nottingham NG1 6AE",
    ),
    ("Liverpool", "Unit 5, Dale Street, Liverpool L2 2HF"),
    ("Cardiff", "Suite 1, Churchill Way, Cardiff CF10 2HE"),
];

const TRAINERS: &[&str] = &[
    "Megan Shaw",
    "Daniel Okafor",
    "Rachel Hughes",
    "Imran Siddiqui",
    "Laura McKenzie",
    "Tom Gallagher",
    "Priya Nair",
    "Owen Price",
];

/// Every seeded account of both products, in one list; each product's
/// seeding inserts its own ([`seed_accounts`]).
const SEED_ACCOUNTS: &[NewAccount<'static>] = &[
    NewAccount {
        id: Some(1),
        hb_client_id: "HB-DEMO",
        api_key: "sandbox-key",
        name: "Northwest Care Staffing",
        email: "bookings@northwestcare.example",
        sgi_code: "NWCARE07",
        invoice_payments: true,
        balance_pence: 41250,
        credits: &[(1, 6), (2, 4), (4, 2)],
        product: "practical",
    },
    NewAccount {
        id: Some(2),
        hb_client_id: "HB-DEMO-NOINV",
        api_key: "sandbox-key-noinv",
        name: "Pennine Agency",
        email: "office@pennineagency.example",
        sgi_code: "PENNINE02",
        invoice_payments: false,
        balance_pence: 4000,
        credits: &[],
        product: "practical",
    },
    NewAccount {
        id: None,
        hb_client_id: "HB-BLS-DEMO",
        api_key: "bls-sandbox-key",
        name: "Northwest Care Staffing",
        email: "bookings@northwestcare.example",
        sgi_code: "NWCAREBLS",
        invoice_payments: true,
        balance_pence: 25000,
        credits: &[(41, 5), (42, 2)],
        product: "virtual_bls",
    },
    NewAccount {
        id: None,
        hb_client_id: "HB-BLS-NOINV",
        api_key: "bls-sandbox-key-noinv",
        name: "Pennine Agency",
        email: "office@pennineagency.example",
        sgi_code: "PENNINEBLS",
        invoice_payments: false,
        balance_pence: 3000,
        credits: &[],
        product: "virtual_bls",
    },
];

/// Past bookings of HB-DEMO: candidate first and last name, attended.
const PAST_CANDIDATES: &[(&str, &str, bool)] = &[
    ("Aisha", "Khan", true),
    ("Liam", "Walsh", true),
    ("Grace", "Adeyemi", true),
    ("Callum", "Reid", true),
    ("Sophie", "Turner", false),
    ("Marek", "Nowak", false),
];

/// Days ahead that the seeded timetable covers.
const SEED_DAYS: i64 = 180;

/// Writes a product's seed data with `seed`, in one transaction, unless
/// the `meta` row `key` says it was written before; that row keeps the UK
/// date of `now`, which the data depends on.
pub(crate) fn seed_once(
    conn: &mut Connection,
    key: &str,
    now: DateTime<Utc>,
    seed: fn(&Transaction<'_>, DateTime<Utc>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let seeded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    if seeded.is_some() {
        return Ok(());
    }
    let tx = write_tx(conn)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![key, to_uk(now).date_naive().to_string()],
    )?;
    seed(&tx, now)?;
    tx.commit()
}

/// Inserts the seeded accounts of `product`.
pub(crate) fn seed_accounts(tx: &Transaction<'_>, product: &str, now: i64) -> rusqlite::Result<()> {
    for account in SEED_ACCOUNTS
        .iter()
        .filter(|account| account.product == product)
    {
        insert_account(tx, account, now)?;
    }
    Ok(())
}

/// Writes the catalogue, accounts, timetable and seeded bookings.
fn seed(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<(), rusqlite::Error> {
    let today = to_uk(now).date_naive();
    let now_secs = now.timestamp();
    for course in COURSES {
        tx.execute(
            "INSERT INTO courses (id, name, description, duration_minutes, cost_pence, requires_review) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                course.id,
                course.name,
                course.description,
                course.minutes,
                course.cost_pence,
                course.requires_review
            ],
        )?;
    }
    for (index, (name, address)) in LOCATIONS.iter().enumerate() {
        tx.execute(
            "INSERT INTO locations (id, name, address) VALUES (?1, ?2, ?3)",
            params![index as i64 + 1, name, address],
        )?;
    }
    for (index, name) in TRAINERS.iter().enumerate() {
        tx.execute(
            "INSERT INTO trainers (id, name) VALUES (?1, ?2)",
            params![index as i64 + 1, name],
        )?;
    }
    seed_accounts(tx, "practical", now_secs)?;
    tx.execute(
        "INSERT INTO accounts (id, hb_client_id, api_key_hash, name, email, sgi_code, \
         invoice_payments, balance_pence, internal) \
         VALUES (?1, 'HBG-INTERNAL', '', 'Other bookers', 'seats@hbg.invalid', 'HBG', 1, 0, 1)",
        [INTERNAL_ACCOUNT_ID],
    )?;
    // Booking ids look like the upstream's six-digit references.
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('bookings', 100000)",
        [],
    )?;
    seed_timetable(tx, today, now_secs)?;
    seed_past_bookings(tx, today)?;
    Ok(())
}

/// What is needed to create an account.
pub(crate) struct NewAccount<'a> {
    /// Fixed id, or `None` for the next free one.
    pub id: Option<i64>,
    /// Client id used to sign in.
    pub hb_client_id: &'a str,
    /// API key (stored hashed).
    pub api_key: &'a str,
    /// Company name.
    pub name: &'a str,
    /// Account email.
    pub email: &'a str,
    /// Code in the public booking page's `sgi` parameter.
    pub sgi_code: &'a str,
    /// Whether `inv` may be used.
    pub invoice_payments: bool,
    /// Opening money balance in pence.
    pub balance_pence: i64,
    /// Opening credits per course.
    pub credits: &'a [(i64, i64)],
    /// The product whose API it signs in to (`Product::as_str`).
    pub product: &'a str,
}

/// Inserts an account with its opening balance and credits, each recorded
/// as a wallet transaction. Returns the account id.
pub(crate) fn insert_account(
    tx: &Transaction<'_>,
    account: &NewAccount<'_>,
    now: i64,
) -> Result<i64, rusqlite::Error> {
    tx.execute(
        "INSERT INTO accounts (id, hb_client_id, api_key_hash, name, email, sgi_code, \
         invoice_payments, balance_pence, product) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            account.id,
            account.hb_client_id,
            sha256_hex(account.api_key),
            account.name,
            account.email,
            account.sgi_code,
            account.invoice_payments,
            account.balance_pence,
            account.product
        ],
    )?;
    let id = tx.last_insert_rowid();
    if account.balance_pence > 0 {
        tx.execute(
            "INSERT INTO wallet_transactions (account_id, kind, amount_pence, description, \
             balance_after_pence, created_utc) VALUES (?1, 'credit', ?2, 'Opening balance', ?2, ?3)",
            params![id, account.balance_pence, now],
        )?;
    }
    for &(course_id, credits) in account.credits {
        tx.execute(
            "INSERT INTO course_credits (account_id, course_id, credits) VALUES (?1, ?2, ?3) \
             ON CONFLICT (account_id, course_id) DO UPDATE SET credits = credits + excluded.credits",
            params![id, course_id, credits],
        )?;
        if credits > 0 {
            tx.execute(
                "INSERT INTO wallet_transactions (account_id, kind, credits, course_id, description, \
                 balance_after_pence, created_utc) \
                 SELECT ?1, 'credit', ?2, ?3, 'Booking credits purchased: ' || c.name, ?4, ?5 \
                 FROM courses c WHERE c.id = ?3",
                params![id, credits, course_id, account.balance_pence, now],
            )?;
        }
    }
    Ok(id)
}

/// What is needed to create a training event.
pub(crate) struct NewEvent {
    /// The course taught.
    pub course_id: i64,
    /// The venue.
    pub location_id: i64,
    /// The trainer, if assigned.
    pub trainer_id: Option<i64>,
    /// Start (UTC).
    pub start: DateTime<Utc>,
    /// End (UTC).
    pub end: DateTime<Utc>,
    /// Seats.
    pub capacity: i64,
    /// Price in pence.
    pub cost_pence: i64,
}

/// Inserts a training event and returns its id.
pub(crate) fn insert_event(conn: &Connection, event: &NewEvent) -> Result<i64, rusqlite::Error> {
    conn.execute(
        "INSERT INTO training_events (course_id, location_id, trainer_id, start_utc, end_utc, \
         local_date, capacity, cost_pence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            event.course_id,
            event.location_id,
            event.trainer_id,
            event.start.timestamp(),
            event.end.timestamp(),
            to_uk(event.start).date_naive().to_string(),
            event.capacity,
            event.cost_pence
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Books `seats` seats of an event for the internal account (other people's
/// bookings), paid by invoice.
pub(crate) fn book_for_others(
    conn: &Connection,
    event_id: i64,
    seats: i64,
    now: i64,
) -> Result<(), rusqlite::Error> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO bookings (account_id, event_id, first_name, last_name, email, pay_option, \
         booking_status, pay_status, created_utc) \
         VALUES (?1, ?2, 'Reserved', ?3, 'seats@hbg.invalid', 'inv', 'booked', 'completed', ?4)",
    )?;
    for seat in 0..seats {
        insert.execute(params![
            INTERNAL_ACCOUNT_ID,
            event_id,
            format!("Seat {}", seat + 1),
            now
        ])?;
    }
    Ok(())
}

/// The seed catalogue's course with this id.
fn seed_course(id: i64) -> Option<&'static SeedCourse> {
    COURSES.iter().find(|course| course.id == id)
}

/// When a course starts on `day`: its UK wall-clock start time with the
/// offset in force then, as a UTC instant.
fn course_start(course: &SeedCourse, day: NaiveDate) -> Option<DateTime<Utc>> {
    let (hour, minute) = course.start;
    uk_local(day, hour, minute).map(|start| start.with_timezone(&Utc))
}

/// The UK clock-change dates (the last Sundays of March and October) from
/// `from` to `to`, both included.
fn clock_changes_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    (from.year()..=to.year())
        .flat_map(|year| [bst_starts(year), bst_ends(year)])
        .flatten()
        .map(|change| change.date_naive())
        .filter(|day| (from..=to).contains(day))
        .collect()
}

/// Creates one seeded event on `day` and fills some of its seats.
fn seed_event(
    tx: &Transaction<'_>,
    rng: &mut ChaCha8Rng,
    counter: &mut u32,
    day: NaiveDate,
    location_id: i64,
    course_id: i64,
    now: i64,
) -> Result<(), rusqlite::Error> {
    let Some(course) = seed_course(course_id) else {
        return Ok(());
    };
    let Some(start) = course_start(course, day) else {
        return Ok(());
    };
    let capacity = [8_i64, 10, 12, 12, 12, 16][rng.random_range(0..6)];
    *counter += 1;
    // A fixed pattern guarantees full and nearly full events whatever the RNG draws.
    let booked = if *counter % 9 == 4 {
        capacity
    } else if *counter % 7 == 2 {
        capacity - 1
    } else {
        rng.random_range(0..=capacity - 2)
    };
    let event_id = insert_event(
        tx,
        &NewEvent {
            course_id,
            location_id,
            trainer_id: Some(rng.random_range(1..=TRAINERS.len() as i64)),
            start,
            end: start + Duration::minutes(course.minutes),
            capacity,
            cost_pence: course.cost_pence,
        },
    )?;
    book_for_others(tx, event_id, booked, now)
}

/// The next 180 days of events: weekdays at a random selection of venues,
/// plus Friday to Monday around each UK clock change in the window.
fn seed_timetable(tx: &Transaction<'_>, today: NaiveDate, now: i64) -> Result<(), rusqlite::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_0001);
    let mut counter = 0_u32;
    let last = today + Duration::days(SEED_DAYS);
    let changes = clock_changes_between(today + Duration::days(1), last);
    let course_weights: &[i64] = &[1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 1, 2, 4];
    for offset in 1..=SEED_DAYS {
        let day = today + Duration::days(offset);
        let around_change = changes
            .iter()
            .any(|change| (day - *change).num_days() >= -2 && (day - *change).num_days() <= 1);
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        for location_id in 1..=LOCATIONS.len() as i64 {
            let forced = around_change && location_id <= 4;
            let chosen = !weekend && rng.random_bool(0.28);
            if !(forced || chosen) {
                continue;
            }
            let course_id = course_weights[rng.random_range(0..course_weights.len())];
            seed_event(tx, &mut rng, &mut counter, day, location_id, course_id, now)?;
        }
    }
    Ok(())
}

/// Six past events with HB-DEMO bookings: four attended with certificates,
/// two no-shows.
fn seed_past_bookings(tx: &Transaction<'_>, today: NaiveDate) -> Result<(), rusqlite::Error> {
    for (index, &(first, last, attended)) in PAST_CANDIDATES.iter().enumerate() {
        let step = index as i64;
        let mut day = today - Duration::days(7 + step * 5);
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            day -= Duration::days(1);
        }
        let course_id = [1, 2, 4, 5, 6, 2][index];
        let Some(course) = seed_course(course_id) else {
            continue;
        };
        let Some(start) = course_start(course, day) else {
            continue;
        };
        let event_id = insert_event(
            tx,
            &NewEvent {
                course_id,
                location_id: step % 4 + 1,
                trainer_id: Some(step % TRAINERS.len() as i64 + 1),
                start,
                end: start + Duration::minutes(course.minutes),
                capacity: 12,
                cost_pence: course.cost_pence,
            },
        )?;
        let created = (start - Duration::days(14)).timestamp();
        book_for_others(tx, event_id, 6, created)?;
        let (status, attendance) = if attended {
            ("completed", "attended")
        } else {
            ("no_show", "no_show")
        };
        tx.execute(
            "INSERT INTO bookings (account_id, event_id, first_name, last_name, email, job_role, \
             pay_option, booking_status, pay_status, attendance, certificate_available, created_utc) \
             VALUES (1, ?1, ?2, ?3, ?4, 'Healthcare Assistant', 'inv', ?5, 'completed', ?6, ?7, ?8)",
            params![
                event_id,
                first,
                last,
                format!(
                    "{}.{}@carestaff.example",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                status,
                attendance,
                attended,
                created
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(now: &str) -> Connection {
        let now = DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc);
        open_connection(&DatabaseLocation::Memory, now).unwrap()
    }

    fn starts_on(conn: &Connection, day: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT start_utc FROM training_events WHERE local_date = ?1")
            .unwrap();
        stmt.query_map([day], |row| row.get::<_, i64>(0))
            .unwrap()
            .map(|start| to_uk(super::super::clock::from_unix(start.unwrap())).to_rfc3339())
            .collect()
    }

    #[test]
    fn seed_is_deterministic_for_a_date() {
        let dump = |conn: &Connection| -> Vec<(i64, i64, i64, i64, i64)> {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT e.id, e.course_id, e.location_id, e.start_utc, {BOOKED_SEATS} \
                     FROM training_events e ORDER BY e.id"
                ))
                .unwrap();
            stmt.query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        };
        let first = seeded("2026-11-22T10:00:00Z");
        let second = seeded("2026-11-22T18:30:00Z");
        assert_eq!(dump(&first), dump(&second));
        assert!(dump(&first).len() > 200, "a few hundred events");
    }

    #[test]
    fn events_surround_the_spring_clock_change() {
        let conn = seeded("2026-11-22T10:00:00Z");
        for (day, offset) in [
            ("2027-03-26", "+00:00"),
            ("2027-03-27", "+00:00"),
            ("2027-03-28", "+01:00"),
            ("2027-03-29", "+01:00"),
        ] {
            let starts = starts_on(&conn, day);
            assert!(starts.len() >= 4, "{day}: {starts:?}");
            assert!(
                starts
                    .iter()
                    .all(|start| start.starts_with(day) && start.ends_with(offset)),
                "{day}: {starts:?}"
            );
        }
    }

    #[test]
    fn seed_has_full_and_nearly_full_events() {
        let conn = seeded("2026-11-22T10:00:00Z");
        let count = |sql: &str| -> i64 {
            conn.query_row(
                &format!("SELECT COUNT(*) FROM training_events e WHERE {sql}"),
                [],
                |row| row.get(0),
            )
            .unwrap()
        };
        assert!(count(&format!("e.capacity - {BOOKED_SEATS} = 0")) >= 5);
        assert!(count(&format!("e.capacity - {BOOKED_SEATS} = 1")) >= 5);
        assert!(count("e.course_id = 3") >= 5);
        let locations: i64 = conn
            .query_row(
                "SELECT COUNT(DISTINCT location_id) FROM training_events",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert!(locations >= 8);
    }

    #[test]
    fn an_older_database_is_migrated_to_the_latest_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        conn.prepare("SELECT reviewed_utc, invite_id FROM bookings")
            .unwrap();
        conn.prepare("SELECT id FROM webhook_deliveries").unwrap();
        conn.prepare("SELECT booking_id, bls_booking_id FROM invoices")
            .unwrap();
        conn.prepare("SELECT cancelled_utc, certificate_reported_utc FROM bls_bookings")
            .unwrap();
    }

    #[test]
    fn reopening_a_file_keeps_its_data() {
        let dir = std::env::temp_dir().join(format!("sandbox-db-{}", random_token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sandbox.sqlite3");
        let location = DatabaseLocation::File(path.clone());
        let first = Utc::now();
        let events = |conn: Connection| -> i64 {
            conn.query_row("SELECT COUNT(*) FROM training_events", [], |row| row.get(0))
                .unwrap()
        };
        let before = events(open_connection(&location, first).unwrap());
        let after = events(open_connection(&location, first + Duration::days(3)).unwrap());
        assert_eq!(before, after);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
