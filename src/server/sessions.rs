//! Short-lived session credentials: a bearer token issued to a front end
//! running inside this server (the SSH front end, `crate::ssh`) for one
//! user, for as long as one session lasts. It lives only in this server's
//! memory (never in the store), is checked by the same [`super::auth`]
//! extractor as stored tokens, and dies with its [`SessionToken`] guard,
//! or when the user is revoked ([`super::revocation`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::Actor;
use crate::store::common::{new_token, token_hash};

/// The credentials open now, by token hash.
#[derive(Debug, Default)]
pub struct SessionTokens {
    open: Mutex<HashMap<[u8; 32], Actor>>,
}

impl SessionTokens {
    /// A new token for `actor`, valid until the guard is dropped.
    pub fn issue(self: &Arc<Self>, actor: Actor) -> SessionToken {
        let token = format!("lxs_{}", new_token().trim_start_matches("lx_"));
        let hash = hash_of(&token);
        self.open.lock().expect("sessions lock").insert(hash, actor);
        SessionToken {
            token,
            hash,
            owner: self.clone(),
        }
    }

    /// The user of an open session token.
    pub fn find(&self, token: &str) -> Option<Actor> {
        if !token.starts_with("lxs_") {
            return None;
        }
        self.open
            .lock()
            .expect("sessions lock")
            .get(&hash_of(token))
            .cloned()
    }

    /// Ends every session token of a revoked user.
    pub fn revoke_user(&self, user_id: &str) {
        self.open
            .lock()
            .expect("sessions lock")
            .retain(|_, a| a.user_id != user_id);
    }

    /// How many are open (for tests and metrics).
    pub fn len(&self) -> usize {
        self.open.lock().expect("sessions lock").len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn hash_of(token: &str) -> [u8; 32] {
    token_hash(token)
}

/// A session credential; it stops working when this is dropped.
#[derive(Debug)]
pub struct SessionToken {
    token: String,
    hash: [u8; 32],
    owner: Arc<SessionTokens>,
}

impl SessionToken {
    /// The bearer token to give the session's client.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for SessionToken {
    fn drop(&mut self) {
        self.owner
            .open
            .lock()
            .expect("sessions lock")
            .remove(&self.hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Role;

    fn actor(id: &str) -> Actor {
        Actor {
            user_id: id.into(),
            user_name: "Dana".into(),
            partner_id: "acme-web".into(),
            partner_name: "Acme".into(),
            role: Role::Agent,
        }
    }

    #[test]
    fn a_session_token_works_until_dropped_or_revoked() {
        let sessions = Arc::new(SessionTokens::default());
        let a = sessions.issue(actor("u_a"));
        let b = sessions.issue(actor("u_b"));
        assert_eq!(sessions.find(a.token()).unwrap().user_id, "u_a");
        assert!(sessions.find("lxs_0000").is_none());
        assert!(sessions.find(&a.token()[4..]).is_none());
        let copy = a.token().to_owned();
        drop(a);
        assert!(sessions.find(&copy).is_none());
        sessions.revoke_user("u_b");
        assert!(sessions.find(b.token()).is_none());
        drop(b);
        assert!(sessions.is_empty());
    }
}
