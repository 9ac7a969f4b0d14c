//! Durations as people write them in plans and flags: `90s`, `10m`, `1h30m`, `500ms`.

use std::time::Duration;

/// Parses `1h30m`, `10m`, `45s`, `500ms`. A bare number is refused: the unit is never guessed.
///
/// # Errors
/// A message that says what was expected.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; write it like `90s`, `10m` or `1h30m`".to_string());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration; write it like `90s`, `10m` or `1h30m`"
            ));
        }
        let (number, tail) = rest.split_at(digits);
        let value: u64 = number
            .parse()
            .map_err(|_| format!("`{number}` in `{text}` is too large"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let part = match unit {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            "" => {
                return Err(format!(
                    "`{text}` has no unit; add `s`, `m` or `h` (for example `{text}s`)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}`; use `ms`, `s`, `m` or `h`"
                ));
            }
        };
        total = total.saturating_add(part);
        rest = next;
    }
    Ok(total)
}

/// `1h2m3s`-style text for messages (whole seconds; `350ms` below one second).
#[must_use]
pub fn format(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.as_millis());
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse("10").is_err_and(|e| e.contains("no unit")));
        assert!(parse("5d").is_err_and(|e| e.contains("unknown unit `d`")));
        assert!(parse("m").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(61)), "1m1s");
        assert_eq!(format(Duration::from_millis(350)), "350ms");
        assert_eq!(format(Duration::from_secs(0)), "0ms");
    }
}
