//! Time as ccaudit writes and reads it: an instant as RFC 3339 UTC to the second (a snapshot's
//! `collected_at`), and a calendar day (a suppression's `expires:`). The calendar is the `time`
//! crate's, not one written here.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::{Month, OffsetDateTime};

/// RFC 3339 UTC time with second precision (`2026-11-27T05:00:00Z`). A clock before 1970 reads
/// as 1970-01-01 and one past the year 9999 (which RFC 3339 cannot write) as its last second.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| LAST_RFC3339.to_string())
}

/// The last second RFC 3339 can write.
const LAST_RFC3339: &str = "9999-12-31T23:59:59Z";

/// A calendar date (proleptic Gregorian), as `expires:` names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// A valid date, or `None` (`2026-02-30` is `None`).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let month = Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Date)
    }

    /// Parses exactly `YYYY-MM-DD` (no sign, no time, no other width).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape {
            return None;
        }
        Date::new(
            text[0..4].parse().ok()?,
            text[5..7].parse().ok()?,
            text[8..10].parse().ok()?,
        )
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        Date(OffsetDateTime::now_utc().date())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_755_600);
        assert_eq!(rfc3339(t), "2026-11-27T05:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn rfc3339_drops_fractions_of_a_second() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_755_600_750);
        assert_eq!(rfc3339(t), "2026-11-27T05:00:00Z");
    }

    #[test]
    fn rfc3339_clamps_a_clock_outside_its_years() {
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn dates_parse_only_as_real_iso_days() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "26-01-01",
            "2026-1-01",
            "2026/01/01",
            "+026-01-01",
            "2026-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_order_by_day() {
        let day = |s| Date::parse(s).unwrap();
        assert!(day("2026-06-14") < day("2026-06-15"));
        assert!(day("2025-12-31") < day("2026-01-01"));
        assert_eq!(Date::new(2026, 6, 15), Some(day("2026-06-15")));
    }
}
