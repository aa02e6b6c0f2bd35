//! Request bodies, decoded as the server's routes decode them: arbitrary
//! bytes and JSON values never panic and fail as 400 (or 422 for a
//! well-typed value outside its set), valid bodies decode, and an unknown
//! field anywhere is rejected.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use leadx::server::routes::{decode_action, decode_batch, decode_json};
use leadx::wire::{
    AcceptRequest, ActionKind, CloseRequest, CreateReferral, ErrorCode, ForwardRequest,
    RejectRequest, WithdrawRequest,
};

use super::{config, hostile_string};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string(12).prop_map(Value::String),
        prop::sample::select(vec![
            "accept",
            "reject",
            "forward",
            "withdraw",
            "close",
            "won",
            "lost",
            "other",
            "unclear_need",
            "r_1",
            "acme-web",
            "",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Object keys: mostly the protocol's own, so that decoding goes deep.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KNOWN_KEYS.to_vec()).prop_map(str::to_owned),
        1 => hostile_string(8),
    ]
}

const KNOWN_KEYS: &[&str] = &[
    "id",
    "action",
    "version",
    "note",
    "reason",
    "code",
    "to_partner",
    "commission_pct",
    "expires_in_hours",
    "status",
    "outcome",
    "value_cents",
    "lead",
    "company",
    "domain",
    "contact_name",
    "contact_email",
    "contact_phone",
    "category",
    "summary",
    "est_value_cents",
    "currency",
    "region",
    "items",
];

/// Bytes that are JSON-ish more often than not.
fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        json_value().prop_map(|v| serde_json::to_vec(&v).expect("a Value serializes")),
        (json_value(), any::<usize>(), any::<u8>()).prop_map(|(v, at, b)| {
            // A valid document with one byte changed.
            let mut bytes = serde_json::to_vec(&v).expect("a Value serializes");
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            bytes
        }),
    ]
}

fn action_kind() -> impl Strategy<Value = ActionKind> {
    prop::sample::select(ActionKind::ALL.to_vec())
}

/// A key none of the request types has.
fn unknown_key() -> impl Strategy<Value = String> {
    hostile_string(10).prop_filter("not a known field", |k| !KNOWN_KEYS.contains(&k.as_str()))
}

/// A valid body for each action (the fields each one takes, optional ones
/// present or not), as the server reads it: without `id` and `action`.
fn valid_action(kind: ActionKind) -> BoxedStrategy<Value> {
    let version = any::<u64>();
    let note = prop::option::of(hostile_string(8));
    match kind {
        ActionKind::Accept => (version, note)
            .prop_map(|(v, n)| strip_nulls(json!({"version": v, "note": n})))
            .boxed(),
        ActionKind::Reject => (
            version,
            prop::sample::select(vec![
                "unclear_need",
                "unable_to_support",
                "duplicate",
                "wrong_partner",
                "other",
            ]),
            note,
        )
            .prop_map(|(v, c, n)| json!({"version": v, "reason": {"code": c, "note": n}}))
            .boxed(),
        ActionKind::Forward => (version, "[a-z]{2,10}", note, prop::option::of(0u32..=100))
            .prop_map(|(v, to, n, pct)| {
                strip_nulls(
                    json!({"version": v, "to_partner": to, "note": n, "commission_pct": pct}),
                )
            })
            .boxed(),
        ActionKind::Withdraw => version.prop_map(|v| json!({"version": v})).boxed(),
        ActionKind::Close => (
            version,
            prop::bool::ANY,
            prop::option::of(any::<i64>()),
            note,
        )
            .prop_map(|(v, won, value, n)| {
                json!({"version": v, "status": if won { "won" } else { "lost" },
                       "outcome": {"value_cents": value, "note": n}})
            })
            .boxed(),
    }
}

fn strip_nulls(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.retain(|_, x| !x.is_null());
    }
    v
}

/// Every object inside `v` (itself first), as JSON pointers.
fn object_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    if let Value::Object(o) = v {
        out.push(at.clone());
        for (k, x) in o {
            object_pointers(x, format!("{at}/{k}"), out);
        }
    }
}

fn check_body_error(code: ErrorCode, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(code, ErrorCode::BadRequest | ErrorCode::Invalid),
        "{what}: {code:?}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bodies_never_panic_and_fail_as_400(bytes in body_bytes(), kind in action_kind()) {
        if let Err(e) = decode_json::<CreateReferral>(&bytes) {
            prop_assert_eq!(e.error.code, ErrorCode::BadRequest);
        }
        if let Ok(value) = decode_json::<Value>(&bytes)
            && let Err(e) = decode_action(kind, value)
        {
            check_body_error(e.error.code, "action")?;
        }
        match decode_batch(&bytes) {
            Ok(items) => for item in items {
                if let Err(e) = item {
                    prop_assert_eq!(e.code, ErrorCode::Invalid);
                }
            },
            Err(e) => prop_assert!(
                matches!(e.error.code, ErrorCode::BadRequest | ErrorCode::Invalid | ErrorCode::TooLarge),
                "batch: {:?}", e.error
            ),
        }
    }

    #[test]
    fn json_values_never_panic(value in json_value(), kind in action_kind()) {
        if let Err(e) = decode_action(kind, value.clone()) {
            check_body_error(e.error.code, "action")?;
        }
        let bytes = serde_json::to_vec(&value).expect("a Value serializes");
        let _ = decode_json::<CreateReferral>(&bytes);
        let batch = serde_json::to_vec(&json!({"items": [value]})).expect("serializes");
        let items = decode_batch(&batch).expect("one item is a valid batch");
        prop_assert_eq!(items.len(), 1);
    }

    #[test]
    fn valid_actions_decode_and_unknown_fields_are_rejected(
        (kind, body) in action_kind().prop_flat_map(|k| (Just(k), valid_action(k))),
        key in unknown_key(),
        extra in json_value(),
        at in any::<usize>(),
    ) {
        let (version, _) = decode_action(kind, body.clone())
            .map_err(|e| TestCaseError::fail(format!("{body} rejected: {:?}", e.error)))?;
        prop_assert_eq!(Some(version), body["version"].as_u64());
        typed_decode(kind, &body)?;
        // As a batch item it runs.
        let mut item = body.clone();
        item["id"] = json!("r_1");
        item["action"] = json!(kind.as_str());
        let batch = serde_json::to_vec(&json!({"items": [item]})).expect("serializes");
        let items = decode_batch(&batch).expect("a valid batch");
        prop_assert_eq!(&items[0], &Ok(("r_1".to_owned(), version)));

        // One unknown field in any object of it: rejected, alone or in a batch.
        let mut pointers = Vec::new();
        object_pointers(&body, String::new(), &mut pointers);
        let target = &pointers[at % pointers.len()];
        let mut bad = body.clone();
        bad.pointer_mut(target).and_then(Value::as_object_mut).expect("an object")
            .insert(key.clone(), extra);
        let e = decode_action(kind, bad.clone()).expect_err("unknown field accepted");
        prop_assert_eq!(e.error.code, ErrorCode::BadRequest, "{}", bad);
        prop_assert!(e.error.message.contains("unknown field"), "{}", e.error.message);
        let mut bad_item = bad.clone();
        bad_item["id"] = json!("r_1");
        bad_item["action"] = json!(kind.as_str());
        let batch = serde_json::to_vec(&json!({"items": [bad_item]})).expect("serializes");
        let items = decode_batch(&batch).expect("a valid batch");
        prop_assert!(matches!(&items[0], Err(e) if e.code == ErrorCode::Invalid));
    }

    #[test]
    fn create_rejects_unknown_fields(
        key in unknown_key(),
        extra in json_value(),
        in_lead in any::<bool>(),
        company in prop::option::of(hostile_string(10)),
        pct in prop::option::of(any::<u32>()),
    ) {
        let mut body = json!({"to_partner": "acme-web", "lead": {"company": company, "category": "hosting"}});
        if let Some(p) = pct {
            body["commission_pct"] = json!(p);
        }
        let ok = serde_json::to_vec(&body).expect("serializes");
        prop_assert!(decode_json::<CreateReferral>(&ok).is_ok());
        let object: &mut Map<String, Value> = if in_lead {
            body["lead"].as_object_mut().expect("lead")
        } else {
            body.as_object_mut().expect("body")
        };
        object.insert(key, extra);
        let bad = serde_json::to_vec(&body).expect("serializes");
        let e = decode_json::<CreateReferral>(&bad).expect_err("unknown field accepted");
        prop_assert_eq!(e.error.code, ErrorCode::BadRequest);
    }

    #[test]
    fn batch_rejects_unknown_top_level_fields(key in unknown_key(), extra in json_value()) {
        let mut body = json!({"items": [{"id": "r_1", "action": "withdraw", "version": 1}]});
        body.as_object_mut().expect("object").insert(key, extra);
        let bytes = serde_json::to_vec(&body).expect("serializes");
        let e = decode_batch(&bytes).expect_err("unknown field accepted");
        prop_assert_eq!(e.error.code, ErrorCode::BadRequest);
    }
}

/// The wire type of each action reads its valid body too (the client
/// serializes these types, the server reads them).
fn typed_decode(kind: ActionKind, body: &Value) -> Result<(), TestCaseError> {
    let v = body.clone();
    let ok = match kind {
        ActionKind::Accept => serde_json::from_value::<AcceptRequest>(v).is_ok(),
        ActionKind::Reject => serde_json::from_value::<RejectRequest>(v).is_ok(),
        ActionKind::Forward => serde_json::from_value::<ForwardRequest>(v).is_ok(),
        ActionKind::Withdraw => serde_json::from_value::<WithdrawRequest>(v).is_ok(),
        ActionKind::Close => serde_json::from_value::<CloseRequest>(v).is_ok(),
    };
    prop_assert!(ok, "{} does not read as its wire type", body);
    Ok(())
}
