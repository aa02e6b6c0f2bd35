//! The one rule "may this user do this action on this referral", pure,
//! with one wording. The server judges with it (a refusal is a 403
//! `forbidden`, see `rules::decide`), the inbox asks it before sending
//! (and to skip rows of a batch), and the headless CLI reports the
//! server's answer, which is this wording.
//!
//! Only who acts and on which side: what the action's own rules say
//! (422) and whether the referral is still in a state to take it (409)
//! are judged after, in `rules`.

use std::fmt;

use crate::wire::{ActionKind, Referral, Role};

/// Why an actor may not take an action (the server answers 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The role only reads (viewer, operator).
    ReadOnlyRole {
        /// The actor's role.
        role: Role,
        /// What was tried: an action's name, or `send`.
        verb: &'static str,
    },
    /// The wrong side: only the recipient accepts, rejects, forwards and
    /// closes; only the sender withdraws.
    WrongSide {
        /// The action.
        action: ActionKind,
        /// The partner who may.
        only: String,
    },
}

impl Refusal {
    /// Two or three words for a skipped row of a batch.
    pub fn short(&self) -> &'static str {
        match self {
            Self::ReadOnlyRole { .. } => "read-only role",
            Self::WrongSide {
                action: ActionKind::Withdraw,
                ..
            } => "not sent by you",
            Self::WrongSide { .. } => "not sent to you",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadOnlyRole { role, verb } => {
                write!(f, "{}s can read but not {verb}", role.as_str())
            }
            Self::WrongSide {
                action: ActionKind::Withdraw,
                only,
            } => write!(
                f,
                "cannot withdraw this referral: only its sender, {only}, can"
            ),
            Self::WrongSide { action, only } => write!(
                f,
                "cannot {} this referral: only its recipient, {only}, can",
                action.as_str()
            ),
        }
    }
}

/// May a user of this role act at all (`verb`: what they try)?
pub fn may_role(role: Role, verb: &'static str) -> Result<(), Refusal> {
    if role.may_act() {
        Ok(())
    } else {
        Err(Refusal::ReadOnlyRole { role, verb })
    }
}

/// May a user of `role` at `partner` take `action` on `referral`? The role
/// first, then the side.
pub fn may(
    role: Role,
    partner: &str,
    action: ActionKind,
    referral: &Referral,
) -> Result<(), Refusal> {
    may_role(role, action.as_str())?;
    let only = match action {
        ActionKind::Withdraw => &referral.from_partner,
        _ => &referral.to_partner,
    };
    if **only == *partner {
        Ok(())
    } else {
        Err(Refusal::WrongSide {
            action,
            only: only.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pending, sent by northwind-net to acme-web.
    fn hop() -> Referral {
        crate::domain::rules::tests::pending().referral
    }

    #[test]
    fn roles_that_only_read_are_refused_in_one_wording() {
        let r = hop();
        let e = may(Role::Viewer, "acme-web", ActionKind::Accept, &r).unwrap_err();
        assert_eq!(e.to_string(), "viewers can read but not accept");
        assert_eq!(e.short(), "read-only role");
        let e = may(Role::Operator, "acme-web", ActionKind::Reject, &r).unwrap_err();
        assert_eq!(e.to_string(), "operators can read but not reject");
        assert!(may_role(Role::Agent, "send").is_ok());
        assert_eq!(
            may_role(Role::Viewer, "send").unwrap_err().to_string(),
            "viewers can read but not send"
        );
    }

    #[test]
    fn only_the_recipient_decides_and_only_the_sender_withdraws() {
        let r = hop();
        for k in [
            ActionKind::Accept,
            ActionKind::Reject,
            ActionKind::Forward,
            ActionKind::Close,
        ] {
            assert!(may(Role::Agent, "acme-web", k, &r).is_ok(), "{k:?}");
            let e = may(Role::Admin, "northwind-net", k, &r).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "cannot {} this referral: only its recipient, acme-web, can",
                    k.as_str()
                )
            );
            assert_eq!(e.short(), "not sent to you");
        }
        assert!(may(Role::Agent, "northwind-net", ActionKind::Withdraw, &r).is_ok());
        let e = may(Role::Agent, "acme-web", ActionKind::Withdraw, &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot withdraw this referral: only its sender, northwind-net, can"
        );
        assert_eq!(e.short(), "not sent by you");
    }
}
