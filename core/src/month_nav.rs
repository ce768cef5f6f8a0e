//! Month navigation, written once for both calendars: the event calendar
//! ([`crate::calendar::EventIndex`]) and the timeslot calendar
//! ([`crate::slot_calendar::SlotIndex`]) each keep their items in date
//! order and say which are available; the month a [`MonthWanted`] names is
//! found the same way for both.

use chrono::NaiveDate;

use crate::calendar::{MonthWanted, YearMonth};

/// The month `wanted` names among `items`, which are in `date` order: the
/// month of the first `available` item, or of the nearest one before the
/// shown month or after it. `None` when there is none (the calendar then
/// disables "Previous month" or "Next month").
///
/// Only the items past the shown month are read for the next month, and
/// only those before it for the previous one.
pub(crate) fn month_wanted<T>(
    items: &[T],
    wanted: MonthWanted,
    date: impl Fn(&T) -> NaiveDate,
    available: impl Fn(&T) -> bool,
) -> Option<YearMonth> {
    let found = match wanted {
        MonthWanted::First => items.iter().find(|item| available(item)),
        MonthWanted::After(shown) => {
            let after = items.partition_point(|item| date(item) <= shown.last_day());
            items[after..].iter().find(|item| available(item))
        }
        MonthWanted::Before(shown) => {
            let before = items.partition_point(|item| date(item) < shown.first_day());
            items[..before].iter().rev().find(|item| available(item))
        }
    };
    found.map(|item| YearMonth::of(date(item)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Dated items, some available.
    fn items(list: &[(&str, bool)]) -> Vec<(NaiveDate, bool)> {
        list.iter()
            .map(|(date, available)| (date.parse().unwrap(), *available))
            .collect()
    }

    fn wanted(items: &[(NaiveDate, bool)], wanted: MonthWanted) -> Option<YearMonth> {
        month_wanted(items, wanted, |item| item.0, |item| item.1)
    }

    fn ym(year: i32, month: u32) -> YearMonth {
        YearMonth::new(year, month).unwrap()
    }

    #[test]
    fn navigation_skips_months_without_availability() {
        let list = items(&[
            ("2026-01-31", false),
            ("2026-02-01", true),
            ("2026-02-28", true),
            ("2026-03-15", false),
            ("2026-04-30", false),
            ("2026-05-01", true),
        ]);
        assert_eq!(wanted(&list, MonthWanted::First), Some(ym(2026, 2)));
        assert_eq!(
            wanted(&list, MonthWanted::After(ym(2026, 2))),
            Some(ym(2026, 5))
        );
        assert_eq!(wanted(&list, MonthWanted::After(ym(2026, 5))), None);
        assert_eq!(
            wanted(&list, MonthWanted::Before(ym(2026, 5))),
            Some(ym(2026, 2))
        );
        assert_eq!(wanted(&list, MonthWanted::Before(ym(2026, 2))), None);
        // From a month with nothing in it, both ways.
        assert_eq!(
            wanted(&list, MonthWanted::After(ym(2025, 6))),
            Some(ym(2026, 2))
        );
        assert_eq!(
            wanted(&list, MonthWanted::Before(ym(2027, 1))),
            Some(ym(2026, 5))
        );
    }

    #[test]
    fn nothing_available_and_the_ends_of_the_calendar() {
        assert_eq!(wanted(&[], MonthWanted::First), None);
        let none = items(&[("2026-02-01", false)]);
        assert_eq!(wanted(&none, MonthWanted::First), None);
        let ends = vec![(NaiveDate::MIN, true), (NaiveDate::MAX, true)];
        let first = YearMonth::of(NaiveDate::MIN);
        let last = YearMonth::of(NaiveDate::MAX);
        assert_eq!(wanted(&ends, MonthWanted::After(first)), Some(last));
        assert_eq!(wanted(&ends, MonthWanted::Before(last)), Some(first));
        assert_eq!(wanted(&ends, MonthWanted::After(last)), None);
        assert_eq!(wanted(&ends, MonthWanted::Before(first)), None);
    }

    proptest! {
        /// The months found are those a plain reading of every item finds:
        /// the earliest available, the earliest after the shown month, the
        /// latest before it.
        #[test]
        fn agrees_with_reading_every_item(
            mut days in proptest::collection::vec((0i64..1200, any::<bool>()), 0..40),
            shown_day in 0i64..1200,
        ) {
            days.sort_by_key(|(day, _)| *day);
            let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
            let list: Vec<(NaiveDate, bool)> = days
                .iter()
                .map(|(day, available)| (base + chrono::Duration::days(*day), *available))
                .collect();
            let shown = YearMonth::of(base + chrono::Duration::days(shown_day));
            let months = || list.iter().filter(|item| item.1).map(|item| YearMonth::of(item.0));
            prop_assert_eq!(wanted(&list, MonthWanted::First), months().min());
            prop_assert_eq!(
                wanted(&list, MonthWanted::After(shown)),
                months().filter(|month| *month > shown).min()
            );
            prop_assert_eq!(
                wanted(&list, MonthWanted::Before(shown)),
                months().filter(|month| *month < shown).max()
            );
        }
    }
}
