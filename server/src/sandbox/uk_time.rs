//! UK civil time: the offset the API puts on venue-local timestamps.
//!
//! Invariant: British Summer Time (`+01:00`) runs from 01:00 UTC on the last
//! Sunday of March until 01:00 UTC on the last Sunday of October; every other
//! instant is GMT (`+00:00`). This is a private stand-in until `booking-core`
//! offers the same rule.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// One hour east of UTC (BST).
const BST_SECONDS: i32 = 3600;

/// The last Sunday of `month` in `year`.
pub(crate) fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last_day = first_of_next.pred_opt()?;
    let back = last_day.weekday().num_days_from_sunday();
    last_day.checked_sub_signed(Duration::days(i64::from(back)))
}

/// The UTC instants at which BST starts and ends in `year`.
fn bst_bounds(year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let one_am = NaiveTime::from_hms_opt(1, 0, 0)?;
    let start = last_sunday(year, 3)?.and_time(one_am).and_utc();
    let end = last_sunday(year, 10)?.and_time(one_am).and_utc();
    Some((start, end))
}

/// The UK offset in force at `at`.
pub(crate) fn uk_offset(at: DateTime<Utc>) -> FixedOffset {
    let in_bst = bst_bounds(at.year()).is_some_and(|(start, end)| at >= start && at < end);
    let seconds = if in_bst { BST_SECONDS } else { 0 };
    FixedOffset::east_opt(seconds).unwrap_or_else(utc_offset)
}

/// UTC as a fixed offset (`+00:00`).
pub(crate) fn utc_offset() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("zero is a valid offset"))
}

/// `at` shown in UK local time, with its offset.
pub(crate) fn uk_local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&uk_offset(at))
}

/// `at` shown with offset `+00:00` (how holds and `created_at` are sent).
pub(crate) fn utc_fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&utc_offset())
}

/// Unix seconds to a UTC instant (clamped into chrono's range).
pub(crate) fn from_unix(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The UTC instant of a UK wall-clock time. In the hour skipped in spring the
/// time is read as GMT; in the hour repeated in autumn the first (BST)
/// occurrence is chosen.
pub(crate) fn uk_to_utc(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let wall = date.and_time(time).and_utc();
    let as_bst = wall - Duration::seconds(i64::from(BST_SECONDS));
    if uk_offset(as_bst).local_minus_utc() == BST_SECONDS {
        as_bst
    } else {
        wall
    }
}

/// The UK clock-change dates (last Sundays of March and October) from
/// `from` to `to`, both included.
pub(crate) fn clock_changes_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    (from.year()..=to.year())
        .flat_map(|year| [last_sunday(year, 3), last_sunday(year, 10)])
        .flatten()
        .filter(|day| *day >= from && *day <= to)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn last_sundays_of_known_years() {
        assert_eq!(last_sunday(2026, 3), Some(date(2026, 3, 29)));
        assert_eq!(last_sunday(2026, 10), Some(date(2026, 10, 25)));
        assert_eq!(last_sunday(2027, 3), Some(date(2027, 3, 28)));
        assert_eq!(last_sunday(2027, 10), Some(date(2027, 10, 31)));
    }

    #[test]
    fn offset_switches_at_one_am_utc() {
        assert_eq!(uk_offset(utc("2027-03-28T00:59:59Z")).local_minus_utc(), 0);
        assert_eq!(
            uk_offset(utc("2027-03-28T01:00:00Z")).local_minus_utc(),
            3600
        );
        assert_eq!(
            uk_offset(utc("2027-10-31T00:59:59Z")).local_minus_utc(),
            3600
        );
        assert_eq!(uk_offset(utc("2027-10-31T01:00:00Z")).local_minus_utc(), 0);
        assert_eq!(uk_offset(utc("2026-11-22T12:00:00Z")).local_minus_utc(), 0);
    }

    #[test]
    fn wall_clock_times_around_the_spring_change() {
        let half_nine = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
        let saturday = uk_local(uk_to_utc(date(2027, 3, 27), half_nine));
        let sunday = uk_local(uk_to_utc(date(2027, 3, 28), half_nine));
        assert_eq!(saturday.to_rfc3339(), "2027-03-27T09:30:00+00:00");
        assert_eq!(sunday.to_rfc3339(), "2027-03-28T09:30:00+01:00");
    }

    #[test]
    fn wall_clock_times_around_the_autumn_change() {
        let half_nine = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
        let saturday = uk_local(uk_to_utc(date(2026, 10, 24), half_nine));
        let sunday = uk_local(uk_to_utc(date(2026, 10, 25), half_nine));
        assert_eq!(saturday.to_rfc3339(), "2026-10-24T09:30:00+01:00");
        assert_eq!(sunday.to_rfc3339(), "2026-10-25T09:30:00+00:00");
    }

    #[test]
    fn changes_between_dates() {
        assert_eq!(
            clock_changes_between(date(2026, 11, 22), date(2027, 5, 21)),
            vec![date(2027, 3, 28)]
        );
        assert!(clock_changes_between(date(2027, 4, 1), date(2027, 9, 28)).is_empty());
    }
}
