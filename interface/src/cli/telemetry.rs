//! Optional trace export: with `--otlp-endpoint URL` (`DOMAINFLOW_OTLP_ENDPOINT`,
//! `otlp_endpoint`), every span (requests, commands, saga steps) also goes to an
//! OpenTelemetry collector over OTLP/HTTP (JSON, to `URL/v1/traces`), batched, as service
//! `domainflow`. A request's W3C `traceparent` becomes the parent of its span (see
//! `request_id`), so the server's spans join the caller's trace. Off by default.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The provider of this process, kept for its last flush.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// A tracer exporting to the collector at `endpoint` (its base URL).
///
/// # Errors
/// A message naming `--otlp-endpoint` when the URL is not one.
pub fn tracer(endpoint: &str) -> Result<SdkTracer, String> {
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "--otlp-endpoint {endpoint:?} is not an http:// or https:// URL"
        ));
    }
    let traces = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(traces)
        .build()
        .map_err(|e| format!("--otlp-endpoint {endpoint:?}: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("domainflow").build())
        .build();
    let tracer = provider.tracer("domainflow");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let _ = PROVIDER.set(provider);
    Ok(tracer)
}

/// Sends the spans not exported yet (at the end of the process); nothing without export.
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(%error, "exporting the last spans");
    }
}
