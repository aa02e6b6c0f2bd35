//! What leads are made of: companies, people, needs, values, regions,
//! currencies and phone numbers, and the [`LeadFactory`] that puts them
//! together with domains that never repeat.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

use super::pick_weighted;
use crate::wire::LeadInput;

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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::super::REGIONS;
    use super::*;

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
}
