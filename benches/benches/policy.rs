//! The admission gate's cost on the request path, per decision: a cache
//! hit through the server's `Admission::admit` (what every proof pays), the
//! gate's `decide` on a hit, and a miss (a Rego evaluation, paid once per
//! distinct decision-relevant input). Compare with the service bench's
//! cost per unary call (its `cpu µs` column).

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use zktx_formats::KeyOrigin;
use zktx_governance::{Method, PolicyBundle, PolicyGate, PolicyInput, Profile, Transport};
use zktx_server::admission::{Admission, Route};
use zktx_server::config::default_plans;
use zktx_server::metrics::Metrics;
use zktx_server::tenants::Tenant;

fn input(k: u64) -> PolicyInput {
    PolicyInput {
        tenant: "acme".into(),
        plan: "pro".into(),
        circuit: "zktx/overlap/v1/capacity-64".into(),
        tier: 64,
        k,
        batch_size: 1,
        transport: Transport::Grpc,
        method: Method::Verify,
        profile: Profile::Prod,
        key_origin: KeyOrigin::Ceremony,
    }
}

fn gate(c: &mut Criterion) {
    let gate = Arc::new(PolicyGate::new(PolicyBundle::builtin()).expect("the built-in bundle"));
    let hit = input(3);
    assert!(gate.decide(&hit).allowed());
    c.bench_function("policy/decide (cache hit)", |b| {
        b.iter(|| gate.decide(std::hint::black_box(&hit)))
    });
    c.bench_function("policy/evaluate (Rego, no cache)", |b| {
        b.iter(|| {
            gate.evaluate(std::hint::black_box(&hit))
                .expect("evaluates")
        })
    });

    let fingerprint = "ab".repeat(32);
    let admission = Admission::new(
        gate,
        Profile::Prod,
        HashMap::from([(fingerprint.clone(), KeyOrigin::Ceremony)]),
        std::sync::Arc::new(zktx_governance::audit::Tally::default()),
    );
    let metrics = Metrics::new();
    let tenant = Tenant {
        id: "acme".into(),
        plan_name: "pro".into(),
        plan: default_plans()["pro"].clone(),
    };
    let route = Route::single(Transport::Grpc, Method::Verify);
    let circuit = "zktx/overlap/v1/capacity-64";
    c.bench_function("policy/admit (server path, cache hit)", |b| {
        b.iter(|| {
            admission
                .admit(&metrics, &tenant, &fingerprint, circuit, 64, 3, route)
                .expect("admitted")
        })
    });
}

criterion_group!(benches, gate);
criterion_main!(benches);
