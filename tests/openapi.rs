//! `docs/openapi.json` is the document the code generates, byte for byte, so
//! that the published API cannot drift from the server. After changing a
//! wire type or a route, regenerate it with
//!
//! ```text
//! LEADX_WRITE_OPENAPI=1 cargo test --test openapi
//! ```

use std::path::PathBuf;

use serde_json::Value;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json")
}

#[test]
fn docs_openapi_json_is_what_the_code_generates() {
    let generated = leadx::server::routes::openapi_json();
    let path = doc_path();
    if std::env::var_os("LEADX_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/openapi.json differs from what the code generates; regenerate it with \
         `LEADX_WRITE_OPENAPI=1 cargo test --test openapi` and commit it"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_describes_the_protocol() {
    let doc: Value =
        serde_json::from_str(&leadx::server::routes::openapi_json()).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/v1/me",
        "/v1/partners",
        "/v1/referrals",
        "/v1/referrals/batch",
        "/v1/referrals/{id}",
        "/v1/referrals/{id}/accept",
        "/v1/referrals/{id}/reject",
        "/v1/referrals/{id}/forward",
        "/v1/referrals/{id}/withdraw",
        "/v1/referrals/{id}/close",
        "/v1/events",
        "/v1/openapi.json",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(!paths.contains_key("/v1/referrals/{id}/{action}"));

    // The error shape, from the wire types.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ErrorBody"]["required"],
        serde_json::json!(["error"])
    );
    let codes = schemas["ErrorCode"]["enum"].as_array().expect("codes");
    assert!(codes.contains(&"idempotency_mismatch".into()));
    // Request bodies reject unknown fields.
    for name in [
        "CreateReferral",
        "AcceptRequest",
        "RejectRequest",
        "CloseRequest",
        "LeadInput",
    ] {
        assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
    }

    // Headers: Idempotency-Key on every write, Idempotent-Replayed and
    // Retry-After on answers, Last-Event-ID on the feed.
    let accept = &paths["/v1/referrals/{id}/accept"]["post"];
    let params: Vec<&str> = accept["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert!(params.contains(&"Idempotency-Key"), "{params:?}");
    assert!(accept["responses"]["200"]["headers"]["Idempotent-Replayed"].is_object());
    assert!(accept["responses"]["429"]["headers"]["Retry-After"].is_object());
    assert!(accept["responses"]["503"]["headers"]["Retry-After"].is_object());
    assert_eq!(
        accept["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AcceptRequest"
    );
    let events = &paths["/v1/events"]["get"];
    let names: Vec<&str> = events["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"Last-Event-ID"), "{names:?}");
    assert!(events["responses"]["200"]["content"]["text/event-stream"].is_object());
    assert!(events["responses"]["410"].is_object());

    // A batch item is id, action, version plus the action's fields (the
    // derived schema of the flattened tagged enum forbade the tag itself,
    // so nothing could satisfy it: schemathesis found it).
    let item = &schemas["BatchItem"];
    assert_eq!(
        item["properties"]["action"]["$ref"],
        "#/components/schemas/ActionKind"
    );
    assert_eq!(
        item["required"],
        serde_json::json!(["id", "action", "version"])
    );
    assert_ne!(item["additionalProperties"], false);
    assert!(item["allOf"].is_null(), "{item}");

    // Every reference resolves.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas[name].is_object(), "$ref {r} does not resolve");
    }

    // A token everywhere under /v1 but the document itself.
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    assert_eq!(
        paths["/v1/openapi.json"]["get"]["security"],
        serde_json::json!([{}])
    );
    assert!(paths["/v1/me"]["get"]["security"].is_null());
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
