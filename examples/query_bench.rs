//! Query speed over 100,000 referrals held in memory (the inbox's `/`
//! filter, selection by query, `leadx list --query`), and the same bare word
//! through `fzf -e +s --filter WORD` (exact, unsorted: the same job) over
//! exactly the text leadx searches, one row a line, if `fzf` is on PATH
//! (it is needed for nothing else; the run says so when it is absent).
//! Both must find the same number of rows, else the run exits 1.
//!
//! `cargo run --release --example query_bench [-- ROWS]`;
//! `LEADX_BENCH_QUICK=1`: 5,000 rows, 3 runs a query.

mod support;

use support::{banner, check, ms, scaled};

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use leadx::query::{Query, SortField, SortSpec, TextIndex, sort_referrals};
use leadx::wire::{Lead, Referral, Status, Timestamp};

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

/// Runs a query this many times; the median is reported.
fn runs() -> usize {
    scaled(20, 3)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
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
    let mut times = Vec::with_capacity(runs());
    let mut count = 0;
    let cpu_start = cpu_ns();
    for _ in 0..runs() {
        let t = Instant::now();
        count = rows.iter().filter(|r| query.matches(r, now)).count();
        times.push(t.elapsed());
    }
    let cpu = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| Duration::from_nanos(b.saturating_sub(a) / runs() as u64));
    (median(times), cpu, count)
}

/// Median wall time of `Query::filter_indexed`, and the match count.
fn time_indexed(
    rows: &[Referral],
    index: &TextIndex,
    query: &Query,
    now: Timestamp,
) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs());
    let mut count = 0;
    for _ in 0..runs() {
        let t = Instant::now();
        count = query.filter_indexed(rows, index, now).len();
        times.push(t.elapsed());
    }
    (median(times), count)
}

/// The same through `Query::apply`.
fn time_apply(rows: &[Referral], query: &Query, now: Timestamp) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs());
    let mut count = 0;
    for _ in 0..runs() {
        let t = Instant::now();
        count = query.apply(rows, now).len();
        times.push(t.elapsed());
    }
    (median(times), count)
}

/// Row `i` as one line for fzf: exactly the text leadx's bare word
/// searches (`TextIndex::row`: the searched fields, lower-cased), the
/// fields separated by tabs instead of NUL. No needle holds a tab, so a
/// match never spans two fields, as in leadx.
fn line(index: &TextIndex, i: usize) -> String {
    let row = index.row(i);
    check(
        !row.contains('\n') && !row.contains('\t'),
        "a searched field holds a newline or a tab",
    );
    row.trim_end_matches('\0').replace('\0', "\t")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn main() -> anyhow::Result<()> {
    let rows: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => scaled(100_000, 5_000),
    };
    banner("leadx query benchmark");
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let t = Instant::now();
    let refs = build(rows, now);
    println!(
        "built {rows} referrals in {:.0} ms; median of {} runs per query\n",
        ms(t.elapsed()),
        runs()
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
    let bare_query = Query::parse(BARE_WORD).map_err(|e| anyhow::anyhow!("{BARE_WORD}: {e}"))?;
    for (kind, text) in &queries {
        let query = Query::parse(text).map_err(|e| anyhow::anyhow!("{text}: {e}"))?;
        let (time, cpu, count) = time_query(&refs, &query, now);
        let (apply, applied) = time_apply(&refs, &query.clone().with_sort(None), now);
        check(
            applied == count,
            &format!("apply and matches disagree on {text}"),
        );
        let (indexed, found) = time_indexed(&refs, &index, &query, now);
        check(
            found == count,
            &format!("filter_indexed and matches disagree on {text}"),
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
        "(wall: median of {} runs of a `matches` loop; cpu: its mean time on a core per run; \
         apply: median wall time of `Query::apply`; index: of `Query::filter_indexed`)",
        runs()
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

    check(bare.1 > 0, &format!("`{BARE_WORD}` matched no row"));
    // The first query a user types pays for the index: build it, then search.
    let mut firsts = Vec::new();
    for _ in 0..scaled(5, 1) {
        let t = Instant::now();
        let index = TextIndex::new(&refs);
        let found = bare_query.filter_indexed(&refs, &index, now).len();
        firsts.push(t.elapsed());
        check(found == bare.1, "a fresh index finds another count");
    }
    let first = median(firsts);
    println!(
        "\nleadx `{BARE_WORD}`: {} rows; warm `matches` loop {:.2} ms; warm index {:.2} ms; \
         first query (build the TextIndex, then search) {:.2} ms",
        bare.1,
        ms(bare.0),
        ms(bare.2),
        ms(first)
    );
    against_fzf(&index, bare, first)
}

/// The same bare word through `fzf -e +s --filter` over the same text; the
/// counts must agree.
fn against_fzf(
    index: &TextIndex,
    (warm_loop, count, warm_index): (Duration, usize, Duration),
    first: Duration,
) -> anyhow::Result<()> {
    if !on_path("fzf") {
        println!(
            "\nfzf is not on PATH: no comparison with `fzf -e +s --filter` in this run \
             (install it, e.g. `apt-get install fzf`, for the full benchmark)"
        );
        return Ok(());
    }
    let file = tempfile::NamedTempFile::new()?;
    {
        let mut w = BufWriter::new(file.as_file());
        for i in 0..index.len() {
            writeln!(w, "{}", line(index, i))?;
        }
        w.flush()?;
    }
    let size = std::fs::metadata(file.path())?.len();
    let needle = BARE_WORD.to_lowercase();
    let lines_with_word = std::fs::read_to_string(file.path())?
        .lines()
        .filter(|l| l.contains(&needle))
        .count();
    check(
        lines_with_word == count,
        &format!("the lines hold {lines_with_word} rows with `{BARE_WORD}`, leadx found {count}"),
    );
    let fzf_runs = scaled(5, 1);
    // One run of fzf over `input`: (wall time, lines it printed).
    let fzf = |input: Stdio, args: &[&str]| -> anyhow::Result<(Duration, usize)> {
        let t = Instant::now();
        let out = Command::new("fzf")
            .args(args)
            .stdin(input)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()?;
        let took = t.elapsed();
        anyhow::ensure!(
            out.status.success() || out.status.code() == Some(1),
            "fzf failed: {}",
            out.status
        );
        Ok((took, out.stdout.iter().filter(|&&b| b == b'\n').count()))
    };
    let args = ["-e", "+s", "--filter", BARE_WORD];
    let (mut version, mut empty, mut full, mut reads) = (vec![], vec![], vec![], vec![]);
    let mut fzf_count = 0;
    for _ in 0..fzf_runs {
        version.push(fzf(Stdio::null(), &["--version"])?.0);
        empty.push(fzf(Stdio::null(), &args)?.0);
        let t = Instant::now();
        let bytes = std::fs::read(file.path())?;
        reads.push(t.elapsed());
        check(bytes.len() as u64 == size, "read the whole file");
        let (took, n) = fzf(Stdio::from(std::fs::File::open(file.path())?), &args)?;
        full.push(took);
        fzf_count = n;
    }
    let (version_t, empty_t, full_t, read_t) =
        (median(version), median(empty), median(full), median(reads));
    let name = Command::new("fzf")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "\nfzf {name}, `fzf -e +s --filter {BARE_WORD}` (exact, unsorted) over the same {} rows \
         as {:.1} MB of lines (the text leadx searches), median of {fzf_runs}:",
        index.len(),
        size as f64 / 1e6
    );
    println!(
        "  start-up: `fzf --version` {:.2} ms; the same filter over empty input {:.2} ms; \
         reading the file into memory (in Rust, from the page cache) {:.2} ms",
        ms(version_t),
        ms(empty_t),
        ms(read_t)
    );
    println!(
        "  over the rows: {:.2} ms, {fzf_count} lines; leadx {count} rows: {}",
        ms(full_t),
        if fzf_count == count {
            "the same count"
        } else {
            "DIFFERENT COUNTS"
        }
    );
    check(
        fzf_count == count,
        &format!("fzf found {fzf_count} lines, leadx {count} rows"),
    );
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    let search_only = full_t.saturating_sub(empty_t);
    println!(
        "  fzf {:.2} ms / leadx first query (index build + search) {:.2} ms = {:.1}x",
        ms(full_t),
        ms(first),
        ratio(full_t, first)
    );
    println!(
        "  fzf {:.2} ms / leadx warm `matches` loop {:.2} ms = {:.1}x; / leadx warm index {:.2} ms = {:.1}x",
        ms(full_t),
        ms(warm_loop),
        ratio(full_t, warm_loop),
        ms(warm_index),
        ratio(full_t, warm_index)
    );
    println!(
        "  fzf less its start-up over empty input ({:.2} ms: reading and matching) / leadx first query = {:.1}x; \
         / warm index = {:.1}x",
        ms(search_only),
        ratio(search_only, first),
        ratio(search_only, warm_index)
    );
    println!(
        "  (fzf's times include its process start and reading the file on its standard input; leadx's are in memory, \
         the referrals already parsed)"
    );
    Ok(())
}
