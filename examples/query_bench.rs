//! Query speed over 100,000 referrals held in memory (the inbox's `/`
//! filter, selection by query, `leadx list --query`), and the same bare word
//! through `fzf --filter` over the same rows rendered as text, if `fzf` is
//! on PATH.
//!
//! `cargo run --release --example query_bench [-- ROWS]`

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use leadx::query::{Query, SortField, SortSpec, TextIndex, sort_referrals};
use leadx::wire::{Lead, Referral, Status, Timestamp, format_timestamp};

const RUNS: usize = 20;
const BARE_WORD: &str = "harbor";

const PREFIXES: &[&str] = &[
    "Main Street",
    "Harbor",
    "Northwind",
    "Blue Sky",
    "Granite",
    "Riverside",
    "Summit",
    "Oak & Ash",
    "Pioneer",
    "Lakeside",
    "Bäckerei Müller",
    "Café Lumière",
    "Redwood",
    "Silverline",
    "Copperfield",
    "Evergreen",
    "Brightpath",
    "Ironbridge",
    "Maple Leaf",
    "Old Town",
];
const SUFFIXES: &[&str] = &[
    "Bakery",
    "Dental",
    "Logistics",
    "Legal LLP",
    "Plumbing",
    "Studio",
    "Motors",
    "Hotel",
    "Clinic",
    "Florist",
    "Software",
    "Consulting",
    "Fitness",
    "Brewery",
    "Architects",
];
const PARTNERS: &[&str] = &[
    "acme-web",
    "northwind-hosting",
    "globex-telecom",
    "initech-cloud",
    "umbrella-isp",
    "hooli-mail",
    "stark-fiber",
    "wayne-datacenter",
    "cyberdyne-it",
    "tyrell-agency",
    "wonka-affiliates",
    "soylent-web",
];
const CATEGORIES: &[&str] = &[
    "hosting",
    "domains",
    "email",
    "connectivity",
    "web-design",
    "seo",
    "security",
    "backup",
];
const REGIONS: &[&str] = &["EU-West", "EU-North", "UK", "US-East", "US-West", "APAC"];
const NEEDS: &[&str] = &[
    "Needs a VPS for the online shop",
    "Moving 40 mailboxes off an old provider",
    "Wants a new website before the spring season",
    "Fibre line for a second office",
    "Asked about managed backups and restore tests",
    "Looking for a cheaper domain portfolio deal",
    "Compliance audit flagged their TLS setup",
    "Growing fast, current host keeps timing out",
];
const NOTES: &[&str] = &[
    "Warm intro from Dana",
    "Met at the trade fair",
    "Existing customer of ours, upsell",
    "Call after 3pm, owner is busy mornings",
    "Price sensitive",
];

fn build(rows: usize, now: Timestamp) -> Vec<Referral> {
    let mut rng = StdRng::seed_from_u64(42);
    let pick = |rng: &mut StdRng, xs: &[&str]| xs[rng.random_range(0..xs.len())].to_string();
    (0..rows)
        .map(|i| {
            let from = rng.random_range(0..PARTNERS.len());
            let to = (from + rng.random_range(1..PARTNERS.len())) % PARTNERS.len();
            let status = match rng.random_range(0..100) {
                0..=44 => Status::Pending,
                45..=64 => Status::Accepted,
                65..=74 => Status::Rejected,
                75..=79 => Status::Forwarded,
                80..=84 => Status::Expired,
                85..=89 => Status::Withdrawn,
                90..=94 => Status::Won,
                _ => Status::Lost,
            };
            let company = format!("{} {}", pick(&mut rng, PREFIXES), pick(&mut rng, SUFFIXES));
            let domain = company
                .to_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                + ".example";
            // Log-spread values from 100 to 1,000,000; a tenth unknown.
            let value = (rng.random_range(0..10) > 0)
                .then(|| (10f64.powf(rng.random_range(2.0..6.0)) * 100.0) as i64);
            // Pending ones are younger than their 72-hour life; the rest
            // spread over a month.
            let max_age = if status == Status::Pending {
                72 * 3_600
            } else {
                30 * 86_400
            };
            let created = now - chrono::Duration::seconds(rng.random_range(0..max_age));
            let updated = created + chrono::Duration::seconds(rng.random_range(0..86_400));
            let expires = created + chrono::Duration::hours(72);
            Referral {
                id: format!("01JDZ{:021}", i * 7919 % 1_000_003 + i),
                version: 1,
                status,
                from_partner: PARTNERS[from].into(),
                to_partner: PARTNERS[to].into(),
                lead: Lead {
                    company,
                    domain: rng.random_bool(0.8).then_some(domain),
                    contact_name: None,
                    contact_email: None,
                    contact_phone: None,
                    category: pick(&mut rng, CATEGORIES).into(),
                    summary: rng.random_bool(0.9).then(|| pick(&mut rng, NEEDS)),
                    est_value_cents: value,
                    currency: "EUR".into(),
                    region: rng
                        .random_bool(0.85)
                        .then(|| pick(&mut rng, REGIONS).into()),
                },
                contact_masked: true,
                commission_pct: rng.random_range(0..=30),
                note: rng.random_bool(0.5).then(|| pick(&mut rng, NOTES)),
                decision_note: None,
                created_at: created,
                updated_at: updated,
                expires_at: expires,
                decided_at: None,
                decided_by: None,
                reason: None,
                outcome: None,
                parent_id: None,
                forwarded_to: None,
                chain: Vec::new().into(),
            }
        })
        .collect()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Nanoseconds this thread has spent on a CPU (Linux), to tell the work
/// apart from waiting for a core on a busy machine.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Median wall time and mean on-CPU time of filtering every row with
/// `query`, and the match count.
fn time_query(
    rows: &[Referral],
    query: &Query,
    now: Timestamp,
) -> (Duration, Option<Duration>, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    let cpu_start = cpu_ns();
    for _ in 0..RUNS {
        let t = Instant::now();
        count = rows.iter().filter(|r| query.matches(r, now)).count();
        times.push(t.elapsed());
    }
    let cpu = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| Duration::from_nanos(b.saturating_sub(a) / RUNS as u64));
    (median(times), cpu, count)
}

/// Median wall time of `Query::filter_indexed`, and the match count.
fn time_indexed(
    rows: &[Referral],
    index: &TextIndex,
    query: &Query,
    now: Timestamp,
) -> (Duration, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        count = query.filter_indexed(rows, index, now).len();
        times.push(t.elapsed());
    }
    (median(times), count)
}

/// The same through `Query::apply`.
fn time_apply(rows: &[Referral], query: &Query, now: Timestamp) -> (Duration, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        count = query.apply(rows, now).len();
        times.push(t.elapsed());
    }
    (median(times), count)
}

/// One row as text, the fields a bare word searches, tab-separated.
fn render(r: &Referral) -> String {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        r.id,
        r.status.as_str(),
        r.from_partner,
        r.to_partner,
        r.lead.company,
        opt(&r.lead.domain),
        r.lead.category,
        r.lead.region.as_deref().unwrap_or_default(),
        r.lead
            .est_value_cents
            .map_or(String::new(), |c| (c / 100).to_string()),
        opt(&r.lead.summary),
        opt(&r.note),
        format_timestamp(&r.created_at),
    )
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn main() -> anyhow::Result<()> {
    let rows: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let t = Instant::now();
    let refs = build(rows, now);
    println!(
        "built {rows} referrals in {:.0} ms; median of {RUNS} runs per query\n",
        ms(t.elapsed())
    );

    let t = Instant::now();
    let index = TextIndex::new(&refs);
    println!("built the TextIndex in {:.0} ms\n", ms(t.elapsed()));

    let queries = [
        ("bare word", BARE_WORD.to_string()),
        ("bare word, no match", "xylophone".to_string()),
        ("bare phrase", "\"online shop\"".to_string()),
        ("field", "partner:northwind".to_string()),
        ("status list", "status:pending,accepted".to_string()),
        ("comparison", "value:>10k".to_string()),
        ("duration", "expires:<6h".to_string()),
        ("negation", "-company:bakery".to_string()),
        (
            "4-term mix",
            "status:pending value:>5k -partner:globex harbor".to_string(),
        ),
    ];
    println!(
        "{:<20} {:<48} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "kind", "query", "matches", "wall ms", "cpu ms", "apply ms", "index ms"
    );
    let mut bare = (Duration::ZERO, 0, Duration::ZERO);
    for (kind, text) in &queries {
        let query = Query::parse(text).map_err(|e| anyhow::anyhow!("{text}: {e}"))?;
        let (time, cpu, count) = time_query(&refs, &query, now);
        let (apply, applied) = time_apply(&refs, &query.clone().with_sort(None), now);
        assert_eq!(applied, count, "apply and matches disagree on {text}");
        let (indexed, found) = time_indexed(&refs, &index, &query, now);
        assert_eq!(
            found, count,
            "filter_indexed and matches disagree on {text}"
        );
        if text == BARE_WORD {
            bare = (time, count, indexed);
        }
        let cpu = cpu.map_or("-".to_string(), |c| format!("{:.2}", ms(c)));
        println!(
            "{kind:<20} {text:<48} {count:>8} {:>9.2} {cpu:>9} {:>9.2} {:>9.2}",
            ms(time),
            ms(apply),
            ms(indexed)
        );
    }
    println!(
        "(wall: median of {RUNS} runs of a `matches` loop; cpu: its mean time on a core per run; \
         apply: median wall time of `Query::apply`; index: of `Query::filter_indexed`)"
    );

    let mut all: Vec<&Referral> = refs.iter().collect();
    let mut times = Vec::new();
    for _ in 0..5 {
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let t = Instant::now();
        sort_referrals(&mut all, SortSpec::ascending(SortField::Company), now);
        times.push(t.elapsed());
    }
    println!(
        "\nsort {rows} rows by company (median of 5): {:.2} ms",
        ms(median(times))
    );

    let file = tempfile::NamedTempFile::new()?;
    {
        let mut w = BufWriter::new(file.as_file());
        for r in &refs {
            writeln!(w, "{}", render(r))?;
        }
        w.flush()?;
    }
    if !on_path("fzf") {
        println!("\nfzf is not on PATH: no comparison with `fzf --filter` in this run");
        return Ok(());
    }
    let mut times = Vec::new();
    let mut fzf_count = 0;
    for _ in 0..5 {
        let input = std::fs::File::open(file.path())?;
        let t = Instant::now();
        let out = Command::new("fzf")
            .args(["--filter", BARE_WORD])
            .stdin(Stdio::from(input))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()?;
        times.push(t.elapsed());
        fzf_count = out.stdout.iter().filter(|&&b| b == b'\n').count();
    }
    let fzf = median(times);
    let version = Command::new("fzf")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "\nfzf {version} --filter {BARE_WORD} over the same {rows} rows as text (median of 5): \
         {:.2} ms, {fzf_count} lines (fuzzy, so it may match more)",
        ms(fzf)
    );
    println!(
        "leadx bare word `{BARE_WORD}`: {:.2} ms, {} matches; fzf / leadx = {:.1}x",
        ms(bare.0),
        bare.1,
        fzf.as_secs_f64() / bare.0.as_secs_f64().max(1e-9)
    );
    println!(
        "leadx bare word `{BARE_WORD}` with the TextIndex: {:.2} ms; fzf / leadx = {:.1}x",
        ms(bare.2),
        fzf.as_secs_f64() / bare.2.as_secs_f64().max(1e-9)
    );
    println!(
        "(fzf's time includes starting the process and reading the file; leadx's is in memory)"
    );
    Ok(())
}
