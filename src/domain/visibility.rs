//! Who may see a referral, and what of it.
//!
//! A referral is visible to the users of its two parties (`from_partner`,
//! `to_partner`) and to operators. Contact fields are shown only to users
//! of the lead's originator (`chain[0]`) and of the partner that accepted a
//! hop of the lead; everyone else, forwarders and operators included, gets
//! them masked.

use crate::domain::{Actor, StoredReferral};
use crate::wire::{Referral, Role};

/// Whether the actor may know this referral exists.
pub fn can_see(stored: &StoredReferral, actor: &Actor) -> bool {
    actor.role == Role::Operator
        || stored.referral.from_partner == actor.partner_id
        || stored.referral.to_partner == actor.partner_id
}

/// Whether the actor sees the lead's contact fields.
pub fn sees_contact(stored: &StoredReferral, actor: &Actor) -> bool {
    if actor.role == Role::Operator {
        return false;
    }
    let originator = stored
        .referral
        .chain
        .first()
        .is_some_and(|c| *c == actor.partner_id);
    let acceptor = stored.accepted_partner.as_deref() == Some(actor.partner_id.as_str());
    originator || acceptor
}

/// The referral as this actor may see it, or `None` when it may not.
pub fn render_for(stored: &StoredReferral, actor: &Actor) -> Option<Referral> {
    if !can_see(stored, actor) {
        return None;
    }
    let mut referral = stored.referral.clone();
    if sees_contact(stored, actor) {
        referral.contact_masked = false;
    } else {
        referral.mask_contact();
    }
    Some(referral)
}
