#!/usr/bin/env python3
"""Writes deploy/grafana/zktx.json, the zktx Grafana dashboard, from the
panel list below (edit here, then run; scripts/deploy-check.sh fails when the
committed JSON differs from what this writes)."""
import json
import pathlib
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}
SERVER_ERRORS = 'code=~"INTERNAL|UNKNOWN|DATA_LOSS|UNAVAILABLE|DEADLINE_EXCEEDED"'

# (title, unit, [(legend, expr)], width)
ROWS = [
    ("Golden signals", [
        ("Traffic: calls per second by method", "reqps",
         [("{{method}}", "sum by (method) (rate(zktx_requests_total[$__rate_interval]))")], 12),
        ("Errors: server-side error ratio", "percentunit",
         [("server errors", f"sum(rate(zktx_requests_total{{{SERVER_ERRORS}}}[$__rate_interval])) / sum(rate(zktx_requests_total[$__rate_interval]))"),
          ("SLO budget rate (0.1%)", "vector(0.001)")], 12),
        ("Latency: p50 and p99 by method", "s",
         [("p50 {{method}}", "histogram_quantile(0.5, sum by (method, le) (rate(zktx_request_duration_seconds_bucket[$__rate_interval])))"),
          ("p99 {{method}}", "histogram_quantile(0.99, sum by (method, le) (rate(zktx_request_duration_seconds_bucket[$__rate_interval])))")], 12),
        ("Saturation: queue fill and CPU cores used per replica", "percentunit",
         [("queue {{instance}}", "zktx_queue_depth_proofs / zktx_queue_capacity_proofs"),
          ("CPU cores {{instance}}", "rate(zktx_process_cpu_seconds_total[$__rate_interval])")], 12),
    ]),
    ("SLO burn", [
        ("Error budget burn rate (1 = on budget)", "short",
         [("5m", "zktx:slo_errors:ratio_rate5m / 0.001"), ("1h", "zktx:slo_errors:ratio_rate1h / 0.001"),
          ("6h", "zktx:slo_errors:ratio_rate6h / 0.001")], 12),
        ("Latency budget burn rate (1 = on budget)", "short",
         [("5m", "zktx:slo_latency_misses:ratio_rate5m / 0.01"), ("1h", "zktx:slo_latency_misses:ratio_rate1h / 0.01"),
          ("6h", "zktx:slo_latency_misses:ratio_rate6h / 0.01")], 12),
    ]),
    ("Verification", [
        ("Batch size (proofs per batch)", "short",
         [("p50", "histogram_quantile(0.5, sum by (le) (rate(zktx_batch_size_proofs_bucket[$__rate_interval])))"),
          ("p99", "histogram_quantile(0.99, sum by (le) (rate(zktx_batch_size_proofs_bucket[$__rate_interval])))"),
          ("mean", "sum(rate(zktx_batch_size_proofs_sum[$__rate_interval])) / sum(rate(zktx_batch_size_proofs_count[$__rate_interval]))")], 8),
        ("Verify time per proof", "s",
         [("p50", "histogram_quantile(0.5, sum by (le) (rate(zktx_verify_seconds_per_proof_bucket[$__rate_interval])))"),
          ("p99", "histogram_quantile(0.99, sum by (le) (rate(zktx_verify_seconds_per_proof_bucket[$__rate_interval])))")], 8),
        ("Verdict cache hit rate", "percentunit",
         [("hit rate", 'sum(rate(zktx_verdict_cache_total{result="hit"}[$__rate_interval])) / sum(rate(zktx_verdict_cache_total[$__rate_interval]))')], 8),
        ("Queue depth (proofs)", "short",
         [("{{instance}}", "zktx_queue_depth_proofs"), ("capacity {{instance}}", "zktx_queue_capacity_proofs")], 8),
        ("Receipts by verdict, replays, shed calls", "ops",
         [("{{verdict}}", "sum by (verdict) (rate(zktx_receipts_total[$__rate_interval]))"),
          ("replays", "sum(rate(zktx_replays_total[$__rate_interval]))"),
          ("shed", "sum(rate(zktx_shed_total[$__rate_interval]))")], 8),
        ("Receipt store commit time", "s",
         [("p50", "histogram_quantile(0.5, sum by (le) (rate(zktx_store_commit_seconds_bucket[$__rate_interval])))"),
          ("p99", "histogram_quantile(0.99, sum by (le) (rate(zktx_store_commit_seconds_bucket[$__rate_interval])))")], 8),
    ]),
    ("Denials", [
        ("Quota denials by reason", "ops",
         [("{{reason}}", "sum by (reason) (rate(zktx_quota_denials_total[$__rate_interval]))")], 8),
        ("Policy decisions by outcome and rule", "ops",
         [("{{outcome}} {{rule}}", 'sum by (outcome, rule) (rate(zktx_policy_decisions_total{outcome!="allowed"}[$__rate_interval]))')], 8),
        ("Refused calls by status code", "ops",
         [("{{code}}", 'sum by (code) (rate(zktx_requests_total{code!="OK"}[$__rate_interval]))')], 8),
        ("Plan feature refusals", "ops",
         [("{{feature}}", 'sum by (feature) (rate(zktx_entitlement_decisions_total{outcome="off"}[$__rate_interval]))')], 12),
        ("Connections open and closed", "short",
         [("open {{listener}}", "sum by (listener) (zktx_connections_open)"),
          ("evicted {{listener}}", "sum by (listener) (rate(zktx_connections_evicted_total[$__rate_interval]))"),
          ("idle-closed {{listener}}", "sum by (listener) (rate(zktx_connections_idle_closed_total[$__rate_interval]))")], 12),
    ]),
]

TABLES = [
    ("Verifying keys in use (origin dev-seed outside dev pages)", "zktx_verifying_key_info", ["instance", "tier", "fingerprint", "origin"]),
    ("Admission policy bundle per replica", "zktx_policy_info", ["instance", "sha256", "version", "profile"]),
]


def dashboard() -> dict:
    panels, next_id, y = [], 1, 0
    for row_title, row_panels in ROWS:
        panels.append({"type": "row", "title": row_title, "id": next_id, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id, y, x = next_id + 1, y + 1, 0
        for title, unit, targets, width in row_panels:
            if x + width > 24:
                x, y = 0, y + 8
            panels.append({
                "type": "timeseries", "title": title, "id": next_id, "datasource": DS,
                "gridPos": {"h": 8, "w": width, "x": x, "y": y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
                            for i, (legend, expr) in enumerate(targets)],
            })
            next_id, x = next_id + 1, x + width
        y += 8
    for title, expr, columns in TABLES:
        panels.append({
            "type": "table", "title": title, "id": next_id, "datasource": DS,
            "gridPos": {"h": 6, "w": 12, "x": 0 if next_id % 2 else 12, "y": y},
            "targets": [{"refId": "A", "datasource": DS, "expr": expr, "format": "table", "instant": True}],
            "transformations": [{"id": "organize", "options": {
                "excludeByName": {"Time": True, "Value": True, "__name__": True, "job": True},
                "indexByName": {c: i for i, c in enumerate(columns)}}}],
        })
        next_id += 1
    return {
        "title": "zktx", "uid": "zktx-overview", "tags": ["zktx"], "timezone": "utc",
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus", "current": {}}]},
        "annotations": {"list": []},
        "panels": panels,
    }


def main() -> int:
    target = pathlib.Path(__file__).resolve().parent / "zktx.json"
    text = json.dumps(dashboard(), indent=2) + "\n"
    if sys.argv[1:] == ["--check"]:
        if target.read_text() != text:
            print(f"{target} differs from deploy/grafana/generate.py: run it", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
