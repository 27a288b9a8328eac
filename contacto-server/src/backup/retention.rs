//! Which backups to keep: a pure rule over their creation times, unit-tested with fixed dates.
//!
//! The rule is restic's `--keep-daily N --keep-weekly M`: walking from the newest backup back, keep
//! the newest backup of each of the last `N` UTC days that have a backup, and the newest backup of
//! each of the last `M` ISO weeks (UTC) that have one. A backup either rule keeps survives; the
//! newest backup always survives. Days and weeks without a backup do not count, so a server that
//! was off for a week still keeps `N` daily backups, not fewer.

use std::collections::BTreeSet;

use time::OffsetDateTime;

/// How many backups to keep per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days, newest first, whose newest backup is kept.
    pub daily: u32,
    /// ISO weeks, newest first, whose newest backup is kept.
    pub weekly: u32,
}

/// The indexes of `created` (creation times, in any order) to keep; the others may be deleted.
pub fn keep(created: &[OffsetDateTime], retention: Retention) -> BTreeSet<usize> {
    let mut newest_first: Vec<usize> = (0..created.len()).collect();
    newest_first.sort_by_key(|&i| std::cmp::Reverse(created[i]));
    let utc: Vec<OffsetDateTime> = created
        .iter()
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .collect();
    let mut kept = BTreeSet::new();
    kept.extend(newest_first.first().copied());
    keep_newest_per_period(&newest_first, retention.daily, &mut kept, |i| {
        let date = utc[i].date();
        (date.year(), date.ordinal())
    });
    keep_newest_per_period(&newest_first, retention.weekly, &mut kept, |i| {
        let (year, week, _) = utc[i].date().to_iso_week_date();
        (year, u16::from(week))
    });
    kept
}

/// Keeps the first (newest) backup of each of the first `periods` distinct periods.
fn keep_newest_per_period(
    newest_first: &[usize],
    periods: u32,
    kept: &mut BTreeSet<usize>,
    period_of: impl Fn(usize) -> (i32, u16),
) {
    let mut seen = 0u32;
    let mut last = None;
    for &i in newest_first {
        let period = period_of(i);
        if last == Some(period) {
            continue;
        }
        if seen == periods {
            break;
        }
        kept.insert(i);
        seen += 1;
        last = Some(period);
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn kept(created: &[OffsetDateTime], daily: u32, weekly: u32) -> Vec<OffsetDateTime> {
        keep(created, Retention { daily, weekly })
            .into_iter()
            .map(|i| created[i])
            .collect()
    }

    #[test]
    fn the_newest_backup_of_each_recent_day_is_kept() {
        let created = [
            datetime!(2025-03-10 02:00 UTC),
            datetime!(2025-03-10 14:00 UTC),
            datetime!(2025-03-11 02:00 UTC),
            datetime!(2025-03-12 02:00 UTC),
            datetime!(2025-03-12 03:00 UTC),
        ];
        assert_eq!(
            kept(&created, 2, 0),
            [
                datetime!(2025-03-11 02:00 UTC),
                datetime!(2025-03-12 03:00 UTC)
            ]
        );
    }

    #[test]
    fn days_without_a_backup_do_not_count() {
        let created = [
            datetime!(2025-03-01 02:00 UTC),
            datetime!(2025-03-02 02:00 UTC),
            // The server was off for a week.
            datetime!(2025-03-10 02:00 UTC),
        ];
        assert_eq!(
            kept(&created, 2, 0),
            [
                datetime!(2025-03-02 02:00 UTC),
                datetime!(2025-03-10 02:00 UTC)
            ]
        );
    }

    #[test]
    fn weekly_backups_outlive_daily_ones() {
        // A backup every day at 02:00 from Monday 2025-03-03 to Sunday 2025-03-23: three ISO weeks.
        let created: Vec<OffsetDateTime> = (0..21)
            .map(|day| datetime!(2025-03-03 02:00 UTC) + time::Duration::days(day))
            .collect();
        assert_eq!(
            kept(&created, 3, 3),
            [
                // Newest of week 10 (its Sunday), then of week 11.
                datetime!(2025-03-09 02:00 UTC),
                datetime!(2025-03-16 02:00 UTC),
                // The last three days; Sunday 23rd is also week 12's newest.
                datetime!(2025-03-21 02:00 UTC),
                datetime!(2025-03-22 02:00 UTC),
                datetime!(2025-03-23 02:00 UTC),
            ]
        );
    }

    #[test]
    fn days_are_utc_days_whatever_the_offset_a_time_was_written_with() {
        // 00:30 in Algiers (UTC+1) is still the previous day in UTC.
        let created = [
            datetime!(2025-03-10 22:00 UTC),
            datetime!(2025-03-11 00:30 +01:00),
        ];
        assert_eq!(kept(&created, 1, 0), [datetime!(2025-03-11 00:30 +01:00)]);
    }

    #[test]
    fn iso_weeks_span_the_new_year() {
        // Monday 2024-12-30 and Friday 2025-01-03 are both in ISO week 1 of 2025.
        let created = [
            datetime!(2024-12-27 02:00 UTC),
            datetime!(2024-12-30 02:00 UTC),
            datetime!(2025-01-03 02:00 UTC),
        ];
        assert_eq!(
            kept(&created, 0, 2),
            [
                datetime!(2024-12-27 02:00 UTC),
                datetime!(2025-01-03 02:00 UTC)
            ]
        );
    }

    #[test]
    fn the_newest_backup_is_kept_even_when_nothing_else_is() {
        let created = [
            datetime!(2025-03-10 02:00 UTC),
            datetime!(2025-03-11 02:00 UTC),
        ];
        assert_eq!(kept(&created, 0, 0), [datetime!(2025-03-11 02:00 UTC)]);
        assert!(kept(&[], 7, 4).is_empty());
    }

    #[test]
    fn the_order_the_backups_are_listed_in_does_not_matter() {
        let created = [
            datetime!(2025-03-12 02:00 UTC),
            datetime!(2025-03-10 02:00 UTC),
            datetime!(2025-03-11 02:00 UTC),
        ];
        assert_eq!(
            kept(&created, 2, 0),
            [
                datetime!(2025-03-12 02:00 UTC),
                datetime!(2025-03-11 02:00 UTC)
            ]
        );
    }
}
