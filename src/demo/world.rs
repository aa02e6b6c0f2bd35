//! The demo world's cast and props: fictional carriers, hosts, web
//! integrators and design-shop affiliates, and the material leads are made
//! of (companies, people, needs, values, notes). Everything here is pure and
//! driven by the caller's RNG, so a seeded RNG gives the same world every
//! time. Every name is invented; every domain ends in `.example`.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::wire::{LeadInput, Partner, PartnerKind, ReasonCode};

/// The integrator whose inbox the demo opens.
pub const DEMO_PARTNER: &str = "acme-web";
/// The exchange staff's own partner (home of the demo operator).
pub const STAFF_PARTNER: &str = "exchange-ops";
/// The seed of the demo world's RNG.
pub const WORLD_SEED: u64 = 0x1EAD_5EED_2026;
/// Regions leads and partners live in.
pub const REGIONS: [&str; 5] = ["US-West", "US-East", "EU-Central", "UK", "APAC"];

/// A partner as written down here.
struct Spec {
    id: &'static str,
    name: &'static str,
    categories: &'static [&'static str],
    regions: &'static [&'static str],
}

const PROVIDERS: &[Spec] = &[
    Spec {
        id: "northwind-net",
        name: "Northwind Networks",
        categories: &["bandwidth", "colocation"],
        regions: &["US-West", "US-East"],
    },
    Spec {
        id: "bluepeak-fiber",
        name: "Bluepeak Fiber",
        categories: &["bandwidth"],
        regions: &["US-East", "UK", "EU-Central"],
    },
    Spec {
        id: "harbor-hosting",
        name: "Harbor Hosting",
        categories: &["hosting", "colocation"],
        regions: &["US-West", "US-East", "EU-Central"],
    },
    Spec {
        id: "stratus-cloud",
        name: "Stratus Cloud Hosting",
        categories: &["hosting", "bandwidth"],
        regions: &["EU-Central", "UK", "APAC"],
    },
];

const INTEGRATORS: &[Spec] = &[
    Spec {
        id: DEMO_PARTNER,
        name: "Acme Web Studio",
        categories: &["services", "design", "ecommerce", "hosting"],
        regions: &["US-West", "US-East"],
    },
    Spec {
        id: "pixelforge",
        name: "PixelForge Interactive",
        categories: &["services", "design"],
        regions: &["US-West"],
    },
    Spec {
        id: "brightlane-digital",
        name: "Brightlane Digital",
        categories: &["services", "ecommerce"],
        regions: &["US-East"],
    },
    Spec {
        id: "cobalt-code",
        name: "Cobalt Code Works",
        categories: &["services", "hosting"],
        regions: &["US-East", "UK"],
    },
    Spec {
        id: "fernhill-interactive",
        name: "Fernhill Interactive",
        categories: &["design", "services"],
        regions: &["UK"],
    },
    Spec {
        id: "lumen-works",
        name: "Lumen Works GmbH",
        categories: &["ecommerce", "design"],
        regions: &["EU-Central"],
    },
    Spec {
        id: "orbital-integrations",
        name: "Orbital Integrations",
        categories: &["services", "hosting"],
        regions: &["US-West", "APAC"],
    },
    Spec {
        id: "quarry-labs",
        name: "Quarry Labs",
        categories: &["services"],
        regions: &["US-East"],
    },
    Spec {
        id: "redwood-systems",
        name: "Redwood Systems",
        categories: &["services", "hosting"],
        regions: &["US-West"],
    },
    Spec {
        id: "tidewater-tech",
        name: "Tidewater Tech",
        categories: &["ecommerce", "services"],
        regions: &["US-East"],
    },
    Spec {
        id: "kestrel-digital",
        name: "Kestrel Digital",
        categories: &["design", "ecommerce"],
        regions: &["EU-Central", "UK"],
    },
    Spec {
        id: "sunward-solutions",
        name: "Sunward Solutions",
        categories: &["services", "ecommerce", "hosting"],
        regions: &["APAC"],
    },
];

/// Design shops: (id, name, region).
const AFFILIATES: &[(&str, &str, &str)] = &[
    ("paper-crane-design", "Paper Crane Design", "US-West"),
    ("little-fox-studio", "Little Fox Studio", "US-East"),
    ("inkwell-creative", "Inkwell Creative", "UK"),
    ("blue-heron-design", "Blue Heron Design", "US-East"),
    ("copperleaf-studio", "Copperleaf Studio", "US-West"),
    ("mosaic-and-co", "Mosaic & Co.", "EU-Central"),
    ("north-star-creative", "North Star Creative", "US-East"),
    ("hollow-oak-design", "Hollow Oak Design", "UK"),
    ("pinwheel-studio", "Pinwheel Studio", "US-West"),
    ("lantern-design-co", "Lantern Design Co.", "US-East"),
    ("saltbox-creative", "Saltbox Creative", "US-East"),
    ("fieldnotes-studio", "Fieldnotes Studio", "US-West"),
    ("goldfinch-design", "Goldfinch Design", "UK"),
    ("marigold-creative", "Marigold Creative", "APAC"),
    ("tin-roof-studio", "Tin Roof Studio", "US-West"),
    ("quill-and-pixel", "Quill & Pixel", "UK"),
    ("redbrick-design", "Redbrick Design", "US-East"),
    ("seafoam-studio", "Seafoam Studio", "APAC"),
    ("driftwood-creative", "Driftwood Creative", "US-West"),
    ("kite-and-compass", "Kite & Compass", "EU-Central"),
    ("ember-studio", "Ember Studio", "US-East"),
    ("bright-fern-design", "Bright Fern Design", "EU-Central"),
    ("mapleline-creative", "Mapleline Creative", "US-East"),
    ("wildflower-web", "Wildflower Web Design", "US-West"),
    ("ironwood-design", "Ironwood Design", "US-East"),
    ("parcel-and-post", "Parcel & Post Studio", "UK"),
    ("swallowtail-studio", "Swallowtail Studio", "EU-Central"),
    ("juniper-creative", "Juniper Creative", "US-West"),
    ("slate-and-chalk", "Slate & Chalk Design", "UK"),
    ("honeycomb-studio", "Honeycomb Studio", "US-East"),
    ("orchard-lane-design", "Orchard Lane Design", "US-West"),
    ("moonrise-creative", "Moonrise Creative", "APAC"),
    ("blackbird-design", "Blackbird Design Co.", "US-East"),
    ("cloudberry-studio", "Cloudberry Studio", "EU-Central"),
    ("petal-and-pine", "Petal & Pine Design", "US-West"),
    ("sandstone-creative", "Sandstone Creative", "APAC"),
    ("riverstone-studio", "Riverstone Studio", "US-East"),
    ("lighthouse-design", "Lighthouse Design", "UK"),
    ("foxglove-creative", "Foxglove Creative", "EU-Central"),
    ("tandem-studio", "Tandem Studio", "US-West"),
];

fn spec_partner(spec: &Spec, kind: PartnerKind) -> Partner {
    Partner {
        id: spec.id.to_string(),
        name: spec.name.to_string(),
        kind,
        categories: spec.categories.iter().map(|c| c.to_string()).collect(),
        regions: spec.regions.iter().map(|r| r.to_string()).collect(),
    }
}

/// Every partner of the demo world: providers, integrators, affiliates,
/// then the exchange staff's partner.
pub fn partners() -> Vec<Partner> {
    let mut all = Vec::new();
    all.extend(
        PROVIDERS
            .iter()
            .map(|s| spec_partner(s, PartnerKind::Provider)),
    );
    all.extend(
        INTEGRATORS
            .iter()
            .map(|s| spec_partner(s, PartnerKind::Integrator)),
    );
    for (i, (id, name, region)) in AFFILIATES.iter().enumerate() {
        let categories: &[&str] = match i % 4 {
            0 => &["design", "ecommerce"],
            1 => &["design", "branding"],
            _ => &["design"],
        };
        all.push(Partner {
            id: id.to_string(),
            name: name.to_string(),
            kind: PartnerKind::Affiliate,
            categories: categories.iter().map(|c| c.to_string()).collect(),
            regions: vec![region.to_string()],
        });
    }
    all.push(staff_partner());
    all
}

/// The exchange staff's partner. It is on the directory like any other
/// (the protocol knows no other kind) but sends and receives no leads.
pub fn staff_partner() -> Partner {
    Partner {
        id: STAFF_PARTNER.to_string(),
        name: "Exchange Operations".to_string(),
        kind: PartnerKind::Provider,
        categories: vec!["operations".to_string()],
        regions: Vec::new(),
    }
}

/// Partners that trade leads (everyone but the staff partner).
pub fn trading_partners() -> Vec<Partner> {
    partners()
        .into_iter()
        .filter(|p| p.id != STAFF_PARTNER)
        .collect()
}

const FIRST_NAMES: &[&str] = &[
    "Dana", "Priya", "Morgan", "Sam", "Elena", "Marcus", "Aisha", "Tom", "Keiko", "Luis", "Hannah",
    "Omar", "Grace", "Felix", "Nadia", "Ben", "Ingrid", "Rahul", "Chloe", "Diego", "Maya", "Jonas",
    "Fatima", "Oliver", "Sofia", "Wei", "Lena", "Patrick", "Amara", "Hugo", "Zoë", "Tariq",
    "Jürgen", "Siobhán", "José",
];

const LAST_NAMES: &[&str] = &[
    "Reyes",
    "Raman",
    "Ellis",
    "Ortiz",
    "Novak",
    "Bennett",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Fischer",
    "Haddad",
    "Whitfield",
    "Castillo",
    "Brennan",
    "Kowalski",
    "Nakamura",
    "Osei",
    "Park",
    "Sullivan",
    "Varga",
    "Adeyemi",
    "Schmidt",
    "Holloway",
    "Mendes",
    "Quinn",
    "Larsen",
    "Chowdhury",
    "Dubois",
    "Byrne",
];

/// A fictional person's full name.
pub fn person_name(rng: &mut impl Rng) -> String {
    let first = FIRST_NAMES.choose(rng).expect("names");
    let last = LAST_NAMES.choose(rng).expect("names");
    format!("{first} {last}")
}

const PLACES: &[&str] = &[
    "Main Street",
    "Harborview",
    "Oak Hollow",
    "Riverside",
    "Northgate",
    "Maple Ridge",
    "Copper Hill",
    "Bayside",
    "Cedar Point",
    "Westbrook",
    "Fairmont",
    "Kingsbury",
    "Elm Park",
    "Lakeshore",
    "Stonebridge",
    "Highland",
    "Greenway",
    "Brightwater",
    "Old Town",
    "Summit",
    "Pine Valley",
    "Silver Creek",
    "Mission",
    "Hillcrest",
    "Foxhall",
    "Birchwood",
    "Redfield",
    "Southbank",
    "Eastgate",
    "Clearwater",
    "Granite",
    "Willow",
    "Ashford",
    "Sunset",
    "Meadowbrook",
    "Blue Ridge",
    "Greystone",
    "Larkspur",
    "Marlow",
    "Thornbury",
    "Union Square",
    "Ferry Street",
    "Tall Pines",
    "Harvest Moon",
    "Quayside",
    "Lindenhöhe",
    "Søndergaard",
    "Île Verte",
    "Königsallee",
];

/// Kinds of business and the words their names end with.
const SECTORS: &[&[&str]] = &[
    &["Bakery", "Bread Co.", "Patisserie"],
    &["Dental", "Family Dentistry", "Orthodontics"],
    &["Medical Clinic", "Health Partners", "Physiotherapy"],
    &["Law Group", "Legal LLP", "Solicitors"],
    &["Brewing Co.", "Brewery", "Ale Works"],
    &["Software", "Labs", "Analytics", "Systems"],
    &[
        "Academy",
        "Montessori School",
        "Prep School",
        "Community College",
    ],
    &["Animal Hospital", "Veterinary Clinic"],
    &["Inn", "Hotel", "Lodge"],
    &["Kitchen", "Bistro", "Noodle Bar", "Taqueria"],
    &["Architects", "Design Build"],
    &["Accounting", "Tax & Advisory", "CPAs"],
    &["Realty", "Property Group"],
    &["Food Bank", "Arts Council", "Foundation"],
    &["Fitness", "Yoga", "Climbing Gym"],
    &["Bike Shop", "Books", "Florist", "Hardware", "Outfitters"],
    &["Coffee Roasters", "Coffee Co."],
    &["Logistics", "Freight", "Movers"],
    &["Manufacturing", "Precision Parts", "Woodworks"],
    &["Credit Union", "Insurance Brokers", "Wealth Partners"],
    &["Vineyards", "Wine Merchants", "Cellars"],
];

fn summaries(category: &str) -> &'static [&'static str] {
    match category {
        "bandwidth" => &[
            "Dedicated 1 Gbps internet for a new office, install within 60 days",
            "Redundant 10G uplinks for a second site",
            "SD-WAN across 14 branches, replacing MPLS at renewal",
            "Dark fibre between two campuses, about 6 km",
            "Backup circuit after three outages this quarter",
            "Upgrade from 200 Mbps cable to symmetric fibre",
            "IP transit with BGP for their own /24",
        ],
        "colocation" => &[
            "Half rack with remote hands, power up to 4 kW",
            "Two racks, 10 kW each, cross-connects to a cloud on-ramp",
            "Moving out of a closet server room before the lease ends",
            "Cage for 6 racks with 24/7 access and biometric entry",
            "Disaster-recovery footprint in a second metro",
        ],
        "hosting" => &[
            "Managed hosting for an e-commerce relaunch",
            "Move 40 WordPress sites off shared hosting",
            "HIPAA-ready hosting for a patient portal",
            "Managed Kubernetes for a SaaS product, 3 environments",
            "Hosting with a 99.95% SLA and daily off-site backups",
            "Migrate a legacy PHP app from a VPS that keeps falling over",
            "GDPR-compliant hosting inside the EU for a booking system",
        ],
        "services" => &[
            "Rebuild of the customer portal, single sign-on included",
            "Integrate online booking with their practice-management system",
            "Replace a spreadsheet workflow with a small internal app",
            "Accessibility audit and fixes ahead of a WCAG 2.2 deadline",
            "API integration between their ERP and the web shop",
            "Ongoing retainer for a marketing site and landing pages",
            "Member portal with payments and event sign-ups",
        ],
        "design" => &[
            "Brand refresh and a new marketing site",
            "Logo, menus and signage for a second location",
            "Redesign of a dated site, mobile first",
            "Design system for a SaaS dashboard",
            "Annual report and donor pages for a campaign",
            "Packaging and label design for a new product line",
        ],
        "branding" => &[
            "Naming and visual identity for a spin-off",
            "Brand guidelines after a merger",
            "Rebrand ahead of a 25th anniversary",
        ],
        "ecommerce" => &[
            "Shopify Plus migration from an old Magento 1 store",
            "Online ordering with local delivery and pickup slots",
            "B2B shop with customer-specific price lists",
            "Subscription boxes with recurring billing",
            "Marketplace listings synced with their inventory system",
            "Checkout rebuild to cut cart abandonment",
        ],
        _ => &["General enquiry; details on the first call"],
    }
}

/// Typical value range of a lead of this category, in whole currency units.
fn value_range(category: &str) -> (f64, f64) {
    match category {
        "bandwidth" => (6_000.0, 250_000.0),
        "colocation" => (10_000.0, 250_000.0),
        "hosting" => (2_000.0, 120_000.0),
        "services" => (5_000.0, 250_000.0),
        "ecommerce" => (5_000.0, 150_000.0),
        "design" => (2_000.0, 40_000.0),
        "branding" => (2_000.0, 30_000.0),
        _ => (2_000.0, 20_000.0),
    }
}

/// An estimated value in cents, log-distributed and skewed towards the
/// small end of the category's range, rounded to 100 units.
pub fn value_cents(rng: &mut impl Rng, category: &str) -> i64 {
    let (lo, hi) = value_range(category);
    let u: f64 = rng.random::<f64>().powf(1.6);
    let units = (lo.ln() + (hi.ln() - lo.ln()) * u).exp();
    let rounded = ((units / 100.0).round() * 100.0).clamp(lo, hi);
    rounded as i64 * 100
}

/// A region for a lead: mostly North America, as on the real exchange.
pub fn lead_region(rng: &mut impl Rng) -> &'static str {
    pick_weighted(
        rng,
        &[
            ("US-West", 35),
            ("US-East", 35),
            ("EU-Central", 12),
            ("UK", 10),
            ("APAC", 8),
        ],
    )
}

/// The currency a lead in this region is usually priced in.
pub fn currency_for(rng: &mut impl Rng, region: &str) -> &'static str {
    match region {
        "EU-Central" if rng.random_bool(0.85) => "EUR",
        "UK" if rng.random_bool(0.85) => "GBP",
        _ => "USD",
    }
}

fn phone(rng: &mut impl Rng, region: &str) -> String {
    // Ranges set aside for fiction where there is one.
    match region {
        "UK" => format!("+44 20 7946 0{:03}", rng.random_range(0..1000)),
        "EU-Central" => format!("+49 30 5550 {:04}", rng.random_range(0..10000)),
        "APAC" => format!("+61 2 5550 {:04}", rng.random_range(0..10000)),
        _ => {
            let area = ["415", "503", "206", "212", "617", "303", "512"]
                .choose(rng)
                .expect("areas");
            format!("+1 {area}-555-01{:02}", rng.random_range(0..100))
        }
    }
}

/// Lower-cased ASCII letters and digits of a name (accents dropped), for
/// domains and emails.
fn squash(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let plain = match c {
            'á' | 'à' | 'â' | 'ä' | 'å' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ç' => "c",
            'ñ' => "n",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => continue,
        };
        out.push_str(plain);
    }
    out
}

/// Makes leads with domains unique among those it has made (or been told
/// are taken), so that a lead never trips duplicate detection by accident.
#[derive(Debug, Default)]
pub struct LeadFactory {
    used_domains: HashSet<String>,
}

impl LeadFactory {
    /// A factory that has made nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks a domain as taken.
    pub fn reserve(&mut self, domain: &str) {
        self.used_domains.insert(domain.to_ascii_lowercase());
    }

    /// A fresh company name and its domain (not yet used by this factory).
    pub fn company(&mut self, rng: &mut impl Rng) -> (String, String) {
        for attempt in 0.. {
            let place = PLACES.choose(rng).expect("places");
            let sector = SECTORS.choose(rng).expect("sectors");
            let word = sector.choose(rng).expect("words");
            let company = format!("{place} {word}");
            let mut domain = format!("{}.example", squash(&company));
            if attempt > 40 {
                domain = format!("{}{}.example", squash(&company), attempt);
            }
            if self.used_domains.insert(domain.clone()) {
                return (company, domain);
            }
        }
        unreachable!("the loop returns once a domain is free")
    }

    /// A complete lead of this category in this region.
    pub fn lead(&mut self, rng: &mut impl Rng, category: &str, region: &str) -> LeadInput {
        let (company, domain) = self.company(rng);
        let first = *FIRST_NAMES.choose(rng).expect("names");
        let last = *LAST_NAMES.choose(rng).expect("names");
        let email = format!("{}.{}@{}", squash(first), squash(last), domain);
        LeadInput {
            company: Some(company),
            domain: Some(domain),
            contact_name: Some(format!("{first} {last}")),
            contact_email: rng.random_bool(0.95).then_some(email),
            contact_phone: rng.random_bool(0.75).then(|| phone(rng, region)),
            category: Some(category.to_string()),
            summary: Some(
                summaries(category)
                    .choose(rng)
                    .expect("summaries")
                    .to_string(),
            ),
            est_value_cents: rng.random_bool(0.92).then(|| value_cents(rng, category)),
            currency: Some(currency_for(rng, region).to_string()),
            region: Some(region.to_string()),
        }
    }
}

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

/// A sender for a new lead: of the partners not in `exclude` (nor the
/// staff), affiliates send about 45% of leads, providers 30% and
/// integrators 25%, whatever their numbers.
pub fn pick_sender<'a>(
    rng: &mut impl Rng,
    partners: &'a [Partner],
    exclude: &[&str],
) -> &'a Partner {
    let eligible: Vec<&Partner> = partners
        .iter()
        .filter(|p| p.id != STAFF_PARTNER && !exclude.contains(&p.id.as_str()))
        .collect();
    let share = |k: PartnerKind| match k {
        PartnerKind::Affiliate => 45,
        PartnerKind::Provider => 30,
        PartnerKind::Integrator => 25,
    };
    let of_kind = |k: PartnerKind| eligible.iter().filter(|p| p.kind == k).count().max(1) as u32;
    let weighted: Vec<(usize, u32)> = eligible
        .iter()
        .enumerate()
        .map(|(i, p)| (i, share(p.kind) * 1000 / of_kind(p.kind)))
        .collect();
    eligible[pick_weighted(rng, &weighted)]
}

/// Partners that sell this category, other than those in `exclude`.
pub fn sellers<'a>(
    partners: &'a [Partner],
    category: &str,
    exclude: &[String],
) -> Vec<&'a Partner> {
    partners
        .iter()
        .filter(|p| p.id != STAFF_PARTNER && !exclude.contains(&p.id))
        .filter(|p| p.categories.iter().any(|c| c == category))
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn is_slug(s: &str) -> bool {
        (2..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    #[test]
    fn the_cast_has_the_right_shape_and_valid_ids() {
        let all = partners();
        let count = |k| all.iter().filter(|p| p.kind == k).count();
        assert_eq!(
            count(PartnerKind::Provider),
            5,
            "4 carriers/hosts and staff"
        );
        assert_eq!(count(PartnerKind::Integrator), 12);
        assert_eq!(count(PartnerKind::Affiliate), 40);
        let ids: HashSet<_> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        for p in &all {
            assert!(is_slug(&p.id), "{} is a slug", p.id);
            assert!(p.name.chars().count() <= crate::wire::MAX_LINE_CHARS);
        }
        assert!(ids.contains(DEMO_PARTNER) && ids.contains(STAFF_PARTNER));
    }

    #[test]
    fn leads_are_complete_unique_fictional_with_ascii_domains() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut factory = LeadFactory::new();
        let mut domains = HashSet::new();
        let mut accented = false;
        for i in 0..500 {
            let category = ["bandwidth", "hosting", "design", "services"][i % 4];
            let lead = factory.lead(&mut rng, category, REGIONS[i % REGIONS.len()]);
            let domain = lead.domain.clone().expect("domain");
            assert!(domain.ends_with(".example"), "{domain}");
            assert!(
                domain
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.'),
                "{domain} is plain ASCII"
            );
            let email = lead.contact_email.clone().unwrap_or_default();
            assert!(email.is_ascii(), "{email}");
            assert!(domains.insert(domain), "domains never repeat");
            assert!(lead.company.is_some() && lead.category.as_deref() == Some(category));
            accented |= !lead.company.as_deref().unwrap_or_default().is_ascii();
            if let Some(v) = lead.est_value_cents {
                assert!((200_000..=25_000_000).contains(&v), "{v} cents");
            }
        }
        assert!(accented, "some names are not plain ASCII, as in life");
    }

    #[test]
    fn values_are_skewed_towards_small_deals() {
        let mut rng = StdRng::seed_from_u64(11);
        let values: Vec<i64> = (0..2000)
            .map(|_| value_cents(&mut rng, "services"))
            .collect();
        let small = values.iter().filter(|v| **v < 5_000_000).count();
        let big = values.iter().filter(|v| **v > 15_000_000).count();
        assert!(small > big * 3, "small {small}, big {big}");
    }

    #[test]
    fn other_reject_reasons_always_carry_a_note() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            assert!(reject_note(&mut rng, ReasonCode::Other).is_some());
        }
    }
}
