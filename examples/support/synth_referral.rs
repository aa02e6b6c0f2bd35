//! Made-up referrals for `inbox_bench`: built in memory as the server
//! would send them to acme-web (no store, no HTTP), with fresh
//! allocations for every string, as JSON decoding makes them.

use leadx::demo::world::{LeadFactory, commission, sender_note};
use leadx::domain::validate::validate_lead;
use leadx::wire::{DecidedBy, Name, Partner, ReasonCode, Referral, Status, Timestamp};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::ME;

/// One referral as the server would send it to acme-web: a demo-world
/// lead (company, domain, contact, summary, value, region), a status mix
/// that depends on its age, decisions, forward chains, masked contacts.
pub fn synth_referral(
    rng: &mut StdRng,
    leads: &mut LeadFactory,
    partners: &[Partner],
    i: usize,
    now: Timestamp,
) -> Referral {
    let others: Vec<&Partner> = partners.iter().filter(|p| p.id != ME).collect();
    let other = *others.choose(rng).expect("partners");
    let incoming = !i.is_multiple_of(3);
    let input = super::lead_from(rng, leads, other);
    let lead = validate_lead(&input).expect("a demo lead is valid");
    let age = chrono::Duration::seconds(rng.random_range(0..30 * 86_400));
    let created = now - age;
    let young = age < chrono::Duration::hours(72);
    let roll = rng.random_range(0..100);
    let status = if young {
        match roll {
            0..60 => Status::Pending,
            60..85 => Status::Accepted,
            85..95 => Status::Rejected,
            _ => Status::Forwarded,
        }
    } else {
        match roll {
            0..30 => Status::Expired,
            30..65 => Status::Accepted,
            65..80 => Status::Rejected,
            80..90 => Status::Won,
            90..95 => Status::Lost,
            _ => Status::Forwarded,
        }
    };
    let (from, to) = if incoming {
        (other.id.clone(), ME.to_string())
    } else {
        (ME.to_string(), other.id.clone())
    };
    let mut chain = vec![from.clone(), to.clone()];
    if incoming && rng.random_bool(0.1) {
        let first = others.choose(rng).expect("partners").id.clone();
        if first != from {
            chain.insert(0, first);
        }
    }
    let decided = !matches!(status, Status::Pending | Status::Expired);
    let decided_at = decided.then(|| {
        created + chrono::Duration::seconds(rng.random_range(60..(age.num_seconds().max(61))))
    });
    let decider = if incoming { ME } else { other.id.as_str() };
    let mut r = Referral {
        id: format!("r_{}", ulid::Ulid::new()),
        version: if decided { 2 } else { 1 },
        status,
        from_partner: from.into(),
        to_partner: to.into(),
        lead,
        contact_masked: false,
        commission_pct: commission(rng, other.kind),
        note: sender_note(rng),
        decision_note: (status == Status::Accepted)
            .then(|| "Thanks! Calling them tomorrow".to_string()),
        created_at: created,
        updated_at: decided_at.unwrap_or(created),
        expires_at: created + chrono::Duration::hours(72),
        decided_at,
        // Fresh allocations per referral, as JSON decoding makes them: the
        // inbox's interning is what shares them.
        decided_by: decided.then(|| {
            std::sync::Arc::new(DecidedBy {
                user: "u_decider".into(),
                name: "Sam Ortiz".into(),
                partner: decider.into(),
            })
        }),
        reason: (status == Status::Rejected).then(|| {
            Box::new(leadx::wire::Reason {
                code: *ReasonCode::ALL.choose(rng).expect("codes"),
                note: Some("Outside our region this quarter".into()),
            })
        }),
        outcome: matches!(status, Status::Won | Status::Lost).then(|| {
            Box::new(leadx::wire::Outcome {
                value_cents: Some(rng.random_range(1..500) * 10_000),
                note: None,
            })
        }),
        parent_id: None,
        forwarded_to: (status == Status::Forwarded).then(|| other.id.clone()),
        chain: chain.into_iter().map(Name::from).collect(),
    };
    // The receiver sees the contact only once it accepted.
    if incoming && !matches!(status, Status::Accepted | Status::Won | Status::Lost) {
        r.mask_contact();
    }
    r
}
