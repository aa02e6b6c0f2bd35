//! The demo world's cast and props: fictional carriers, hosts, web
//! integrators and design-shop affiliates, and the material leads are made
//! of (companies, people, needs, values, notes). Everything here is pure and
//! driven by the caller's RNG, so a seeded RNG gives the same world every
//! time. Every name is invented; every domain ends in `.example`.
//!
//! - `partners.rs`: the cast ([`fn@partners`]) and who sends or sells what;
//! - `leads.rs`: the material of leads (companies, people, needs, values)
//!   and the [`LeadFactory`] that makes them;
//! - `notes.rs`: commissions asked and the notes written at each step.

use rand::Rng;

mod leads;
mod notes;
mod partners;

pub use leads::{LeadFactory, currency_for, lead_region, person_name, value_cents};
pub use notes::{
    accept_note, close_action, close_note, commission, forward_note, reject_note, sender_note,
};
pub use partners::{partners, pick_sender, sellers, staff_partner, trading_partners};

/// The integrator whose inbox the demo opens.
pub const DEMO_PARTNER: &str = "acme-web";
/// The exchange staff's own partner (home of the demo operator).
pub const STAFF_PARTNER: &str = "exchange-ops";
/// The seed of the demo world's RNG.
pub const WORLD_SEED: u64 = 0x1EAD_5EED_2026;
/// Regions leads and partners live in.
pub const REGIONS: [&str; 5] = ["US-West", "US-East", "EU-Central", "UK", "APAC"];

/// Picks one of weighted items (weights need not sum to anything).
pub fn pick_weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items.last().expect("at least one weighted item").0
}
