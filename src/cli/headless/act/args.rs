//! The flags of `leadx accept|reject|forward|withdraw`, checked against the
//! action, and the batch item each referral becomes.

use clap::{Args, ValueEnum};

use crate::cli::headless::{ConnectArgs, Failure};
use crate::sanitize::clean_line;
use crate::wire::{
    AcceptRequest, ActionKind, BatchAction, BatchItem, ForwardRequest, ReasonCode, ReasonInput,
    RejectRequest, WithdrawRequest,
};

/// `leadx accept|reject|forward|withdraw`.
#[derive(Debug, Clone, Args)]
pub struct ActArgs {
    /// The referrals to act on (`r_...`).
    #[arg(
        value_name = "ID",
        required_unless_present = "query",
        conflicts_with = "query"
    )]
    pub ids: Vec<String>,
    /// Act on the caller's referrals that match this query and that the
    /// action applies to (pending incoming; pending outgoing for withdraw).
    /// Acts only with --yes.
    #[arg(long, short = 'q', value_name = "QUERY", allow_hyphen_values = true)]
    pub query: Option<String>,
    /// reject: unclear_need, unable_to_support, duplicate, wrong_partner or
    /// other (other needs --note).
    #[arg(long, value_name = "CODE")]
    pub reason: Option<String>,
    /// forward: the partner to forward to.
    #[arg(long, value_name = "PARTNER")]
    pub to: Option<String>,
    /// A note with the decision (accept, reject, forward).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Print what would be done and do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Act on what --query selects (without it, --query only shows the plan).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Output: a line per referral and a summary (text), or one JSON array
    /// of the per-item results (json; with --dry-run, of the referrals).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ActFormat,
    /// How long to keep retrying when the server does not answer: given,
    /// it covers the first read of the referrals as well as each batch;
    /// not given, the read is tried 3 times and each batch for 120 s.
    #[arg(long, value_name = "SECS")]
    pub retry_for: Option<u64>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How `accept|reject|forward|withdraw` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActFormat {
    /// `r_... accepted` lines and a summary.
    Text,
    /// One JSON array of the batch results.
    Json,
}

/// What one item does besides its version.
#[derive(Debug, Clone)]
pub(super) enum Verb {
    Accept {
        note: Option<String>,
    },
    Reject {
        code: ReasonCode,
        note: Option<String>,
    },
    Forward {
        to: String,
        note: Option<String>,
    },
    Withdraw,
}

impl Verb {
    /// Checks the flags against the action.
    pub(super) fn from_args(kind: ActionKind, args: &ActArgs) -> Result<Self, Failure> {
        let name = kind.as_str();
        if args.reason.is_some() && kind != ActionKind::Reject {
            return Err(Failure::usage(format!(
                "{name} takes no --reason (reject does)"
            )));
        }
        if args.to.is_some() && kind != ActionKind::Forward {
            return Err(Failure::usage(format!(
                "{name} takes no --to (forward does)"
            )));
        }
        let note = args.note.clone().filter(|n| !n.trim().is_empty());
        match kind {
            ActionKind::Accept => Ok(Verb::Accept { note }),
            ActionKind::Reject => {
                let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
                let Some(text) = &args.reason else {
                    return Err(Failure::usage(format!(
                        "reject needs --reason CODE, one of {}",
                        codes.join(", ")
                    )));
                };
                let Some(code) = ReasonCode::parse(text) else {
                    return Err(Failure::usage(format!(
                        "--reason {}: expected one of {}",
                        clean_line(text),
                        codes.join(", ")
                    )));
                };
                if code == ReasonCode::Other && note.is_none() {
                    return Err(Failure::usage("--reason other needs --note TEXT"));
                }
                Ok(Verb::Reject { code, note })
            }
            ActionKind::Forward => match &args.to {
                Some(to) if !to.trim().is_empty() => Ok(Verb::Forward {
                    to: to.trim().to_owned(),
                    note,
                }),
                _ => Err(Failure::usage("forward needs --to PARTNER")),
            },
            ActionKind::Withdraw => {
                if args.note.is_some() {
                    return Err(Failure::usage("withdraw takes no --note"));
                }
                Ok(Verb::Withdraw)
            }
            ActionKind::Close => Err(Failure::usage("close is not a headless command")),
        }
    }

    /// The batch item for referral `id` at `version`.
    pub(super) fn item(&self, id: &str, version: u64) -> BatchItem {
        let action = match self {
            Verb::Accept { note } => BatchAction::Accept(AcceptRequest {
                version,
                note: note.clone(),
            }),
            Verb::Reject { code, note } => BatchAction::Reject(RejectRequest {
                version,
                reason: ReasonInput {
                    code: *code,
                    note: note.clone(),
                },
            }),
            Verb::Forward { to, note } => BatchAction::Forward(ForwardRequest {
                version,
                to_partner: to.clone(),
                note: note.clone(),
                commission_pct: None,
                expires_in_hours: None,
            }),
            Verb::Withdraw => BatchAction::Withdraw(WithdrawRequest { version }),
        };
        BatchItem {
            id: id.to_owned(),
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::headless::EXIT_USAGE;

    fn args() -> ActArgs {
        ActArgs {
            ids: vec!["r_1".into()],
            query: None,
            reason: None,
            to: None,
            note: None,
            dry_run: false,
            yes: false,
            format: ActFormat::Text,
            retry_for: Some(1),
            connect: ConnectArgs::default(),
        }
    }

    #[test]
    fn flags_are_checked_against_the_action() {
        let usage = |r: Result<Verb, Failure>| match r {
            Err(Failure::Message { code, message }) => {
                assert_eq!(code, EXIT_USAGE);
                message
            }
            other => panic!("expected a usage error, got {other:?}"),
        };
        let m = usage(Verb::from_args(ActionKind::Reject, &args()));
        assert!(
            m.contains("--reason") && m.contains("unable_to_support"),
            "{m}"
        );
        let m = usage(Verb::from_args(
            ActionKind::Reject,
            &ActArgs {
                reason: Some("meh".into()),
                ..args()
            },
        ));
        assert!(m.contains("expected one of"), "{m}");
        let m = usage(Verb::from_args(
            ActionKind::Reject,
            &ActArgs {
                reason: Some("other".into()),
                ..args()
            },
        ));
        assert!(m.contains("--note"), "{m}");
        usage(Verb::from_args(ActionKind::Forward, &args()));
        usage(Verb::from_args(
            ActionKind::Accept,
            &ActArgs {
                to: Some("x".into()),
                ..args()
            },
        ));
        assert!(matches!(
            Verb::from_args(
                ActionKind::Reject,
                &ActArgs {
                    reason: Some("duplicate".into()),
                    ..args()
                }
            ),
            Ok(Verb::Reject {
                code: ReasonCode::Duplicate,
                note: None
            })
        ));
    }

    #[test]
    fn items_carry_the_action_fields() {
        let v = Verb::Forward {
            to: "harbor-host".into(),
            note: Some("yours".into()),
        };
        let json = serde_json::to_value(v.item("r_1", 3)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "r_1", "action": "forward", "version": 3,
                "to_partner": "harbor-host", "note": "yours"})
        );
        let json = serde_json::to_value(Verb::Withdraw.item("r_2", 1)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "r_2", "action": "withdraw", "version": 1})
        );
    }
}
