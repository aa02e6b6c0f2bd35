//! What partners ask and say as a lead moves: the commission a sender asks
//! for and the notes written on sending, accepting, forwarding, rejecting
//! and closing.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::domain::Action;
use crate::wire::{CloseStatus, OutcomeInput, PartnerKind, ReasonCode};

/// A commission a sender of this kind asks for: affiliates live on
/// commissions (up to 30%), others trade at 5-15%.
pub fn commission(rng: &mut impl Rng, sender: PartnerKind) -> u32 {
    match sender {
        PartnerKind::Affiliate => *[10, 15, 20, 20, 25, 30].choose(rng).expect("pcts"),
        _ => *[5, 8, 10, 10, 12, 15].choose(rng).expect("pcts"),
    }
}

/// The note a sender attaches (sometimes none).
pub fn sender_note(rng: &mut impl Rng) -> Option<String> {
    const NOTES: &[&str] = &[
        "Warm intro; their CTO expects a call this week",
        "Met them at the regional meetup, budget approved for Q1",
        "Existing customer of ours; this is outside what we do",
        "Prefers email to phone calls",
        "Decision by the end of the month, three vendors shortlisted",
        "Referred by their accountant, who is a friend of ours",
        "They asked for someone local to them",
        "Urgent: current provider gave notice",
        "Second location opening in spring, more work likely after",
        "Price-sensitive, but loyal once happy",
        "Board meets on the 15th; proposal needed before then",
        "Called us twice already, very keen",
        "We built their old site; happy to make the intro",
    ];
    rng.random_bool(0.85)
        .then(|| NOTES.choose(rng).expect("notes").to_string())
}

/// The note an accepting partner adds (sometimes none).
pub fn accept_note(rng: &mut impl Rng) -> Option<String> {
    const NOTES: &[&str] = &[
        "Thanks! Calling them tomorrow",
        "On it, discovery call booked",
        "Good fit for our team, taking it",
        "Accepted; will update you after the first meeting",
        "We know them, great intro",
    ];
    rng.random_bool(0.7)
        .then(|| NOTES.choose(rng).expect("notes").to_string())
}

/// The note on a forward to `to_name`.
pub fn forward_note(rng: &mut impl Rng, to_name: &str, region: &str) -> Option<String> {
    let notes = [
        format!("Not our region; {to_name} covers {region}"),
        format!("They need more than we offer; {to_name} is a better fit"),
        format!("Passing to {to_name}, who did similar work last year"),
        "Outside our stack, forwarding to a trusted partner".to_string(),
        format!("Capacity is full this quarter; {to_name} can start now"),
    ];
    rng.random_bool(0.9)
        .then(|| notes.choose(rng).expect("notes").clone())
}

/// A reject note for this reason (always one for `other`, which needs it).
pub fn reject_note(rng: &mut impl Rng, code: ReasonCode) -> Option<String> {
    let notes: &[&str] = match code {
        ReasonCode::UnclearNeed => &[
            "Could not tell what they want; please add scope",
            "Two calls and still no brief",
        ],
        ReasonCode::UnableToSupport => &[
            "We do not cover that region",
            "Fully booked until next quarter",
            "Beyond our team's size",
        ],
        ReasonCode::Duplicate => &[
            "Already in talks with them directly",
            "Came to us last week through another partner",
        ],
        ReasonCode::WrongPartner => &[
            "We only do design, not hosting",
            "This is a bandwidth deal; try a carrier",
        ],
        ReasonCode::Other => &[
            "Conflict of interest: they are a competitor's subsidiary",
            "Customer asked us not to be contacted",
            "Credit check failed last time we worked with them",
        ],
    };
    if code == ReasonCode::Other || rng.random_bool(0.6) {
        Some(notes.choose(rng).expect("notes").to_string())
    } else {
        None
    }
}

/// Closing a lead won or lost: a won lead's value is its estimate give or
/// take (60% to 130%, rounded to hundreds), with a note.
pub fn close_action(rng: &mut impl Rng, won: bool, estimate_cents: Option<i64>) -> Action {
    let value_cents = if won {
        estimate_cents
            .map(|v| ((v as f64) * rng.random_range(0.6..1.3) / 10_000.0).round() as i64 * 10_000)
    } else {
        None
    };
    Action::Close {
        status: if won {
            CloseStatus::Won
        } else {
            CloseStatus::Lost
        },
        outcome: OutcomeInput {
            value_cents,
            note: close_note(rng, won),
        },
    }
}

/// The note on closing a lead won or lost.
pub fn close_note(rng: &mut impl Rng, won: bool) -> Option<String> {
    let notes: &[&str] = if won {
        &[
            "Signed a 24-month contract",
            "Phase one signed, phase two likely",
            "Closed after a pilot, annual billing",
            "Signed; commission invoice to follow",
        ]
    } else {
        &[
            "Went with an in-house team",
            "Budget cut after a reorganisation",
            "Lost on price to a larger agency",
            "Project postponed indefinitely",
            "No response after the proposal",
        ]
    };
    rng.random_bool(0.85)
        .then(|| notes.choose(rng).expect("notes").to_string())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn other_reject_reasons_always_carry_a_note() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            assert!(reject_note(&mut rng, ReasonCode::Other).is_some());
        }
    }
}
