//! The exchange's rules for changing referrals, pure.
//!
//! Given the referral as stored, the actor, the action and the time, decide
//! the new state or the error, judged in the protocol's order: 404 (not
//! visible) → 403 (role, side) → 422 (rules) → 409 (version, status). The
//! store runs these inside its write transaction; nothing here does I/O.
//! Lookups the rules need (is a partner known, which hops of a domain are
//! open) come in as closures.

use std::sync::Arc;

use chrono::{Duration, Timelike};

use super::may::{may, may_role};
use super::types::{Action, ActionItem, Actor, Applied, DomainError, OpenHop, StoredReferral};
use super::validate::{
    check_cents, check_commission, check_expires, check_text, invalid, normalize_domain,
    validate_lead,
};
use super::visibility::can_see;
use crate::wire::{
    ActionKind, CloseStatus, CreateReferral, DecidedBy, MAX_CHAIN, Name, Outcome, Reason,
    ReasonCode, Referral, Status, Timestamp,
};

/// `decided_by` for this actor.
pub fn decided_by(actor: &Actor) -> Arc<DecidedBy> {
    Arc::new(DecidedBy {
        user: Name::from(&actor.user_id),
        name: Name::from(&actor.user_name),
        partner: Name::from(&actor.partner_id),
    })
}

fn forbidden(message: impl Into<String>) -> DomainError {
    DomainError::Forbidden {
        message: message.into(),
    }
}

/// Decides a send (`POST /v1/referrals`): 403 role → 422 rules → 409
/// duplicate. `known_partner` says whether a partner id exists;
/// `open_hops` lists the open hops whose lead has this normalised domain.
/// On success the new pending hop, id `new_id`, version 1.
pub fn decide_create(
    actor: &Actor,
    request: &CreateReferral,
    now: Timestamp,
    known_partner: &dyn Fn(&str) -> bool,
    open_hops: &dyn Fn(&str) -> Vec<OpenHop>,
    new_id: String,
) -> Result<StoredReferral, DomainError> {
    may_role(actor.role, "send").map_err(|e| forbidden(e.to_string()))?;
    if request.to_partner == actor.partner_id {
        return Err(invalid(
            "to_partner",
            "you cannot send a referral to yourself",
        ));
    }
    if !known_partner(&request.to_partner) {
        return Err(invalid(
            "to_partner",
            format!("no partner {:?} on the exchange", request.to_partner),
        ));
    }
    let lead = validate_lead(&request.lead)?;
    check_commission("commission_pct", request.commission_pct)?;
    let hours = check_expires("expires_in_hours", request.expires_in_hours)?;
    check_text("note", request.note.as_deref())?;

    if let Some(domain) = lead.domain.as_deref().and_then(normalize_domain) {
        let open = open_hops(&domain);
        if !open.is_empty() {
            let mine = open
                .iter()
                .find(|h| h.from_partner == actor.partner_id || h.to_partner == actor.partner_id);
            return Err(match mine {
                Some(h) => DomainError::Duplicate {
                    message: format!("a lead for {domain} is already open: {}", h.id),
                    existing_id: Some(h.id.clone()),
                },
                None => DomainError::Duplicate {
                    message: format!("a lead for {domain} is already being worked on the exchange"),
                    existing_id: None,
                },
            });
        }
    }

    Ok(StoredReferral {
        referral: Referral {
            id: new_id,
            version: 1,
            status: Status::Pending,
            from_partner: Name::from(&actor.partner_id),
            to_partner: Name::from(&request.to_partner),
            lead,
            contact_masked: false,
            commission_pct: request.commission_pct.unwrap_or(0),
            note: request.note.clone(),
            decision_note: None,
            created_at: now,
            updated_at: now,
            expires_at: now + Duration::hours(i64::from(hours)),
            decided_at: None,
            decided_by: None,
            reason: None,
            outcome: None,
            parent_id: None,
            forwarded_to: None,
            chain: Arc::from([
                Name::from(&actor.partner_id),
                Name::from(&request.to_partner),
            ]),
        },
        accepted_partner: None,
    })
}

/// The statuses an action may start from.
fn allowed_from(action: &Action) -> Status {
    match action {
        Action::Close { .. } => Status::Accepted,
        _ => Status::Pending,
    }
}

fn action_kind(action: &Action) -> ActionKind {
    match action {
        Action::Accept { .. } => ActionKind::Accept,
        Action::Reject { .. } => ActionKind::Reject,
        Action::Forward { .. } => ActionKind::Forward,
        Action::Withdraw => ActionKind::Withdraw,
        Action::Close { .. } => ActionKind::Close,
    }
}

/// The status an action of `kind` leaves a referral in (`close`: won or
/// lost, so none).
pub fn status_after(kind: ActionKind) -> Option<Status> {
    match kind {
        ActionKind::Accept => Some(Status::Accepted),
        ActionKind::Reject => Some(Status::Rejected),
        ActionKind::Forward => Some(Status::Forwarded),
        ActionKind::Withdraw => Some(Status::Withdrawn),
        ActionKind::Close => None,
    }
}

/// Whether `r` is already what the user `user_id` doing `kind` makes of
/// it (accept, reject, withdraw): asking again is done, not a conflict. A
/// forward is never "the same" again (it names a new hop), nor a close.
pub fn already_done_by(kind: ActionKind, r: &Referral, user_id: &str) -> bool {
    matches!(
        kind,
        ActionKind::Accept | ActionKind::Reject | ActionKind::Withdraw
    ) && status_after(kind) == Some(r.status)
        && r.decided_by.as_ref().is_some_and(|d| *d.user == *user_id)
}

/// `10:42` on the same UTC day as `now`, else `2026-11-25 10:42`.
fn at(t: Timestamp, now: Timestamp) -> String {
    if t.date_naive() == now.date_naive() {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Who decided a referral and when, for a human: `accepted by Dana Reyes
/// (acme-web) at 10:42`, `expired at 09:14`, `pending, last changed at 09:20`.
pub fn describe(r: &Referral, now: Timestamp) -> String {
    let when = at(r.decided_at.unwrap_or(r.updated_at), now);
    let verb = match r.status {
        Status::Pending => return format!("pending, last changed at {}", at(r.updated_at, now)),
        Status::Expired => return format!("expired at {when}"),
        Status::Accepted => "accepted",
        Status::Rejected => "rejected",
        Status::Forwarded => "forwarded",
        Status::Withdrawn => "withdrawn",
        Status::Won => "closed as won",
        Status::Lost => "closed as lost",
    };
    match &r.decided_by {
        Some(by) => format!("{verb} by {} ({}) at {when}", by.name, by.partner),
        None => format!("{verb} at {when}"),
    }
}

fn conflict(current: &StoredReferral, message: String) -> DomainError {
    DomainError::Conflict {
        message,
        current: Box::new(current.clone()),
    }
}

/// Decides one action on one referral. `known_partner` says whether a
/// partner id exists (forward); `new_id` gives the child's id (called only
/// for an applied forward). The result holds the changed referral and, on
/// a forward, the new hop.
pub fn decide(
    current: &StoredReferral,
    actor: &Actor,
    item: &ActionItem,
    now: Timestamp,
    known_partner: &dyn Fn(&str) -> bool,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Applied, DomainError> {
    let r = &current.referral;
    // 404: the referral is not this actor's to know about.
    if r.id != item.id || !can_see(current, actor) {
        return Err(DomainError::NotFound);
    }
    // 403: role, then side (the one rule, `domain::may`).
    may(actor.role, &actor.partner_id, action_kind(&item.action), r)
        .map_err(|e| forbidden(e.to_string()))?;
    // 422: the action's own rules.
    match &item.action {
        Action::Accept { note } => {
            check_text("note", note.as_deref())?;
            if r.status == Status::Pending && current.accepted_partner.is_some() {
                return Err(DomainError::Invalid {
                    field: None,
                    message: "this lead already has an accepted hop".into(),
                });
            }
        }
        Action::Reject { reason } => {
            check_text("reason.note", reason.note.as_deref())?;
            let blank = reason.note.as_deref().is_none_or(|n| n.trim().is_empty());
            if reason.code == ReasonCode::Other && blank {
                return Err(invalid(
                    "reason.note",
                    "reason code other needs a note saying why",
                ));
            }
        }
        Action::Forward {
            to_partner,
            note,
            commission_pct,
            expires_in_hours,
        } => {
            if !known_partner(to_partner) {
                return Err(invalid(
                    "to_partner",
                    format!("no partner {to_partner:?} on the exchange"),
                ));
            }
            if r.chain.iter().any(|p| p == to_partner) {
                return Err(invalid(
                    "to_partner",
                    format!("this lead has already passed through {to_partner}"),
                ));
            }
            if r.chain.len() >= MAX_CHAIN {
                return Err(invalid(
                    "to_partner",
                    format!(
                        "a lead passes through at most {} hops; this one has used them all",
                        MAX_CHAIN - 1
                    ),
                ));
            }
            check_commission("commission_pct", *commission_pct)?;
            check_expires("expires_in_hours", *expires_in_hours)?;
            check_text("note", note.as_deref())?;
        }
        Action::Withdraw => {}
        Action::Close { outcome, .. } => {
            check_cents("outcome.value_cents", outcome.value_cents)?;
            check_text("outcome.note", outcome.note.as_deref())?;
        }
    }
    // 409: status, then version.
    if r.status != allowed_from(&item.action) {
        return Err(conflict(current, describe(r, now)));
    }
    if r.version != item.version {
        return Err(conflict(
            current,
            format!(
                "changed since version {}: now version {}, {}",
                item.version,
                r.version,
                describe(r, now)
            ),
        ));
    }

    let mut next = current.clone();
    let n = &mut next.referral;
    n.version += 1;
    n.updated_at = now;
    let mut forwarded = None;
    if let Some(status) = status_after(action_kind(&item.action)) {
        n.status = status;
    }
    match &item.action {
        Action::Accept { note } => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = note.clone();
            next.accepted_partner = Some(r.to_partner.to_string());
        }
        Action::Reject { reason } => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.reason = Some(Box::new(Reason {
                code: reason.code,
                note: reason.note.clone(),
            }));
        }
        Action::Forward {
            to_partner,
            note,
            commission_pct,
            expires_in_hours,
        } => {
            let child_id = new_id();
            let hours = check_expires("expires_in_hours", *expires_in_hours)?;
            let chain: Arc<[Name]> = r
                .chain
                .iter()
                .cloned()
                .chain([Name::from(to_partner)])
                .collect();
            let child = Referral {
                id: child_id.clone(),
                version: 1,
                status: Status::Pending,
                from_partner: Name::from(&actor.partner_id),
                to_partner: Name::from(to_partner),
                lead: r.lead.clone(),
                contact_masked: false,
                commission_pct: commission_pct.unwrap_or(r.commission_pct),
                note: note.clone(),
                decision_note: None,
                created_at: now,
                updated_at: now,
                expires_at: now + Duration::hours(i64::from(hours)),
                decided_at: None,
                decided_by: None,
                reason: None,
                outcome: None,
                parent_id: Some(r.id.clone()),
                forwarded_to: None,
                chain,
            };
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = note.clone();
            n.forwarded_to = Some(child_id);
            forwarded = Some(StoredReferral {
                referral: child,
                accepted_partner: current.accepted_partner.clone(),
            });
        }
        Action::Withdraw => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
        }
        Action::Close { status, outcome } => {
            n.status = match status {
                CloseStatus::Won => Status::Won,
                CloseStatus::Lost => Status::Lost,
            };
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = outcome.note.clone();
            n.outcome = Some(Box::new(Outcome {
                value_cents: outcome.value_cents,
                note: outcome.note.clone(),
            }));
        }
    }
    Ok(Applied {
        referral: next,
        forwarded,
    })
}

/// Whether a referral is due to expire at `now`.
pub fn is_due(r: &Referral, now: Timestamp) -> bool {
    r.status == Status::Pending && r.expires_at <= now
}

/// Expires a pending referral at `now` (`decided_by` stays null); `None`
/// when it is not due.
pub fn expire(current: &StoredReferral, now: Timestamp) -> Option<StoredReferral> {
    if !is_due(&current.referral, now) {
        return None;
    }
    let mut next = current.clone();
    let n = &mut next.referral;
    n.status = Status::Expired;
    n.version += 1;
    n.updated_at = now;
    n.decided_at = Some(now);
    n.decided_by = None;
    Some(next)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::{LeadInput, OutcomeInput, ReasonInput, Role, parse_timestamp};

    fn t(s: &str) -> Timestamp {
        parse_timestamp(s).unwrap()
    }

    fn now() -> Timestamp {
        t("2026-11-26T10:42:00Z")
    }

    fn actor(partner: &str, role: Role) -> Actor {
        Actor {
            user_id: format!("u_{partner}"),
            user_name: "Dana Reyes".into(),
            partner_id: partner.into(),
            partner_name: partner.to_uppercase(),
            role,
        }
    }

    fn known(p: &str) -> bool {
        [
            "northwind-net",
            "acme-web",
            "blue-host",
            "pixel-shop",
            "fox-design",
            "gale-net",
        ]
        .contains(&p)
    }

    fn no_open(_: &str) -> Vec<OpenHop> {
        Vec::new()
    }

    fn create_req() -> CreateReferral {
        CreateReferral {
            to_partner: "acme-web".into(),
            lead: LeadInput {
                company: Some("Main Street Bakery".into()),
                domain: Some("www.MainStreetBakery.example".into()),
                contact_name: Some("Sam".into()),
                category: Some("hosting".into()),
                ..LeadInput::default()
            },
            commission_pct: Some(15),
            note: Some("warm".into()),
            expires_in_hours: None,
        }
    }

    pub(crate) fn pending() -> StoredReferral {
        decide_create(
            &actor("northwind-net", Role::Agent),
            &create_req(),
            t("2026-11-26T09:14:03Z"),
            &known,
            &no_open,
            "r_1".into(),
        )
        .unwrap()
    }

    fn item(action: Action, version: u64) -> ActionItem {
        ActionItem {
            id: "r_1".into(),
            version,
            action,
        }
    }

    fn run(cur: &StoredReferral, who: &Actor, it: &ActionItem) -> Result<Applied, DomainError> {
        let mut n = 0;
        decide(cur, who, it, now(), &known, &mut || {
            n += 1;
            format!("r_child{n}")
        })
    }

    fn accept() -> Action {
        Action::Accept { note: None }
    }

    fn forward(to: &str) -> Action {
        Action::Forward {
            to_partner: to.into(),
            note: Some("better fit".into()),
            commission_pct: None,
            expires_in_hours: None,
        }
    }

    fn kind(e: &DomainError) -> &'static str {
        match e {
            DomainError::NotFound => "404",
            DomainError::Forbidden { .. } => "403",
            DomainError::Invalid { .. } => "422",
            DomainError::Conflict { .. } => "409",
            DomainError::Duplicate { .. } => "409dup",
        }
    }

    fn field(e: &DomainError) -> Option<&str> {
        match e {
            DomainError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn create_builds_a_pending_hop() {
        let s = pending();
        let r = &s.referral;
        assert_eq!(r.version, 1);
        assert_eq!(r.status, Status::Pending);
        assert_eq!(*r.chain, ["northwind-net", "acme-web"]);
        assert_eq!(r.expires_at, t("2026-11-29T09:14:03Z"));
        assert_eq!(r.commission_pct, 15);
        assert_eq!(r.lead.currency, "USD");
        assert_eq!(
            r.lead.domain.as_deref(),
            Some("www.MainStreetBakery.example")
        );
        assert!(!r.contact_masked);
        assert_eq!(s.accepted_partner, None);
    }

    #[test]
    fn create_checks_in_order() {
        let send = |who: &Actor, req: &CreateReferral, open: &dyn Fn(&str) -> Vec<OpenHop>| {
            decide_create(who, req, now(), &known, open, "r_9".into())
        };
        let agent = actor("northwind-net", Role::Agent);
        for role in [Role::Viewer, Role::Operator] {
            let mut bad = create_req();
            bad.lead.company = None;
            let e = send(&actor("northwind-net", role), &bad, &no_open).unwrap_err();
            assert_eq!(kind(&e), "403", "{role:?} before 422");
        }
        let mut r = create_req();
        r.to_partner = "nobody".into();
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("to_partner")
        );
        r.to_partner = "northwind-net".into();
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("to_partner")
        );
        let mut r = create_req();
        r.lead.company = Some(String::new());
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("lead.company")
        );
        let mut r = create_req();
        r.lead.currency = Some("usd".into());
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("lead.currency")
        );
        let mut r = create_req();
        r.commission_pct = Some(101);
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("commission_pct")
        );
        let mut r = create_req();
        r.expires_in_hours = Some(0);
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("expires_in_hours")
        );
        r.expires_in_hours = Some(721);
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("expires_in_hours")
        );
        let mut r = create_req();
        r.note = Some("n".repeat(4001));
        assert_eq!(
            field(&send(&agent, &r, &no_open).unwrap_err()),
            Some("note")
        );
        // 422 is judged before the duplicate 409.
        let open = |d: &str| {
            assert_eq!(d, "mainstreetbakery.example");
            vec![OpenHop {
                id: "r_open".into(),
                from_partner: "blue-host".into(),
                to_partner: "acme-web".into(),
            }]
        };
        let mut r = create_req();
        r.commission_pct = Some(200);
        assert_eq!(kind(&send(&agent, &r, &open).unwrap_err()), "422");
    }

    #[test]
    fn duplicate_names_the_hop_only_to_its_parties() {
        let open = |_: &str| {
            vec![OpenHop {
                id: "r_open".into(),
                from_partner: "blue-host".into(),
                to_partner: "acme-web".into(),
            }]
        };
        let stranger = actor("northwind-net", Role::Agent);
        let mut req = create_req();
        req.to_partner = "pixel-shop".into();
        match decide_create(&stranger, &req, now(), &known, &open, "r_9".into()) {
            Err(DomainError::Duplicate {
                existing_id,
                message,
            }) => {
                assert_eq!(existing_id, None);
                assert!(!message.contains("r_open"));
            }
            other => panic!("{other:?}"),
        }
        let party = actor("acme-web", Role::Agent);
        req.to_partner = "pixel-shop".into();
        match decide_create(&party, &req, now(), &known, &open, "r_9".into()) {
            Err(DomainError::Duplicate { existing_id, .. }) => {
                assert_eq!(existing_id.as_deref(), Some("r_open"))
            }
            other => panic!("{other:?}"),
        }
        // No domain: never a duplicate.
        req.lead.domain = None;
        assert!(decide_create(&party, &req, now(), &known, &open, "r_9".into()).is_ok());
        req.lead.domain = Some("www.".into());
        assert!(decide_create(&party, &req, now(), &known, &open, "r_9".into()).is_ok());
    }

    #[test]
    fn accept_sets_decision_and_accepted_partner() {
        let cur = pending();
        let a = run(
            &cur,
            &actor("acme-web", Role::Agent),
            &item(
                Action::Accept {
                    note: Some("calling".into()),
                },
                1,
            ),
        )
        .unwrap();
        let r = &a.referral.referral;
        assert_eq!(r.status, Status::Accepted);
        assert_eq!(r.version, 2);
        assert_eq!(r.updated_at, now());
        assert_eq!(r.decided_at, Some(now()));
        assert_eq!(r.decided_by.as_ref().unwrap().partner, "acme-web");
        assert_eq!(r.decision_note.as_deref(), Some("calling"));
        assert_eq!(a.referral.accepted_partner.as_deref(), Some("acme-web"));
        assert!(a.forwarded.is_none());
        // Admins act too.
        assert!(run(&cur, &actor("acme-web", Role::Admin), &item(accept(), 1)).is_ok());
    }

    #[test]
    fn order_404_before_403_before_422_before_409() {
        let cur = pending();
        let stale_bad_reject = item(
            Action::Reject {
                reason: ReasonInput {
                    code: ReasonCode::Other,
                    note: None,
                },
            },
            7,
        );
        // A stranger's viewer: 404, not 403.
        let e = run(&cur, &actor("pixel-shop", Role::Viewer), &stale_bad_reject).unwrap_err();
        assert_eq!(kind(&e), "404");
        // The recipient's viewer: 403, not 422.
        let e = run(&cur, &actor("acme-web", Role::Viewer), &stale_bad_reject).unwrap_err();
        assert_eq!(kind(&e), "403");
        // Operators see everything but act on nothing.
        let e = run(&cur, &actor("exchange", Role::Operator), &stale_bad_reject).unwrap_err();
        assert_eq!(kind(&e), "403");
        // The wrong side: 403 before 422.
        let e = run(
            &cur,
            &actor("northwind-net", Role::Agent),
            &stale_bad_reject,
        )
        .unwrap_err();
        assert_eq!(kind(&e), "403");
        // The right side: 422 before the stale version's 409.
        let e = run(&cur, &actor("acme-web", Role::Agent), &stale_bad_reject).unwrap_err();
        assert_eq!(field(&e), Some("reason.note"));
        // A valid action at a stale version: 409 with current.
        let e = run(&cur, &actor("acme-web", Role::Agent), &item(accept(), 7)).unwrap_err();
        match e {
            DomainError::Conflict { current, message } => {
                assert_eq!(current.referral.version, 1);
                assert!(message.contains("version 7"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // Wrong id in the item is never applied to this referral.
        let mut other_id = item(accept(), 1);
        other_id.id = "r_2".into();
        assert_eq!(
            kind(&run(&cur, &actor("acme-web", Role::Agent), &other_id).unwrap_err()),
            "404"
        );
    }

    #[test]
    fn sides() {
        let cur = pending();
        let sender = actor("northwind-net", Role::Agent);
        let recipient = actor("acme-web", Role::Agent);
        for a in [accept(), forward("blue-host")] {
            assert_eq!(kind(&run(&cur, &sender, &item(a, 1)).unwrap_err()), "403");
        }
        assert_eq!(
            kind(&run(&cur, &recipient, &item(Action::Withdraw, 1)).unwrap_err()),
            "403"
        );
        let w = run(&cur, &sender, &item(Action::Withdraw, 1)).unwrap();
        assert_eq!(w.referral.referral.status, Status::Withdrawn);
        assert_eq!(
            w.referral.referral.decided_by.unwrap().partner,
            "northwind-net"
        );
        let close = Action::Close {
            status: CloseStatus::Won,
            outcome: OutcomeInput::default(),
        };
        let accepted = run(&cur, &recipient, &item(accept(), 1)).unwrap().referral;
        assert_eq!(
            kind(&run(&accepted, &sender, &item(close, 2)).unwrap_err()),
            "403"
        );
    }

    #[test]
    fn reject_reasons() {
        let cur = pending();
        let recipient = actor("acme-web", Role::Agent);
        let reject = |code, note: Option<&str>| {
            item(
                Action::Reject {
                    reason: ReasonInput {
                        code,
                        note: note.map(String::from),
                    },
                },
                1,
            )
        };
        assert_eq!(
            field(&run(&cur, &recipient, &reject(ReasonCode::Other, Some("  "))).unwrap_err()),
            Some("reason.note")
        );
        let long = "x".repeat(4001);
        assert_eq!(
            field(
                &run(
                    &cur,
                    &recipient,
                    &reject(ReasonCode::UnclearNeed, Some(&long))
                )
                .unwrap_err()
            ),
            Some("reason.note")
        );
        let ok = run(&cur, &recipient, &reject(ReasonCode::Other, Some("not us"))).unwrap();
        let r = ok.referral.referral;
        assert_eq!(r.status, Status::Rejected);
        assert_eq!(
            r.reason,
            Some(Box::new(Reason {
                code: ReasonCode::Other,
                note: Some("not us".into())
            }))
        );
        let ok = run(&cur, &recipient, &reject(ReasonCode::WrongPartner, None)).unwrap();
        assert_eq!(
            ok.referral.referral.reason.unwrap().code,
            ReasonCode::WrongPartner
        );
    }

    #[test]
    fn forward_makes_a_child_hop() {
        let cur = pending();
        let a = run(
            &cur,
            &actor("acme-web", Role::Agent),
            &item(forward("blue-host"), 1),
        )
        .unwrap();
        let parent = &a.referral.referral;
        let child = &a.forwarded.as_ref().unwrap().referral;
        assert_eq!(parent.status, Status::Forwarded);
        assert_eq!(parent.version, 2);
        assert_eq!(parent.forwarded_to.as_deref(), Some("r_child1"));
        assert_eq!(parent.decision_note.as_deref(), Some("better fit"));
        assert_eq!(child.id, "r_child1");
        assert_eq!(child.version, 1);
        assert_eq!(child.status, Status::Pending);
        assert_eq!(child.from_partner, "acme-web");
        assert_eq!(child.to_partner, "blue-host");
        assert_eq!(*child.chain, ["northwind-net", "acme-web", "blue-host"]);
        assert_eq!(child.parent_id.as_deref(), Some("r_1"));
        assert_eq!(child.commission_pct, 15);
        assert_eq!(child.expires_at, now() + Duration::hours(72));
        assert_eq!(child.note.as_deref(), Some("better fit"));
        assert_eq!(child.lead, parent.lead);
        assert_eq!(child.created_at, now());

        let own = Action::Forward {
            to_partner: "blue-host".into(),
            note: None,
            commission_pct: Some(5),
            expires_in_hours: Some(2),
        };
        let a = run(&cur, &actor("acme-web", Role::Agent), &item(own, 1)).unwrap();
        let child = a.forwarded.unwrap().referral;
        assert_eq!(child.commission_pct, 5);
        assert_eq!(child.expires_at, now() + Duration::hours(2));
    }

    #[test]
    fn forward_rules() {
        let cur = pending();
        let recipient = actor("acme-web", Role::Agent);
        for to in ["nobody", "northwind-net", "acme-web"] {
            let e = run(&cur, &recipient, &item(forward(to), 1)).unwrap_err();
            assert_eq!(field(&e), Some("to_partner"), "{to}");
        }
        let bad = |commission_pct, expires_in_hours| Action::Forward {
            to_partner: "blue-host".into(),
            note: None,
            commission_pct,
            expires_in_hours,
        };
        let e = run(&cur, &recipient, &item(bad(Some(101), None), 1)).unwrap_err();
        assert_eq!(field(&e), Some("commission_pct"));
        let e = run(&cur, &recipient, &item(bad(None, Some(721)), 1)).unwrap_err();
        assert_eq!(field(&e), Some("expires_in_hours"));

        // Walk the lead to a full chain of five, then the fifth hop is 422.
        let mut hop = cur;
        let path = ["blue-host", "pixel-shop", "fox-design"];
        for to in path {
            let me = actor(&hop.referral.to_partner, Role::Agent);
            let mut it = item(forward(to), hop.referral.version);
            it.id = hop.referral.id.clone();
            hop = run(&hop, &me, &it).unwrap().forwarded.unwrap();
        }
        assert_eq!(hop.referral.chain.len(), 5);
        let me = actor("fox-design", Role::Agent);
        let mut it = item(forward("gale-net"), 1);
        it.id = hop.referral.id.clone();
        let e = run(&hop, &me, &it).unwrap_err();
        assert_eq!(field(&e), Some("to_partner"));
        // 422 even on a stale version: rules before version.
        it.version = 9;
        assert_eq!(kind(&run(&hop, &me, &it).unwrap_err()), "422");
    }

    #[test]
    fn close_and_status_conflicts() {
        let cur = pending();
        let recipient = actor("acme-web", Role::Agent);
        let close = |status| Action::Close {
            status,
            outcome: OutcomeInput {
                value_cents: Some(990_000),
                note: Some("signed".into()),
            },
        };
        // Close on a pending one: 409 naming its state.
        let e = run(&cur, &recipient, &item(close(CloseStatus::Won), 1)).unwrap_err();
        assert_eq!(kind(&e), "409");
        let accepted = run(&cur, &recipient, &item(accept(), 1)).unwrap().referral;
        let won = run(&accepted, &recipient, &item(close(CloseStatus::Won), 2))
            .unwrap()
            .referral;
        let r = &won.referral;
        assert_eq!(r.status, Status::Won);
        assert_eq!(r.version, 3);
        assert_eq!(r.outcome.as_ref().unwrap().value_cents, Some(990_000));
        assert_eq!(r.decision_note.as_deref(), Some("signed"));
        assert_eq!(won.accepted_partner.as_deref(), Some("acme-web"));
        let lost = run(&accepted, &recipient, &item(close(CloseStatus::Lost), 2)).unwrap();
        assert_eq!(lost.referral.referral.status, Status::Lost);
        let neg = Action::Close {
            status: CloseStatus::Won,
            outcome: OutcomeInput {
                value_cents: Some(-1),
                note: None,
            },
        };
        assert_eq!(
            field(&run(&accepted, &recipient, &item(neg, 2)).unwrap_err()),
            Some("outcome.value_cents")
        );
        // A second accept loses with who decided and when.
        match run(&accepted, &recipient, &item(accept(), 1)).unwrap_err() {
            DomainError::Conflict { message, current } => {
                assert_eq!(message, "accepted by Dana Reyes (acme-web) at 10:42");
                assert_eq!(current.referral.status, Status::Accepted);
            }
            other => panic!("{other:?}"),
        }
        // Final statuses refuse everything.
        let e = run(&won, &recipient, &item(close(CloseStatus::Lost), 3)).unwrap_err();
        assert_eq!(kind(&e), "409");
    }

    #[test]
    fn one_accepted_hop_per_lead() {
        let mut cur = pending();
        cur.accepted_partner = Some("blue-host".into());
        let e = run(&cur, &actor("acme-web", Role::Agent), &item(accept(), 1)).unwrap_err();
        assert_eq!(kind(&e), "422");
    }

    #[test]
    fn expiry() {
        let cur = pending();
        assert!(expire(&cur, t("2026-11-29T09:14:02Z")).is_none());
        let due = t("2026-11-29T09:14:03Z");
        let e = expire(&cur, due).unwrap();
        assert_eq!(e.referral.status, Status::Expired);
        assert_eq!(e.referral.version, 2);
        assert_eq!(e.referral.decided_at, Some(due));
        assert_eq!(e.referral.decided_by, None);
        assert_eq!(e.referral.updated_at, due);
        assert!(expire(&e, due).is_none());
        assert_eq!(describe(&e.referral, due), "expired at 09:14");
        assert_eq!(
            describe(&e.referral, t("2026-11-30T01:00:00Z")),
            "expired at 2026-11-29 09:14"
        );
    }

    #[test]
    fn describe_names_the_decider() {
        let cur = pending();
        let w = run(
            &cur,
            &actor("northwind-net", Role::Agent),
            &item(Action::Withdraw, 1),
        )
        .unwrap()
        .referral;
        assert_eq!(
            describe(&w.referral, now()),
            "withdrawn by Dana Reyes (northwind-net) at 10:42"
        );
        assert_eq!(
            describe(&cur.referral, now()),
            "pending, last changed at 09:14"
        );
    }
}
