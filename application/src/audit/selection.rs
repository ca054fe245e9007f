//! Which part of the log a request asks for, checked once for REST and GraphQL: a bad
//! filter is a `VALIDATION` error naming it, never a failed query.

use chrono::{DateTime, Utc};
use domain::{order, payment, stock, ticket};
use uuid::Uuid;

use crate::event_log::{Position, ReadFilter, StreamRef};
use crate::input::check_id;
use crate::{Error, EventSchema};

/// The stream types of the log.
pub const STREAM_TYPES: [&str; 5] = [
    <order::Event as EventSchema>::STREAM_TYPE,
    <stock::Event as EventSchema>::STREAM_TYPE,
    <payment::Event as EventSchema>::STREAM_TYPE,
    <ticket::Event as EventSchema>::STREAM_TYPE,
    crate::schema::CustomerErased::STREAM_TYPE,
];

/// A selection of the log as the client wrote it.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A position token: only events after it.
    pub after: Option<String>,
    /// `order`, `stock`, `payment`, `ticket` or `customer`.
    pub stream_type: Option<String>,
    /// One aggregate id.
    pub stream_id: Option<String>,
    /// One causal chain (a UUID).
    pub correlation_id: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Recorded before this instant (RFC 3339).
    pub to: Option<String>,
    /// Caused by this actor.
    pub actor: Option<String>,
}

impl Selection {
    /// Where to start and what to keep.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first malformed filter.
    pub fn parse(&self) -> Result<(Position, ReadFilter), Error> {
        let after = match &self.after {
            Some(token) => Position::from_token(token)
                .ok_or_else(|| Error::Validation("after is not a position token".into()))?,
            None => Position::START,
        };
        if let Some(stream_type) = &self.stream_type {
            stream_type_of(stream_type)?;
        }
        if let Some(stream_id) = &self.stream_id {
            check_id("streamId", stream_id)?;
        }
        if let Some(actor) = &self.actor {
            check_id("actor", actor)?;
        }
        let correlation_id = self
            .correlation_id
            .as_deref()
            .map(|id| {
                Uuid::parse_str(id)
                    .map_err(|_| Error::Validation("correlationId is not a UUID".into()))
            })
            .transpose()?;
        let filter = ReadFilter {
            stream_type: self.stream_type.clone(),
            stream_id: self.stream_id.clone(),
            correlation_id,
            from: self
                .from
                .as_deref()
                .map(|t| parse_time("from", t))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|t| parse_time("to", t))
                .transpose()?,
            actor: self.actor.clone(),
            bodies_of: None,
        };
        Ok((after, filter))
    }
}

fn stream_type_of(name: &str) -> Result<&str, Error> {
    if STREAM_TYPES.contains(&name) {
        Ok(name)
    } else {
        Err(Error::Validation(format!(
            "streamType must be one of {}",
            STREAM_TYPES.join(", ")
        )))
    }
}

/// One stream, checked.
///
/// # Errors
/// [`Error::Validation`] for an unknown stream type or a malformed id.
pub fn stream_ref(stream_type: &str, stream_id: &str) -> Result<StreamRef, Error> {
    stream_type_of(stream_type)?;
    check_id("streamId", stream_id)?;
    Ok(StreamRef::new(stream_type, stream_id))
}

/// An RFC 3339 instant given as `field`.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::Validation(format!(
                "{field} is not an RFC 3339 instant, e.g. 2026-11-22T10:00:00Z"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(selection: Selection) -> Result<(Position, ReadFilter), Error> {
        selection.parse()
    }

    #[test]
    fn well_formed_filters_become_a_read_filter() {
        let correlation = Uuid::now_v7();
        let (after, filter) = parse(Selection {
            after: Some(Position::START.token()),
            stream_type: Some("order".into()),
            stream_id: Some("o-1".into()),
            correlation_id: Some(correlation.to_string()),
            from: Some("2026-11-22T10:00:00Z".into()),
            to: Some("2026-11-22T11:00:00+01:00".into()),
            actor: Some("alice".into()),
        })
        .unwrap();
        assert_eq!(after, Position::START);
        assert_eq!(filter.correlation_id, Some(correlation));
        assert_eq!(filter.from, filter.to);
    }

    #[test]
    fn each_malformed_filter_is_a_validation_error() {
        for selection in [
            Selection {
                after: Some("nope".into()),
                ..Selection::default()
            },
            Selection {
                stream_type: Some("orders".into()),
                ..Selection::default()
            },
            Selection {
                stream_id: Some("a\0b".into()),
                ..Selection::default()
            },
            Selection {
                correlation_id: Some("123".into()),
                ..Selection::default()
            },
            Selection {
                from: Some("yesterday".into()),
                ..Selection::default()
            },
            Selection {
                actor: Some(String::new()),
                ..Selection::default()
            },
        ] {
            assert!(
                matches!(parse(selection.clone()), Err(Error::Validation(_))),
                "{selection:?}"
            );
        }
    }
}
