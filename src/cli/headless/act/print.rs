//! What acting prints: a line per outcome (`r_... accepted`, `r_...
//! conflict: ...`) and, for `--dry-run`, the plan.

use std::io::{self, Write};

use super::Verb;
use crate::cli::headless::output::money;
use crate::cli::headless::plan::{Plan, box_for};
use crate::domain::rules::describe;
use crate::sanitize::clean_line;
use crate::wire::{ActionKind, BatchOutcome, BatchResult, Status, Timestamp};

/// `r_... accepted`, `r_... conflict: accepted by Dana Reyes (acme-web) at 10:42`.
pub(in crate::cli::headless) fn outcome_line(
    kind: ActionKind,
    result: &BatchResult,
    now: Timestamp,
) -> String {
    let id = clean_line(&result.id);
    let message = || {
        result
            .error
            .as_ref()
            .map(|e| clean_line(&e.message))
            .filter(|m| !m.is_empty())
    };
    match result.outcome {
        BatchOutcome::Applied => {
            let past = match kind {
                ActionKind::Accept => "accepted".to_owned(),
                ActionKind::Reject => {
                    match result.referral.as_ref().and_then(|r| r.reason.as_ref()) {
                        Some(reason) => format!("rejected ({})", reason.code.as_str()),
                        None => "rejected".to_owned(),
                    }
                }
                ActionKind::Forward => match &result.forwarded {
                    Some(child) => format!(
                        "forwarded to {} as {}",
                        clean_line(&child.to_partner),
                        clean_line(&child.id)
                    ),
                    None => "forwarded".to_owned(),
                },
                ActionKind::Withdraw => "withdrawn".to_owned(),
                ActionKind::Close => "closed".to_owned(),
            };
            format!("{id} {past}")
        }
        BatchOutcome::Conflict => {
            let why = result
                .error
                .as_ref()
                .and_then(|e| e.current.as_deref())
                .map(|cur| clean_line(&describe(cur, now)))
                .or_else(message)
                .unwrap_or_else(|| "changed meanwhile".to_owned());
            format!("{id} conflict: {why}")
        }
        BatchOutcome::NotFound => format!("{id} not found"),
        BatchOutcome::Invalid => match message() {
            Some(m) => format!("{id} invalid: {m}"),
            None => format!("{id} invalid"),
        },
        BatchOutcome::Forbidden => match message() {
            Some(m) => format!("{id} forbidden: {m}"),
            None => format!("{id} forbidden"),
        },
    }
}

/// `would accept 3 referrals:` then one line each, and what is skipped.
pub(super) fn write_plan(
    out: &mut dyn Write,
    kind: ActionKind,
    verb: &Verb,
    plan: &Plan,
    now: Timestamp,
) -> io::Result<()> {
    let n = plan.targets.len();
    let what = match verb {
        Verb::Accept { .. } | Verb::Withdraw => String::new(),
        Verb::Reject { code, .. } => format!(" ({})", code.as_str()),
        Verb::Forward { to, .. } => format!(" to {}", clean_line(to)),
    };
    writeln!(
        out,
        "would {} {n} referral{}{what}{}",
        kind.as_str(),
        if n == 1 { "" } else { "s" },
        if n == 0 { "" } else { ":" }
    )?;
    for r in &plan.targets {
        let mut line = format!(
            "  {}  {}  {} → {}  {}",
            clean_line(&r.id),
            r.status.as_str(),
            clean_line(&r.from_partner),
            clean_line(&r.to_partner),
            clean_line(&r.lead.company),
        );
        let value = money(r.lead.est_value_cents, &r.lead.currency);
        if !value.is_empty() {
            line.push_str("  ");
            line.push_str(&value);
        }
        if r.status != Status::Pending {
            line.push_str(&format!("  (now {})", clean_line(&describe(r, now))));
        }
        writeln!(out, "{line}")?;
    }
    for result in &plan.missing {
        writeln!(out, "  {}", outcome_line(kind, result, now))?;
    }
    if plan.skipped > 0 {
        writeln!(
            out,
            "({} skipped: not pending {})",
            plan.skipped,
            box_for(kind).as_str()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::headless::report::Tally;

    #[test]
    fn tally_line_names_only_what_happened() {
        let mut t = Tally::default();
        for _ in 0..197 {
            t.count(BatchOutcome::Applied);
        }
        for _ in 0..3 {
            t.count(BatchOutcome::Conflict);
        }
        t.count(BatchOutcome::NotFound);
        assert_eq!(t.line(), "197 applied · 3 conflict · 1 not found");
        assert!(!t.all_applied());
        let mut ok = Tally::default();
        ok.count(BatchOutcome::Applied);
        assert_eq!(ok.line(), "1 applied");
        assert!(ok.all_applied());
        assert_eq!(Tally::default().line(), "0 applied");
    }
}
