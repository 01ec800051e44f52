//! The creation time of a migration file, `YYYYMMDD_HHMM` in UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYYMMDD_HHMM` in UTC.
pub(crate) fn stamp_now() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    stamp(seconds)
}

/// A Unix time as `YYYYMMDD_HHMM` in UTC.
pub(crate) fn stamp(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let minutes = (seconds % 86_400) / 60;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}_{:02}{:02}", minutes / 60, minutes % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::stamp;

    #[test]
    fn known_dates() {
        assert_eq!(stamp(0), "19700101_0000");
        assert_eq!(stamp(1_729_865_520), "20241025_1412");
        assert_eq!(stamp(951_782_400), "20000229_0000");
        assert_eq!(stamp(4_102_444_799), "20991231_2359");
    }
}
