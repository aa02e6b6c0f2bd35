use crate::config::{Alert, NotifySettings};
use crate::inbox::msg::{Effect, FeedMsg, Msg, TermEffect};
use crate::inbox::state::State;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{Referral, Role};

fn notifying(query: Option<&str>) -> State {
    let mut s = loaded(Role::Agent, sample());
    s.notify = NotifySettings {
        title: true,
        alert: Alert::Osc777,
        query: query.map(|q| crate::query::Query::parse(q).unwrap()),
    };
    s
}

fn event(s: &mut State, seq: u64, r: Referral) -> Vec<Effect> {
    update(
        s,
        Msg::Feed(FeedMsg::Event {
            seq,
            referral: Box::new(r),
            at: t(NOW),
        }),
    )
}

fn alerts(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Terminal(TermEffect::Alert { body, .. }) => Some(body.clone()),
            _ => None,
        })
        .collect()
}

fn titles(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Terminal(TermEffect::Title(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_incoming_lead_alerts_and_the_title_counts_it() {
    let mut s = notifying(None);
    let fx = update(&mut s, Msg::Resize(80, 24));
    assert_eq!(titles(&fx), ["leadx acme-web: 5 pending"]);
    // Unchanged: not written again.
    assert!(titles(&update(&mut s, Msg::Resize(80, 24))).is_empty());
    let fx = event(
        &mut s,
        200,
        referral("r_50", "hostly", "acme-web", "Evil\u{7}Co\u{1b}]2;x", 0),
    );
    assert_eq!(titles(&fx), ["leadx acme-web: 6 pending"]);
    let a = alerts(&fx);
    assert_eq!(a.len(), 1);
    // Sanitized on the way in: the BEL and ESC are visible placeholders.
    assert!(a[0].starts_with("Evil␇Co␛ from hostly · $12.0k"), "{a:?}");
    assert!(!a[0].chars().any(|c| c.is_control()));
}

#[test]
fn updates_outgoing_leads_and_unmatched_ones_stay_quiet() {
    let mut s = notifying(Some("value:>50k"));
    // An update of a known lead is not new.
    let mut known = s.entry("r_09").unwrap().referral.clone();
    known.version += 1;
    assert!(alerts(&event(&mut s, 201, known)).is_empty());
    // Outgoing: mine, not news.
    assert!(
        alerts(&event(
            &mut s,
            202,
            referral("r_51", "acme-web", "hostly", "Out", 0)
        ))
        .is_empty()
    );
    // Below the query's 50k.
    let small = referral("r_52", "hostly", "acme-web", "Small", 0);
    assert!(alerts(&event(&mut s, 203, small)).is_empty());
    let mut big = referral("r_53", "hostly", "acme-web", "Big", 0);
    big.lead.est_value_cents = Some(9_000_000);
    assert_eq!(alerts(&event(&mut s, 204, big)).len(), 1);
}

#[test]
fn off_means_no_title_and_no_alert() {
    let mut s = loaded(Role::Agent, sample());
    let fx = event(
        &mut s,
        200,
        referral("r_50", "hostly", "acme-web", "New", 0),
    );
    assert!(alerts(&fx).is_empty());
    assert!(titles(&fx).is_empty());
}

#[test]
fn a_burst_of_new_leads_rings_once_and_the_title_counts_them_all() {
    let mut s = notifying(None);
    update(&mut s, Msg::Resize(80, 24));
    let first = event(
        &mut s,
        200,
        referral("r_60", "hostly", "acme-web", "One", 0),
    );
    assert_eq!(alerts(&first).len(), 1);
    let second = event(
        &mut s,
        201,
        referral("r_61", "hostly", "acme-web", "Two", 0),
    );
    assert!(alerts(&second).is_empty(), "a second alert within the gap");
    assert_eq!(titles(&second), ["leadx acme-web: 7 pending"]);
    // Once the gap is over, the next new lead rings again.
    let later = s.now + crate::inbox::update::notify::ALERT_GAP;
    update(&mut s, Msg::Tick(later));
    let third = event(
        &mut s,
        202,
        referral("r_62", "hostly", "acme-web", "Three", 0),
    );
    assert_eq!(alerts(&third).len(), 1);
}
