//! What `accept|reject|forward|withdraw` read before acting: the
//! referrals named or matched (for their versions), and the partner a
//! forward goes to.

use std::collections::{HashMap, HashSet};

use super::select::Selector;
use super::{Failure, LIST_PAGE, client_failure, read_within};
use crate::client::{Client, ClientError};
use crate::sanitize::clean_line;
use crate::wire::{
    ActionKind, ApiError, BatchOutcome, BatchResult, ErrorCode, Referral, ReferralBox, Status,
    Timestamp,
};

/// Ids up to this many are read one by one; more, with one list.
const GET_EACH_UP_TO: usize = 50;

/// The side of the caller's referrals `kind` applies to (to pending ones):
/// incoming, or outgoing for withdraw.
pub(super) fn box_for(kind: ActionKind) -> ReferralBox {
    if kind == ActionKind::Withdraw {
        ReferralBox::Outgoing
    } else {
        ReferralBox::Incoming
    }
}

/// The referrals to act on, and what was known to fail before sending.
pub(super) struct Plan {
    /// In the order given, each once.
    pub(super) targets: Vec<Referral>,
    /// Ids that could not be read, with their outcome.
    pub(super) missing: Vec<BatchResult>,
    /// How many the query matched that the action does not apply to.
    pub(super) skipped: usize,
}

/// The result of an id that failed when it was read, as if the batch had
/// said so.
fn local_result(id: &str, outcome: BatchOutcome, e: &ClientError) -> BatchResult {
    let error = match e {
        ClientError::Api { error, .. } => error.clone(),
        other => ApiError::new(ErrorCode::Unknown, other.to_string()),
    };
    BatchResult {
        id: id.to_owned(),
        outcome,
        referral: None,
        forwarded: None,
        error: Some(error),
    }
}

/// A forward to a partner the directory does not hold is refused before
/// anything is read or sent, with the closest id when it looks like a typo.
pub(super) async fn check_partner(
    client: &Client,
    to: &str,
    retry_for: Option<u64>,
) -> Result<(), Failure> {
    let partners = read_within(retry_for, || client.partners(None))
        .await
        .map_err(|e| client_failure("reading the partner directory", &e))?;
    if partners.iter().any(|p| p.id == to) {
        return Ok(());
    }
    let hint = crate::suggest::did_you_mean(to, partners.iter().map(|p| p.id.as_str()));
    Err(Failure::usage(format!(
        "forward: no partner {} on the exchange{hint}",
        clean_line(&format!("{to:?}"))
    )))
}

/// Reads each id (one list when there are many), in the order given,
/// each once.
pub(super) async fn plan_ids(
    client: &Client,
    ids: &[String],
    retry_for: Option<u64>,
) -> Result<Plan, Failure> {
    let mut seen = HashSet::new();
    let ids: Vec<&String> = ids.iter().filter(|id| seen.insert(id.as_str())).collect();
    let mut known: HashMap<String, Referral> = HashMap::new();
    if ids.len() > GET_EACH_UP_TO {
        let (items, _) = read_within(retry_for, || {
            client.list_all_with(ReferralBox::All, &[], LIST_PAGE)
        })
        .await
        .map_err(|e| client_failure("reading the referrals", &e))?;
        known = items.into_iter().map(|r| (r.id.clone(), r)).collect();
    }
    let mut plan = Plan {
        targets: Vec::new(),
        missing: Vec::new(),
        skipped: 0,
    };
    for id in ids {
        if let Some(r) = known.remove(id.as_str()) {
            plan.targets.push(r);
            continue;
        }
        match read_within(retry_for, || client.get(id)).await {
            Ok(r) => plan.targets.push(r),
            Err(e) if e.code() == Some(ErrorCode::NotFound) => {
                plan.missing
                    .push(local_result(id, BatchOutcome::NotFound, &e));
            }
            Err(e) if e.is_definite() && e.status() != Some(401) => {
                plan.missing
                    .push(local_result(id, BatchOutcome::Invalid, &e));
            }
            Err(e) => return Err(client_failure(&format!("reading {}", clean_line(id)), &e)),
        }
    }
    Ok(plan)
}

/// The caller's referrals that match the query, split into those the
/// action applies to (pending, on the action's side) and the rest.
pub(super) async fn plan_query(
    client: &Client,
    kind: ActionKind,
    selector: &Selector,
    now: Timestamp,
    retry_for: Option<u64>,
) -> Result<Plan, Failure> {
    let (items, _) = read_within(retry_for, || {
        client.list_all_with(box_for(kind), &[], LIST_PAGE)
    })
    .await
    .map_err(|e| client_failure("reading the referrals", &e))?;
    let matched = selector.select(items, now);
    let (targets, rest): (Vec<Referral>, Vec<Referral>) = matched
        .into_iter()
        .partition(|r| r.status == Status::Pending);
    Ok(Plan {
        targets,
        missing: Vec::new(),
        skipped: rest.len(),
    })
}
