//! UK civil time without a time-zone database, and the date and time texts
//! the widget shows.
//!
//! The UK rule (shared with the EU since 1996): British Summer Time, UTC+1,
//! runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
//! Sunday of October; the rest of the year is Greenwich Mean Time, UTC+0.
//! The rule is applied to every year; no historical exceptions are kept, so
//! it is right for the years in which training can be booked.
//!
//! Invariants:
//! * [`uk_offset_at`] is total: every instant has exactly one UK offset.
//! * [`uk_local`] is total: every wall-clock time on every date gives exactly
//!   one instant, with the documented choice for the hour that does not exist
//!   (spring) and the hour that happens twice (autumn).
//! * Texts are built by hand from small tables (no `strftime` machinery),
//!   which keeps the WebAssembly small and the output exact.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// Offset of Greenwich Mean Time, in seconds east of UTC.
const GMT_SECONDS: i32 = 0;
/// Offset of British Summer Time, in seconds east of UTC.
const BST_SECONDS: i32 = 3600;

/// The last Sunday of `month` in `year`; `None` only outside chrono's range.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_signed(Duration::days(i64::from(back)))
}

/// The instant BST starts in `year`: 01:00 UTC on the last Sunday of March.
pub fn bst_starts(year: i32) -> Option<DateTime<Utc>> {
    Some(last_sunday(year, 3)?.and_hms_opt(1, 0, 0)?.and_utc())
}

/// The instant BST ends in `year`: 01:00 UTC on the last Sunday of October.
pub fn bst_ends(year: i32) -> Option<DateTime<Utc>> {
    Some(last_sunday(year, 10)?.and_hms_opt(1, 0, 0)?.and_utc())
}

/// The UK offset in force at an instant: `+01:00` during BST, else `+00:00`.
pub fn uk_offset_at(instant: DateTime<Utc>) -> FixedOffset {
    let year = instant.year();
    let in_bst = match (bst_starts(year), bst_ends(year)) {
        (Some(start), Some(end)) => instant >= start && instant < end,
        _ => false,
    };
    let seconds = if in_bst { BST_SECONDS } else { GMT_SECONDS };
    FixedOffset::east_opt(seconds).expect("0 and 3600 seconds are valid offsets")
}

/// An instant as UK wall-clock time, with the offset in force then.
pub fn to_uk(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&uk_offset_at(instant))
}

/// The UK calendar date at an instant ("today" for the calendar).
pub fn uk_today(now: DateTime<Utc>) -> NaiveDate {
    to_uk(now).date_naive()
}

/// A UK wall-clock time on `date` as a timestamp with the UK offset, e.g.
/// for seeding venue-local events.
///
/// * The hour skipped in spring (01:00 to 01:59 on the last Sunday of March)
///   does not exist: it is read with the GMT offset in force just before, so
///   01:30 gives 01:30 GMT, the same instant as 02:30 BST, which is returned
///   (as `02:30+01:00`).
/// * The hour repeated in autumn (01:00 to 01:59 on the last Sunday of
///   October) happens twice: the first occurrence, in BST, is returned.
pub fn uk_local_at(date: NaiveDate, time: NaiveTime) -> DateTime<FixedOffset> {
    let wall = date.and_time(time);
    for seconds in [BST_SECONDS, GMT_SECONDS] {
        let offset = FixedOffset::east_opt(seconds).expect("valid offset");
        if let Some(candidate) = offset.from_local_datetime(&wall).single() {
            let utc = candidate.with_timezone(&Utc);
            if uk_offset_at(utc) == offset {
                return candidate;
            }
        }
    }
    let utc = wall.and_utc();
    to_uk(utc)
}

/// Like [`uk_local_at`] from an hour and minute; `None` when they are not a
/// valid time of day.
pub fn uk_local(date: NaiveDate, hour: u32, minute: u32) -> Option<DateTime<FixedOffset>> {
    Some(uk_local_at(date, NaiveTime::from_hms_opt(hour, minute, 0)?))
}

/// Like [`uk_local_at`] from a date written `YYYY-MM-DD` and a time
/// written `HH:MM` (as a Virtual BLS hold names its timeslot); `None` when
/// either is not written so, or is not a real date or time of day.
pub fn uk_wall_clock(date: &str, time: &str) -> Option<DateTime<FixedOffset>> {
    fn number(digits: &str, width: usize) -> Option<u32> {
        (digits.len() == width && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
    }
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let year = i32::try_from(number(year, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(month, 2)?, number(day, 2)?)?;
    let (hour, minute) = time.split_once(':')?;
    uk_local(date, number(hour, 2)?, number(minute, 2)?)
}

/// The zone label for an offset: "GMT", "BST", or "UTC+hh:mm" / "UTC-hh:mm"
/// for any other offset.
pub fn zone_label(offset: FixedOffset) -> String {
    match offset.local_minus_utc() {
        GMT_SECONDS => "GMT".to_owned(),
        BST_SECONDS => "BST".to_owned(),
        seconds => {
            let sign = if seconds < 0 { '-' } else { '+' };
            let minutes = seconds.unsigned_abs() / 60;
            format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The English name of a month, 1 = "January"; `""` outside 1 to 12.
pub fn month_name(month: u32) -> &'static str {
    month
        .checked_sub(1)
        .and_then(|index| MONTHS.get(index as usize))
        .copied()
        .unwrap_or("")
}

/// The English name of a date's weekday, e.g. "Tuesday".
pub fn weekday_name(date: NaiveDate) -> &'static str {
    WEEKDAYS[date.weekday().num_days_from_monday() as usize]
}

/// A date in full, as GOV.UK writes it: "Tuesday 4 August 2026".
pub fn full_date(date: NaiveDate) -> String {
    format!(
        "{} {} {} {}",
        weekday_name(date),
        date.day(),
        month_name(date.month()),
        date.year()
    )
}

/// A time of day on the 24-hour clock: "09:30".
pub fn clock_time(time: NaiveTime) -> String {
    use chrono::Timelike;
    let (hour, minute) = (time.hour(), time.minute());
    let digit = |n: u32| char::from(b'0' + n as u8);
    [
        digit(hour / 10),
        digit(hour % 10),
        ':',
        digit(minute / 10),
        digit(minute % 10),
    ]
    .into_iter()
    .collect()
}

/// A length of time in hours and whole minutes: "7 hours", "1 hour",
/// "6 hours 30 minutes", "45 minutes". Negative lengths read as
/// "0 minutes"; seconds are dropped.
pub fn duration_text(duration: Duration) -> String {
    use std::fmt::Write;
    let minutes = duration.num_minutes().max(0);
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let mut text = String::with_capacity(20);
    let mut part = |n: i64, unit: &str| {
        if !text.is_empty() {
            text.push(' ');
        }
        let _ = write!(text, "{n} {unit}{}", if n == 1 { "" } else { "s" });
    };
    if hours > 0 {
        part(hours, "hour");
    }
    if minutes > 0 || hours == 0 {
        part(minutes, "minute");
    }
    text
}

/// The time of a venue-local timestamp on the viewer's clock, for when it
/// differs from the venue's: "10:30 your time (UTC+02:00)", with the date
/// when that differs too ("00:30 on Wednesday 5 August 2026 your time
/// (UTC+09:00)"). `None` when the viewer's offset is the venue's, as DESIGN
/// asks to mention the viewer's zone only then. `viewer` is the viewer's
/// offset at that instant (from the browser's `Date`).
pub fn viewer_time_note(at: DateTime<FixedOffset>, viewer: FixedOffset) -> Option<String> {
    if at.offset() == &viewer {
        return None;
    }
    let theirs = at.with_timezone(&viewer);
    let time = clock_time(theirs.time());
    let zone = zone_label(viewer);
    Some(if theirs.date_naive() == at.date_naive() {
        format!("{time} your time ({zone})")
    } else {
        format!(
            "{time} on {} your time ({zone})",
            full_date(theirs.date_naive())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_date_and_time_are_read_as_uk_wall_clock() {
        let summer = uk_wall_clock("2026-09-02", "14:00").unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-09-02T14:00:00+01:00");
        let winter = uk_wall_clock("2026-12-08", "09:00").unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-08T09:00:00+00:00");
        for (date, time) in [
            ("2026-09-02", "2pm"),
            ("2026-09-02", "14:00:00"),
            ("2026-09-02", "24:00"),
            ("2026-02-30", "14:00"),
            ("2026-9-2", "14:00"),
            ("2026-09-02-01", "14:00"),
            ("+026-09-02", "14:00"),
            ("", ""),
        ] {
            assert_eq!(uk_wall_clock(date, time), None, "{date} {time}");
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn bst_boundaries_match_the_published_uk_dates() {
        // Published UK clock changes (gov.uk/when-do-the-clocks-change).
        let table = [
            (2026, "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"),
            (2027, "2027-03-28T01:00:00Z", "2027-10-31T01:00:00Z"),
            (2028, "2028-03-26T01:00:00Z", "2028-10-29T01:00:00Z"),
        ];
        for (year, start, end) in table {
            assert_eq!(bst_starts(year), Some(utc(start)), "{year} start");
            assert_eq!(bst_ends(year), Some(utc(end)), "{year} end");
        }
    }

    #[test]
    fn offset_switches_exactly_at_one_utc() {
        let table = [
            ("2026-03-29T00:59:59Z", 0),
            ("2026-03-29T01:00:00Z", 3600),
            ("2026-07-01T12:00:00Z", 3600),
            ("2026-10-25T00:59:59Z", 3600),
            ("2026-10-25T01:00:00Z", 0),
            ("2027-01-15T12:00:00Z", 0),
            ("2027-03-28T00:59:59Z", 0),
            ("2027-03-28T01:00:00Z", 3600),
            ("2027-10-31T00:59:59Z", 3600),
            ("2027-10-31T01:00:00Z", 0),
        ];
        for (instant, seconds) in table {
            assert_eq!(
                uk_offset_at(utc(instant)).local_minus_utc(),
                seconds,
                "{instant}"
            );
        }
    }

    #[test]
    fn today_is_the_uk_date_not_the_utc_date() {
        // 23:30 UTC on 3 August is 00:30 BST on 4 August.
        assert_eq!(uk_today(utc("2026-08-03T23:30:00Z")), date(2026, 8, 4));
        // In winter UTC and UK dates agree.
        assert_eq!(uk_today(utc("2026-12-03T23:30:00Z")), date(2026, 12, 3));
    }

    #[test]
    fn uk_local_resolves_gaps_and_repeats_as_documented() {
        let table = [
            // ordinary winter and summer times
            (date(2027, 1, 12), 9, 30, "2027-01-12T09:30:00+00:00"),
            (date(2026, 8, 4), 9, 30, "2026-08-04T09:30:00+01:00"),
            // spring forward 2027-03-28: 00:30 GMT exists, 01:30 does not, 02:30 BST exists
            (date(2027, 3, 28), 0, 30, "2027-03-28T00:30:00+00:00"),
            (date(2027, 3, 28), 1, 30, "2027-03-28T02:30:00+01:00"),
            (date(2027, 3, 28), 2, 30, "2027-03-28T02:30:00+01:00"),
            // fall back 2026-10-25: 01:30 happens twice, the BST one comes first
            (date(2026, 10, 25), 0, 30, "2026-10-25T00:30:00+01:00"),
            (date(2026, 10, 25), 1, 30, "2026-10-25T01:30:00+01:00"),
            (date(2026, 10, 25), 2, 30, "2026-10-25T02:30:00+00:00"),
            (date(2027, 10, 31), 1, 0, "2027-10-31T01:00:00+01:00"),
            (date(2027, 10, 31), 9, 30, "2027-10-31T09:30:00+00:00"),
        ];
        for (day, hour, minute, expected) in table {
            let got = uk_local(day, hour, minute).unwrap();
            assert_eq!(got.to_rfc3339(), expected, "{day} {hour}:{minute}");
            assert_eq!(got.offset(), &uk_offset_at(got.with_timezone(&Utc)));
        }
        assert_eq!(uk_local(date(2026, 8, 4), 24, 0), None);
    }

    #[test]
    fn viewer_time_is_mentioned_only_when_it_differs() {
        let start = DateTime::parse_from_rfc3339("2026-08-04T09:30:00+01:00").unwrap();
        let offset = |seconds| FixedOffset::east_opt(seconds).unwrap();
        assert_eq!(viewer_time_note(start, offset(3600)), None);
        assert_eq!(
            viewer_time_note(start, offset(7200)).as_deref(),
            Some("10:30 your time (UTC+02:00)")
        );
        assert_eq!(
            viewer_time_note(start, offset(0)).as_deref(),
            Some("08:30 your time (GMT)")
        );
        let late = DateTime::parse_from_rfc3339("2026-08-04T17:30:00+01:00").unwrap();
        assert_eq!(
            viewer_time_note(late, offset(9 * 3600)).as_deref(),
            Some("01:30 on Wednesday 5 August 2026 your time (UTC+09:00)")
        );
    }

    #[test]
    fn zone_labels() {
        let label = |seconds| zone_label(FixedOffset::east_opt(seconds).unwrap());
        assert_eq!(label(0), "GMT");
        assert_eq!(label(3600), "BST");
        assert_eq!(label(7200), "UTC+02:00");
        assert_eq!(label(-16200), "UTC-04:30");
        assert_eq!(label(19800), "UTC+05:30");
    }

    #[test]
    fn texts_for_people() {
        assert_eq!(full_date(date(2026, 8, 4)), "Tuesday 4 August 2026");
        assert_eq!(full_date(date(2027, 10, 31)), "Sunday 31 October 2027");
        assert_eq!(
            clock_time(NaiveTime::from_hms_opt(9, 5, 59).unwrap()),
            "09:05"
        );
        let table = [
            (7 * 60, "7 hours"),
            (60, "1 hour"),
            (6 * 60 + 30, "6 hours 30 minutes"),
            (61, "1 hour 1 minute"),
            (45, "45 minutes"),
            (1, "1 minute"),
            (0, "0 minutes"),
            (-30, "0 minutes"),
            (26 * 60, "26 hours"),
        ];
        for (minutes, text) in table {
            assert_eq!(duration_text(Duration::minutes(minutes)), text);
        }
        assert_eq!(month_name(0), "");
        assert_eq!(month_name(13), "");
        assert_eq!(month_name(12), "December");
    }
}
