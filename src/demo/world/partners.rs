//! The demo world's cast: carriers and hosts, web integrators, design-shop
//! affiliates and the exchange staff, and who among them sends or sells
//! what.

use rand::Rng;

use super::{DEMO_PARTNER, STAFF_PARTNER, pick_weighted};
use crate::wire::{Partner, PartnerKind};

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
    use std::collections::HashSet;

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
}
