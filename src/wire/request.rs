//! Request bodies (strict: unknown fields are 400) and action answers.

use serde::{Deserialize, Serialize};

use super::{ApiError, ReasonCode, Referral};

/// The lead as a sender gives it. Every field may be absent here so that a
/// missing `company` or `category` is reported as 422 `invalid` naming the
/// field, not as a parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[serde(default)]
    #[schema(max_length = 200)]
    pub company: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub domain: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact_email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub category: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub summary: Option<String>,
    #[serde(default)]
    pub est_value_cents: Option<i64>,
    /// ISO 4217; `USD` when absent.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub region: Option<String>,
}

/// `POST /v1/referrals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    pub to_partner: String,
    pub lead: LeadInput,
    #[serde(default)]
    #[schema(maximum = 100)]
    pub commission_pct: Option<u32>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<u32>,
}

/// `POST /v1/referrals/{id}/accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// `reason` in a reject request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    pub code: ReasonCode,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// `POST /v1/referrals/{id}/reject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub version: u64,
    pub reason: ReasonInput,
}

/// `POST /v1/referrals/{id}/forward`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    pub version: u64,
    pub to_partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 100)]
    pub commission_pct: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<u32>,
}

/// Answer to a forward: the closed hop and the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForwardResponse {
    pub referral: Referral,
    pub forwarded: Referral,
}

/// `POST /v1/referrals/{id}/withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub version: u64,
}

/// `status` in a close request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseStatus {
    Won,
    Lost,
}

/// `outcome` in a close request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    #[serde(default)]
    pub value_cents: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// `POST /v1/referrals/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub version: u64,
    pub status: CloseStatus,
    #[serde(default)]
    pub outcome: Option<OutcomeInput>,
}

/// The actions a batch item may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Accept,
    Reject,
    Forward,
    Withdraw,
    Close,
}

impl ActionKind {
    pub const ALL: [ActionKind; 5] = [
        Self::Accept,
        Self::Reject,
        Self::Forward,
        Self::Withdraw,
        Self::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Forward => "forward",
            Self::Withdraw => "withdraw",
            Self::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One batch item as a client builds it: `{"id", "action", "version", ...}`.
/// (The server reads items loosely, so that one malformed item is reported
/// as `invalid` while the others still run.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    pub id: String,
    #[serde(flatten)]
    pub action: BatchAction,
}

/// In the OpenAPI document a batch item is `id`, `action` and `version`
/// plus that action's fields, as loosely as the server reads it (a derived
/// schema of the flattened, tagged [`BatchAction`] would forbid the tag
/// itself, as each request type denies unknown fields).
impl utoipa::PartialSchema for BatchItem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ObjectBuilder::new()
            .description(Some(
                "One batch item: `id`, `action`, `version`, and the other fields of that \
                 action's request (AcceptRequest, RejectRequest, ForwardRequest, \
                 WithdrawRequest, CloseRequest). Items are read loosely: a malformed one gets \
                 outcome `invalid` and the others still run.",
            ))
            .property("id", ObjectBuilder::new().schema_type(Type::String))
            .required("id")
            .property(
                "action",
                utoipa::openapi::Ref::from_schema_name("ActionKind"),
            )
            .required("action")
            .property(
                "version",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .required("version")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl utoipa::ToSchema for BatchItem {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("ActionKind".to_owned(), ActionKind::schema()));
    }
}

/// The action of a batch item with its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BatchAction {
    Accept(AcceptRequest),
    Reject(RejectRequest),
    Forward(ForwardRequest),
    Withdraw(WithdrawRequest),
    Close(CloseRequest),
}

impl BatchAction {
    /// Which action it is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Accept(_) => ActionKind::Accept,
            Self::Reject(_) => ActionKind::Reject,
            Self::Forward(_) => ActionKind::Forward,
            Self::Withdraw(_) => ActionKind::Withdraw,
            Self::Close(_) => ActionKind::Close,
        }
    }
}

/// `POST /v1/referrals/batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub items: Vec<BatchItem>,
}

/// A batch item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    Applied,
    Conflict,
    NotFound,
    Invalid,
    Forbidden,
}

impl BatchOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Conflict => "conflict",
            Self::NotFound => "not_found",
            Self::Invalid => "invalid",
            Self::Forbidden => "forbidden",
        }
    }
}

/// One item's result, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub id: String,
    pub outcome: BatchOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<Referral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<Referral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

/// Counts of each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchSummary {
    pub applied: u32,
    pub conflict: u32,
    pub not_found: u32,
    pub invalid: u32,
    pub forbidden: u32,
}

impl BatchSummary {
    pub fn count(&mut self, outcome: BatchOutcome) {
        match outcome {
            BatchOutcome::Applied => self.applied += 1,
            BatchOutcome::Conflict => self.conflict += 1,
            BatchOutcome::NotFound => self.not_found += 1,
            BatchOutcome::Invalid => self.invalid += 1,
            BatchOutcome::Forbidden => self.forbidden += 1,
        }
    }
}

/// The batch answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
    pub summary: BatchSummary,
}
