//! `integrity`: the report of `domainflow verify`, as a GraphQL object.

use application::event_log::Integrity;
use async_graphql::SimpleObject;

/// The outcome of walking the hash chains.
#[derive(Debug, Clone, SimpleObject)]
pub struct IntegrityReport {
    /// Whether every link holds.
    pub verified: bool,
    /// Events checked (when verified).
    pub events: Option<u64>,
    /// Streams checked (when verified).
    pub streams: Option<u64>,
    /// The first link that does not hold (when not verified).
    pub broken_link: Option<BrokenLink>,
    /// The report as `domainflow verify` prints it: "verified N events in M streams", or
    /// the broken link.
    pub report: String,
}

/// Where a hash chain breaks.
#[derive(Debug, Clone, SimpleObject)]
pub struct BrokenLink {
    /// The stream's type.
    pub stream_type: String,
    /// The stream's id.
    pub stream_id: String,
    /// The version whose link fails.
    pub version: i64,
    /// The hash recomputed from what is stored (hex).
    pub expected: String,
    /// The hash stored (hex).
    pub found: String,
    /// What kind of break: content changed, an event missing, or the chain relinked.
    pub problem: String,
}

impl From<Integrity> for IntegrityReport {
    fn from(integrity: Integrity) -> Self {
        let report = integrity.to_string();
        match integrity {
            Integrity::Verified { events, streams } => Self {
                verified: true,
                events: Some(events),
                streams: Some(streams),
                broken_link: None,
                report,
            },
            Integrity::Broken(link) => Self {
                verified: false,
                events: None,
                streams: None,
                broken_link: Some(BrokenLink {
                    stream_type: link.stream.stream_type,
                    stream_id: link.stream.stream_id,
                    version: link.version,
                    expected: link.expected,
                    found: link.found,
                    problem: link.problem,
                }),
                report,
            },
        }
    }
}
