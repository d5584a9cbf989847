//! REST bodies: only the shapes in `/openapi.json` are accepted, and a
//! refusal names the field and the kind of fault, never the value, in the
//! response and in the log.

use serde_json::json;

use crate::harness::{fixture, logs, TestServer};

async fn post_raw(
    t: &TestServer,
    key: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(t.url(path))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_documented_shapes_are_accepted_and_no_value_is_echoed() {
    let t = TestServer::start().await;
    let key = t.key("open");
    let proof = &fixture().proofs[4];
    let (fp, i) = (&proof.vk_fingerprint, &proof.public_inputs);
    let inputs = json!(i);
    let good = json!({"key_fingerprint": fp, "public_inputs": inputs, "proof": proof.proof});
    // What the caller sent, which no answer or log line may quote.
    let values = [
        i.commit_a.as_str(),
        i.commit_b.as_str(),
        i.context.as_str(),
        proof.proof.as_str(),
        &proof.proof[..40],
        &i.commit_a[8..40],
    ];

    let verify = "/v1/verify";
    let batch = "/v1/verify/batch";
    let cases: Vec<(&str, &str, String, &str)> = vec![
        // Arrays in place of objects.
        (
            "array body",
            verify,
            json!([fp, [i.commit_a, i.commit_b, i.k, i.context], proof.proof]).to_string(),
            "body",
        ),
        (
            "array inputs",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": [i.commit_a, i.commit_b, i.k, i.context], "proof": proof.proof}).to_string(),
            "public_inputs",
        ),
        (
            "array item",
            batch,
            json!({"items": [[fp, inputs, proof.proof]]}).to_string(),
            "items[0]",
        ),
        ("items as an object", batch, json!({"items": good}).to_string(), "items"),
        // Strings in place of objects, and a double-encoded body.
        (
            "inputs as a string",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": format!("{},{},{}", i.commit_a, i.commit_b, i.context), "proof": proof.proof}).to_string(),
            "public_inputs",
        ),
        ("double-encoded", verify, json!(good.to_string()).to_string(), "body"),
        (
            "double-encoded item",
            batch,
            json!({"items": [good.to_string()]}).to_string(),
            "items[0]",
        ),
        // Wrong types and values inside.
        (
            "k as a string",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": {"commit_a": i.commit_a, "commit_b": i.commit_b, "k": i.commit_a, "context": i.context}, "proof": proof.proof}).to_string(),
            "public_inputs.k",
        ),
        (
            "proof as a number",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": inputs, "proof": 12345}).to_string(),
            "proof",
        ),
        // Unknown fields, even named like a value.
        (
            "unknown field",
            verify,
            {
                let mut body = good.clone();
                body[i.commit_a.as_str()] = 1.into();
                body.to_string()
            },
            "body",
        ),
        (
            "unknown input",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": {"commit_a": i.commit_a, "commit_b": i.commit_b, "k": i.k, "context": i.context, "salt": i.context}, "proof": proof.proof}).to_string(),
            "public_inputs",
        ),
        // Broken JSON.
        (
            "truncated",
            verify,
            good.to_string()[..good.to_string().len() - 30].to_string(),
            "public_inputs.context",
        ),
        ("trailing text", verify, format!("{good} {}", i.commit_a), "body"),
        (
            "bad base64",
            verify,
            json!({"key_fingerprint": fp, "public_inputs": inputs, "proof": format!("{}!!", proof.proof)}).to_string(),
            "proof",
        ),
    ];
    for (name, path, body, field) in cases {
        let (status, text) = post_raw(&t, key, path, "application/json", body).await;
        assert_eq!(status, 400, "{name}: {text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["code"], "INVALID_ARGUMENT", "{name}");
        assert_eq!(answer["field"], field, "{name}: {text}");
        for value in values {
            assert!(
                !text.contains(value),
                "{name}: the answer quotes a value: {text}"
            );
        }
    }
    // The wrong content type is named as such.
    let (status, text) = post_raw(&t, key, verify, "text/plain", good.to_string()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("content-type"), "{text}");

    // And the proof itself, well-formed, still verifies.
    let (status, text) = post_raw(&t, key, verify, "application/json", good.to_string()).await;
    assert_eq!(status, 200, "{text}");

    let log = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(log.contains("rest.verify"), "requests are logged");
    for value in values {
        assert!(!log.contains(value), "the log quotes a submitted value");
    }
    t.shutdown().await;
}
