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
}
