//! With `[telemetry] otlp_endpoint` set, `zktx serve` exports its request
//! spans over OTLP/gRPC: a collector on loopback (the OTLP trace service,
//! from `opentelemetry-proto`'s stubs) receives each call's span, named by
//! its method, in the caller's trace when it sent a `traceparent`, with the
//! request id and status, the configured service name, and nothing private.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::serve::{proof_body, proofs, serve, tenant_config};

/// Keeps every export it receives.
struct Collector(tokio::sync::mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.clone())
        .map(|v| match v {
            Value::StringValue(s) => s,
            Value::IntValue(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

#[test]
fn request_spans_reach_an_otlp_collector_in_the_callers_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let proof_files = proofs(dir, 1);
    let key = tenant_config(dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let collector = listener.local_addr().unwrap();
    runtime.spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(tx)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let config = std::fs::read_to_string(dir.join("zktx.toml")).unwrap();
    std::fs::write(
        dir.join("zktx.toml"),
        format!("[telemetry]\notlp_endpoint = \"http://{collector}\"\nservice_name = \"zktx-otlp-test\"\n\n{config}"),
    )
    .unwrap();
    let mut served = serve(dir, &["--config", "zktx.toml", "--keys", "keys"]);

    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let parent = "b7ad6b7169203331";
    let body = proof_body(&proof_files[0], None);
    let proof = body["proof"].as_str().unwrap().to_string();
    let (request_id, spans) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let answer = http
            .post(served.url("/v1/verify"))
            .bearer_auth(&key)
            .header("traceparent", format!("00-{trace_id}-{parent}-01"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let request_id = answer.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let unauthenticated = http
            .post(served.url("/v1/verify"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), 401);
        // The batch exporter sends every few seconds.
        let started = Instant::now();
        let mut spans: Vec<(String, Span)> = Vec::new();
        while spans.len() < 2 && started.elapsed() < Duration::from_secs(30) {
            let Ok(Some(export)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
            else {
                continue;
            };
            for resource in export.resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                for scope in resource.scope_spans {
                    spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
                }
            }
        }
        (request_id, spans)
    });
    let _ = served.child.kill();
    let _ = served.child.wait();

    assert!(spans.len() >= 2, "spans received: {}", spans.len());
    let (service, traced) = spans
        .iter()
        .find(|(_, s)| hex::encode(&s.trace_id) == trace_id)
        .unwrap_or_else(|| panic!("no span in the caller's trace: {spans:?}"));
    assert_eq!(service, "zktx-otlp-test");
    assert_eq!(traced.name, "rest.verify");
    assert_eq!(hex::encode(&traced.parent_span_id), parent);
    assert_eq!(
        attribute(traced, "request_id").as_deref(),
        Some(request_id.as_str())
    );
    assert_eq!(attribute(traced, "code").as_deref(), Some("OK"));
    assert_eq!(attribute(traced, "tenant").as_deref(), Some("acme"));
    let refused = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| attribute(s, "code").as_deref() == Some("UNAUTHENTICATED"))
        .expect("the refused call's span");
    assert_ne!(
        hex::encode(&refused.trace_id),
        trace_id,
        "a trace of its own"
    );
    // Nothing private rides along: no API key, no proof bytes.
    let everything = format!("{spans:?}");
    assert!(!everything.contains(&key));
    assert!(!everything.contains(&proof));
}
