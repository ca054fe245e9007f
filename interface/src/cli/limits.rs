//! The HTTP limits from flags, environment and the settings file.

use std::num::NonZeroU32;

use super::duration::{duration_setting as duration, setting};
use super::{FileSettings, ServeArgs, parse_limit};
use crate::state::HttpLimits;

/// Merges the limits of `args` over `file` (flags and environment variables win), with the
/// defaults for what neither gives.
///
/// # Errors
/// A message naming the setting whose value is out of range or not a duration.
pub fn http_limits(args: &ServeArgs, file: &FileSettings) -> Result<HttpLimits, String> {
    let defaults = HttpLimits::default();
    let given = &args.limits;
    let max_in_flight = given
        .max_in_flight
        .or(file.max_in_flight)
        .unwrap_or(defaults.max_in_flight);
    let max_in_flight_per_address = given
        .max_in_flight_per_address
        .or(file.max_in_flight_per_address)
        .unwrap_or(defaults.max_in_flight_per_address);
    if max_in_flight == 0 || max_in_flight_per_address == 0 {
        return Err("--max-in-flight and --max-in-flight-per-address must be at least 1".into());
    }
    let metrics_token = given
        .metrics_token
        .as_deref()
        .or(file.metrics_token.as_deref());
    if metrics_token.is_some_and(str::is_empty) {
        return Err("--metrics-token must not be empty".into());
    }
    Ok(HttpLimits {
        max_body_bytes: args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(defaults.max_body_bytes),
        graphql_introspection: args
            .graphql_introspection
            .or(file.graphql_introspection)
            .unwrap_or(defaults.graphql_introspection),
        graphiql: args.graphiql.or(file.graphiql).unwrap_or(defaults.graphiql),
        principal_rate: given
            .rate_limit
            .or(file.rate_limit)
            .map_or(defaults.principal_rate, NonZeroU32::new),
        address_rate: given
            .address_rate_limit
            .or(file.address_rate_limit)
            .map_or(defaults.address_rate, NonZeroU32::new),
        max_in_flight,
        max_in_flight_per_address,
        request_timeout: duration(
            given.request_timeout,
            "request_timeout",
            file.request_timeout.as_deref(),
        )?
        .unwrap_or(defaults.request_timeout),
        header_read_timeout: duration(
            given.header_read_timeout,
            "header_read_timeout",
            file.header_read_timeout.as_deref(),
        )?
        .unwrap_or(defaults.header_read_timeout),
        idempotency_ttl: duration(
            given.idempotency_ttl,
            "idempotency_ttl",
            file.idempotency_ttl.as_deref(),
        )?
        .unwrap_or(defaults.idempotency_ttl),
        metrics_token: metrics_token.map(application::api_keys::hash),
        ready_max_lag: setting(
            given.ready_max_lag,
            "ready_max_lag",
            file.ready_max_lag.as_deref(),
            parse_limit,
        )?
        .unwrap_or(defaults.ready_max_lag),
        ..defaults
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn limits(flags: &[&str], file: &str) -> Result<HttpLimits, String> {
        let cli = Cli::try_parse_from([&["domainflow", "serve"], flags].concat())
            .map_err(|e| e.to_string())?;
        let Command::Serve(args) = cli.command else {
            return Err("not serve".into());
        };
        let file: FileSettings = toml::from_str(file).map_err(|e| e.to_string())?;
        http_limits(&args, &file)
    }

    #[test]
    fn flags_win_over_the_file_and_zero_or_off_turns_a_rate_limit_off() {
        let merged = limits(
            &["--rate-limit", "off", "--request-timeout", "5s"],
            "rate_limit = 7\naddress_rate_limit = 0\nrequest_timeout = \"9s\"\nmax_in_flight = 3",
        )
        .unwrap();
        assert_eq!(merged.principal_rate, None);
        assert_eq!(merged.address_rate, None);
        assert_eq!(merged.request_timeout, Duration::from_secs(5));
        assert_eq!(merged.max_in_flight, 3);
        assert_eq!(merged.header_read_timeout, Duration::from_secs(15));
    }

    #[test]
    fn the_defaults_limit_every_principal_and_address() {
        let merged = limits(&[], "").unwrap();
        assert_eq!(merged.principal_rate, NonZeroU32::new(200));
        assert_eq!(merged.address_rate, NonZeroU32::new(1000));
        assert_eq!(merged.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn a_bad_value_in_the_file_is_named() {
        let error = limits(&[], "header_read_timeout = \"soon\"").unwrap_err();
        assert!(error.contains("header_read_timeout"), "{error}");
        let error = limits(&["--max-in-flight", "0"], "").unwrap_err();
        assert!(error.contains("--max-in-flight"), "{error}");
    }
}
