//! The OpenAPI document matches what the handlers accept.

use crate::harness::{fixture, rest_body, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_exists_and_every_required_field_is_required() {
    let t = TestServer::start().await;
    let http = reqwest::Client::new();
    let doc: serde_json::Value = t.get_json("/openapi.json", None).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 5);
    for (path, operations) in paths {
        let concrete = path.replace("{id}", &"0".repeat(32));
        for method in operations.as_object().unwrap().keys() {
            let request = match method.as_str() {
                "get" => http.get(t.url(&concrete)),
                "post" => http.post(t.url(&concrete)).json(&serde_json::json!({})),
                other => panic!("unexpected method {other}"),
            };
            let status = request
                .bearer_auth(t.key("open"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert!(
                status != 405 && !(status == 404 && method == "post"),
                "{method} {path}: {status}"
            );
        }
    }

    // Every field the schema requires is refused when missing; the full body is accepted.
    let schema = &doc["components"]["schemas"]["RestSubmission"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required.len(), 3);
    let full = rest_body(&fixture().proofs[0]);
    for field in required {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let response = http
            .post(t.url("/v1/verify"))
            .bearer_auth(t.key("open"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "without {field}");
        let text = response.text().await.unwrap();
        assert!(text.contains(field), "the error names {field}: {text}");
    }
    let inputs = &doc["components"]["schemas"]["RestInputs"]["required"];
    assert_eq!(inputs.as_array().unwrap().len(), 4);
    let ok = http
        .post(t.url("/v1/verify"))
        .bearer_auth(t.key("open"))
        .json(&full)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    // The receipt the response carries is what the document describes,
    // its place in a signed group included.
    let receipt: serde_json::Value =
        ok.json::<serde_json::Value>().await.unwrap()["receipt"].clone();
    let keys = |object: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = object
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {object}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    let described = |name: &str| keys(&doc["components"]["schemas"][name]["properties"]);
    assert_eq!(keys(&receipt), described("Receipt"));
    assert_eq!(keys(&receipt["batch"]), described("ReceiptBatch"));
    t.shutdown().await;
}
