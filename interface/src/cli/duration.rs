//! Durations on the command line: `90s`, `30m`, `12h`, `7d`.

use std::time::Duration;

/// Parses a whole number followed by `s`, `m`, `h` or `d`.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 90s, 30m, 12h or 7d");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    if seconds == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(seconds))
}

/// A limit: a duration as [`parse_duration`] reads it, or `off` (zero: no limit).
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_limit(text: &str) -> Result<Duration, String> {
    if text == "off" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text).map_err(|e| format!("{e}, or off"))
}

/// Parses a rate in requests per second, or `off` (0).
///
/// # Errors
/// A message saying what a rate looks like.
pub fn parse_rate(text: &str) -> Result<u32, String> {
    if text == "off" {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| format!("{text:?} is not a number of requests per second, or off"))
}

/// A duration from its flag, else from the settings file's `key` (`value`, parsed as
/// [`parse_duration`] does).
///
/// # Errors
/// A message naming `key` when the file's value is not a duration.
pub fn duration_setting(
    flag: Option<Duration>,
    key: &str,
    value: Option<&str>,
) -> Result<Option<Duration>, String> {
    setting(flag, key, value, parse_duration)
}

/// A value from its flag, else from the settings file's `key` (`value`, parsed by
/// `parse`, the flag's own parser).
///
/// # Errors
/// A message naming `key` when `parse` refuses the file's value.
pub fn setting<T>(
    flag: Option<T>,
    key: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if flag.is_some() {
        return Ok(flag);
    }
    value
        .map(parse)
        .transpose()
        .map_err(|e| format!("{key} in the settings file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_file_which_wins_over_nothing() {
        let minute = Some(Duration::from_secs(60));
        assert_eq!(setting(minute, "k", Some("5s"), parse_duration), Ok(minute));
        assert_eq!(
            setting(None, "k", Some("off"), parse_limit),
            Ok(Some(Duration::ZERO))
        );
        assert_eq!(setting(None, "k", None, parse_duration), Ok(None));
        let refused = setting(None, "max_fulfilment_lag", Some("never"), parse_limit);
        assert!(
            refused
                .unwrap_err()
                .starts_with("max_fulfilment_lag in the settings file")
        );
    }

    #[test]
    fn a_rate_is_a_count_or_off() {
        assert_eq!(parse_rate("off"), Ok(0));
        assert_eq!(parse_rate("0"), Ok(0));
        assert_eq!(parse_rate("250"), Ok(250));
        assert!(parse_rate("fast").unwrap_err().contains("or off"));
        assert!(parse_rate("-1").is_err());
    }

    #[test]
    fn a_limit_is_a_duration_or_off() {
        assert_eq!(parse_limit("off"), Ok(Duration::ZERO));
        assert_eq!(parse_limit("45s"), Ok(Duration::from_secs(45)));
        assert!(parse_limit("0s").is_err());
    }

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
