//! The OpenAPI 3.1 document of PROTOCOL.md v1, generated from the code so
//! that it cannot drift: the schemas are derived from the wire types
//! (`utoipa::ToSchema` on `crate::wire`), each path from the
//! `#[utoipa::path]` on its handler. What every route shares (the error
//! body, 401/429/500/503, `Retry-After`, and on writes `Idempotency-Key`,
//! `Idempotent-Replayed`, 409/413/422) is added here once, by
//! [`Protocol`], rather than repeated on each handler.
//!
//! Served unauthenticated at `GET /v1/openapi.json`; `docs/openapi.json`
//! is this document, checked by `tests/openapi.rs`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, HeaderBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{Modify, OpenApi};

use crate::wire::{
    AcceptRequest, ApiError, CloseRequest, ErrorBody, ErrorCode, ForwardRequest, ForwardResponse,
    IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, Referral, ReferralBox, RejectRequest, WithdrawRequest,
};

use super::{actions, directory, events, ops, referrals};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "leadx lead exchange",
        version = "1",
        description = "The Lead Exchange Protocol v1 as `leadx serve` implements it. \
            Every `/v1` route but this document takes `Authorization: Bearer <token>`. \
            Non-2xx bodies are `{\"error\": {\"code\", \"message\", ...}}` (ErrorBody). \
            Generated from the server's code; see docs/API.md for the prose."
    ),
    paths(
        directory::me,
        directory::partners,
        referrals::list,
        referrals::get,
        actions::create,
        actions::act,
        actions::batch,
        events::events,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        openapi_json,
    ),
    components(schemas(
        ErrorBody,
        ApiError,
        ErrorCode,
        AcceptRequest,
        RejectRequest,
        ForwardRequest,
        WithdrawRequest,
        CloseRequest,
        ForwardResponse,
        Referral,
        ReferralBox,
    )),
    modifiers(&Protocol),
    tags(
        (name = "directory", description = "Who am I, and the partner directory"),
        (name = "referrals", description = "Reading and acting on referrals"),
        (name = "events", description = "The live feed (Server-Sent Events)"),
        (name = "ops", description = "Health, metrics and this document (no token)"),
    )
)]
struct ApiDoc;

/// The actions of `POST /v1/referrals/{id}/{action}`, each a path of its
/// own in the document, and the request body each takes.
const ACTIONS: [(&str, &str, &str); 5] = [
    (
        "accept",
        "AcceptRequest",
        "Accept a pending referral (its recipient).",
    ),
    (
        "reject",
        "RejectRequest",
        "Reject a pending referral with a reason (its recipient).",
    ),
    (
        "forward",
        "ForwardRequest",
        "Forward a pending referral: closes this hop and opens a new one; answers both (ForwardResponse).",
    ),
    (
        "withdraw",
        "WithdrawRequest",
        "Withdraw a pending referral (its sender).",
    ),
    (
        "close",
        "CloseRequest",
        "Close an accepted referral as won or lost (its recipient).",
    ),
];

/// The path `actions::act` is documented under; [`Protocol`] turns it into
/// one path per action.
const ACT_PATH: &str = "/v1/referrals/{id}/accept";

/// Paths that take no token.
const OPEN_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/v1/openapi.json"];

/// Adds what every route shares.
struct Protocol;

impl Modify for Protocol {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        split_actions(doc);
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        for (path, item) in doc.paths.paths.iter_mut() {
            let open = OPEN_PATHS.contains(&path.as_str());
            if let Some(op) = item.get.as_mut() {
                shared(op, open);
            }
            if let Some(op) = item.post.as_mut() {
                shared(op, open);
                write(op);
            }
        }
    }
}

/// `/v1/referrals/{id}/{action}` as five paths, each with its own body.
fn split_actions(doc: &mut Document) {
    let Some(template) = doc.paths.paths.remove(ACT_PATH) else {
        return;
    };
    for (action, body, summary) in ACTIONS {
        let mut item = template.clone();
        if let Some(op) = item.post.as_mut() {
            op.operation_id = Some(format!("{action}_referral"));
            op.summary = Some(summary.to_owned());
            op.description = None;
            let mut request = RequestBody::new();
            request.content.insert(
                "application/json".to_owned(),
                Content::new(Some(Ref::from_schema_name(body))),
            );
            request.required = Some(Required::True);
            op.request_body = Some(request);
            if action == "forward" {
                op.responses.responses.insert(
                    "200".to_owned(),
                    RefOr::T(json_response(
                        "Both hops: the closed one and the new one.",
                        "ForwardResponse",
                    )),
                );
            }
        }
        doc.paths
            .paths
            .insert(format!("/v1/referrals/{{id}}/{action}"), item);
    }
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn seconds_header(what: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .build(),
        ))
        .description(Some(what))
        .build()
}

fn json_response(description: &str, schema: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(schema))),
        )
        .build()
}

fn error(description: &str) -> utoipa::openapi::Response {
    json_response(description, "ErrorBody")
}

fn with_retry_after(mut r: utoipa::openapi::Response) -> utoipa::openapi::Response {
    r.headers.insert(
        "Retry-After".to_owned(),
        seconds_header("Seconds to wait before trying again."),
    );
    r
}

fn add(op: &mut Operation, status: u16, response: utoipa::openapi::Response) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert(RefOr::T(response));
}

/// The answers any route may give.
fn shared(op: &mut Operation, open: bool) {
    if open {
        op.security = Some(vec![SecurityRequirement::default()]);
    } else {
        add(
            op,
            400,
            error(
                "`bad_request`: malformed JSON, wrong types, unknown fields or query parameters.",
            ),
        );
        add(
            op,
            401,
            error("`unauthenticated`: no or unknown bearer token."),
        );
        add(
            op,
            429,
            with_retry_after(error("`rate_limited`: too many requests from this token.")),
        );
    }
    add(
        op,
        500,
        error("`internal`: the server failed; nothing was kept, a retry runs again."),
    );
    add(
        op,
        503,
        with_retry_after(error("`unavailable`: the store is not answering.")),
    );
}

/// What every write shares: the idempotency key and its answers.
fn write(op: &mut Operation) {
    let key: Parameter = ParameterBuilder::new()
        .name(IDEMPOTENCY_KEY)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1..255 printable ASCII. The same key with the same request returns the kept \
             answer again (with `Idempotent-Replayed: true`) and changes nothing; kept per \
             user for at least 24 hours.",
        ))
        .schema(Some(
            string_schema()
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x20-\\x7E]{1,255}$")),
        ))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(key);
    let replayed = HeaderBuilder::new()
        .schema(Schema::Object(
            string_schema().enum_values(Some(["true"])).build(),
        ))
        .description(Some(
            "Present on an answer replayed for a repeated Idempotency-Key.",
        ))
        .build();
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response
            && !status.starts_with('5')
            && !matches!(status.as_str(), "401" | "429")
        {
            r.headers
                .insert(IDEMPOTENT_REPLAYED.to_owned(), replayed.clone());
        }
    }
    add(
        op,
        409,
        error(
            "`conflict` (stale version or status; carries `current`), `duplicate` (carries `existing_id` when the caller is a party) or `idempotency_in_flight`.",
        ),
    );
    add(op, 413, error("`too_large`: the body is over 1 MiB."));
    add(
        op,
        422,
        error("`invalid` (a rule; `field` names the field) or `idempotency_mismatch`."),
    );
}

/// The document as a value.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The document as pretty JSON with a final newline, as `docs/openapi.json` holds it.
pub fn document_json() -> String {
    let mut s = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    s.push('\n');
    s
}

/// `GET /v1/openapi.json`: this document (no token needed).
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "ops",
    responses((status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Response {
    let mut response = document_json().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
