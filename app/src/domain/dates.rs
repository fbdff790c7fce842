//! Calendar dates as `YYYY-MM-DD` (what `<input type="date">` sends).

/// A real calendar date from 1970 on, `YYYY-MM-DD`.
pub fn parse_date(input: &str) -> Result<String, String> {
    let v = input.trim();
    let bad = || format!("Enter a date as YYYY-MM-DD (got '{v}').");
    let parts: Vec<&str> = v.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts[1].len() != 2
        || parts[2].len() != 2
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y < 1970 || !(1..=days).contains(&d) {
        return Err(bad());
    }
    Ok(v.to_owned())
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Day number of a `YYYY-MM-DD` date; `None` when it is not one.
pub fn day_number(date: &str) -> Option<i64> {
    let v = parse_date(date).ok()?;
    let y = v[0..4].parse().ok()?;
    let m = v[5..7].parse().ok()?;
    let d = v[8..10].parse().ok()?;
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 0 for Monday … 6 for Sunday.
pub fn weekday_of_day(day: i64) -> usize {
    // 1970-01-01 was a Thursday
    (day + 3).rem_euclid(7) as usize
}

pub const SECONDS_PER_DAY: i64 = 86_400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates() {
        assert_eq!(parse_date(" 2026-12-25 ").unwrap(), "2026-12-25");
        assert!(parse_date("2028-02-29").is_ok());
        assert!(parse_date("2100-02-29").is_err(), "not a leap year");
        assert!(parse_date("2000-02-29").is_ok(), "a leap year");
        assert!(parse_date("2026-04-31").is_err());
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("2026-1-01").is_err());
        assert!(parse_date("1969-12-31").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn day_numbers() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2026-11-28"), Some(20_785));
        assert_eq!(date_of_day(20_785), "2026-11-28");
        assert_eq!(weekday_of_day(20_785), 5, "2026-11-28 is a Saturday");
        assert_eq!(weekday_of_day(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(day_number("2028-02-30"), None);
        for day in [0, 59, 60, 365, 10_956, 20_785, 47_482] {
            assert_eq!(day_number(&date_of_day(day)), Some(day));
        }
    }
}
