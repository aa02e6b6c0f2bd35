//! Notifications (`[notify]`): the terminal title shows the pending count,
//! and a new incoming lead rings the bell or raises a desktop notification
//! (OSC 9 / OSC 777), optionally only when it matches `notify.query`.
//! Effects as data: the runtime writes the sequences
//! ([`crate::inbox::suspend`]), stripping what could end them. All the
//! text here comes from the model, sanitized on the way in.

use crate::config::Alert;
use crate::inbox::format::money;
use crate::inbox::msg::{Effect, FeedMsg, TermEffect};
use crate::inbox::state::{Pane, State};
use crate::inbox::update::feed::on_feed;
use crate::wire::Status;

/// The terminal title for the state: the partner and the pending count.
pub fn title_text(state: &State) -> String {
    let who = state
        .my_partner()
        .map(|p| format!("leadx {p}"))
        .unwrap_or_else(|| "leadx".to_string());
    if state.me.is_none() {
        return who;
    }
    format!("{who}: {} pending", state.pane(Pane::Incoming).pending)
}

/// Asks for the title when it changed (and `notify.title` is on).
pub(crate) fn title(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.notify.title {
        return;
    }
    let t = title_text(state);
    if state.title_shown.as_deref() != Some(t.as_str()) {
        state.title_shown = Some(t.clone());
        fx.push(Effect::Terminal(TermEffect::Title(t)));
    }
}

/// New-lead alerts closer together than this are one alert (the title
/// still counts every lead).
pub const ALERT_GAP: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// A feed message, then an alert when it brought a new pending lead for
/// this user that `notify.query` (if any) matches, unless one went out
/// within [`ALERT_GAP`].
pub(crate) fn on_feed_notify(state: &mut State, f: FeedMsg, fx: &mut Vec<Effect>) -> bool {
    let new_id = match &f {
        FeedMsg::Event { referral, .. } if state.index_of(&referral.id).is_none() => {
            Some(referral.id.clone())
        }
        _ => None,
    };
    let changed = on_feed(state, f, fx);
    if state.notify.alert == Alert::Off {
        return changed;
    }
    let Some(e) = new_id.and_then(|id| state.entry(&id)) else {
        return changed;
    };
    let r = &e.referral;
    let wanted = r.status == Status::Pending
        && state.pane_of(r) == Some(Pane::Incoming)
        && state
            .my_partner()
            .is_some_and(|me| r.to_partner.as_str() == me)
        && state
            .notify
            .query
            .as_ref()
            .is_none_or(|q| q.matches(r, state.now));
    // A burst of new leads (a partner sending a list, the demo's
    // simulator) rings once, not once a lead.
    let quiet = state
        .alerted_at
        .is_some_and(|at| state.now - at < ALERT_GAP && state.now >= at);
    if wanted && !quiet {
        let body = format!(
            "{} from {} · {}",
            r.lead.company,
            r.from_partner,
            money(r.lead.est_value_cents, &r.lead.currency)
        );
        fx.push(Effect::Terminal(TermEffect::Alert {
            how: state.notify.alert,
            title: "leadx: new lead".to_string(),
            body,
        }));
        state.alerted_at = Some(state.now);
    }
    changed
}
