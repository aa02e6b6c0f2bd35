use super::*;
use proptest::prelude::*;

fn no_forbidden(s: &str, allow_newline: bool) -> bool {
    s.chars()
        .all(|c| !(is_forbidden(c) && !(allow_newline && c == '\n')))
}

#[test]
fn plain_text_is_untouched() {
    assert_eq!(clean_line("Main Street Bakery"), "Main Street Bakery");
    assert_eq!(
        clean_line("Café Müller · 東京 · 🍞"),
        "Café Müller · 東京 · 🍞"
    );
    assert_eq!(clean_text("line one\nline two"), "line one\nline two");
}

#[test]
fn osc52_clipboard_write_is_one_placeholder() {
    let payload = "Acme\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07 Corp";
    assert_eq!(clean_line(payload), "Acme␛ Corp");
    // ST-terminated form too.
    let payload = "Acme\x1b]52;c;Y3VybA==\x1b\\ Corp";
    assert_eq!(clean_line(payload), "Acme␛ Corp");
}

#[test]
fn title_set_is_one_placeholder() {
    assert_eq!(clean_line("\x1b]0;pwned\x07Bakery"), "␛Bakery");
    // Unterminated: swallowed to the end, still one placeholder.
    assert_eq!(clean_line("Bakery\x1b]0;pwned forever"), "Bakery␛");
}

#[test]
fn csi_clear_screen_and_colours() {
    assert_eq!(clean_line("\x1b[2J\x1b[HHello"), "␛Hello");
    assert_eq!(clean_line("\x1b[31mRED\x1b[0m"), "␛RED␛");
    assert_eq!(clean_line("\x1b[38;2;255;0;0mx"), "␛x");
}

#[test]
fn eight_bit_forms() {
    assert_eq!(clean_line("a\u{9b}2Jb"), "a␛b");
    assert_eq!(clean_line("a\u{9d}0;title\u{9c}b"), "a␛b");
    assert_eq!(clean_line("a\u{90}qstuff\u{9c}b"), "a␛b");
    assert_eq!(clean_line("a\u{9f}apc\x1b\\b"), "a␛b");
    assert_eq!(clean_line("a\u{9e}pm\u{9c}b"), "a␛b");
    assert_eq!(clean_line("a\u{98}sos\u{9c}b"), "a␛b");
    // Other C1 controls (NEL, lone ST) are placeholders too.
    assert_eq!(clean_line("a\u{85}b\u{9c}c"), "a�b�c");
}

#[test]
fn dcs_apc_pm_sos_seven_bit() {
    assert_eq!(clean_line("a\x1bP1$r0m\x1b\\b"), "a␛b");
    assert_eq!(clean_line("a\x1b_Gf=100;AAAA\x1b\\b"), "a␛b");
    assert_eq!(clean_line("a\x1b^secret\x1b\\b"), "a␛b");
    assert_eq!(clean_line("a\x1bXsos\x1b\\b"), "a␛b");
    // CAN aborts a string.
    assert_eq!(clean_line("a\x1bPdata\x18b"), "a␛b");
}

#[test]
fn other_escape_pairs() {
    assert_eq!(clean_line("a\x1b(Bb"), "a␛b");
    assert_eq!(clean_line("a\x1b#8b"), "a␛b");
    assert_eq!(clean_line("a\x1bcb"), "a␛b");
    assert_eq!(clean_line("trailing\x1b"), "trailing␛");
    assert_eq!(clean_line("a\x1b\u{e9}"), "a␛\u{e9}");
}

#[test]
fn a_flood_of_sequences_is_one_placeholder() {
    let flood = "\x1b[2J".repeat(10_000);
    assert_eq!(clean_line(&format!("x{flood}y")), "x␛y");
    let params = format!("\x1b[{}m", "1;".repeat(5_000));
    assert_eq!(clean_line(&params), "␛");
}

#[test]
fn c0_and_del_become_control_pictures() {
    assert_eq!(clean_line("a\0b\x07c\x08d\x7f"), "a␀b␇c␈d␡");
    assert_eq!(clean_line("one\ntwo\tthree\r"), "one␊two␉three␍");
}

#[test]
fn text_keeps_line_breaks_and_expands_tabs() {
    assert_eq!(clean_text("a\r\nb\nc\td"), "a\nb\nc    d");
    assert_eq!(clean_text("a\rb"), "a␍b");
    assert_eq!(clean_text("a\u{2028}b"), "a\nb");
    assert_eq!(clean_line("a\u{2028}b"), "a␤b");
    assert_eq!(clean_text("x\x1b[2Jy\n\u{202e}z"), "x␛y\n�z");
}

#[test]
fn rlo_override_is_visible() {
    // "evil.example" spelt so that it displays as something else.
    let s = "\u{202e}elpmaxe.live\u{202c}";
    assert_eq!(clean_line(s), "�elpmaxe.live�");
    for c in [
        '\u{202a}', '\u{202b}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{200e}', '\u{200f}', '\u{61c}',
    ] {
        assert_eq!(clean_line(&format!("a{c}b")), "a�b", "U+{:04X}", c as u32);
    }
}

#[test]
fn zero_width_and_invisible_are_visible() {
    assert_eq!(clean_line("acme\u{200d}web"), "acme�web");
    assert_eq!(clean_line("acme\u{200b}web"), "acme�web");
    assert_eq!(clean_line("acme\u{200c}web"), "acme�web");
    assert_eq!(clean_line("\u{feff}Bakery"), "�Bakery");
    assert_eq!(clean_line("soft\u{ad}hyphen"), "soft�hyphen");
    assert_eq!(clean_line("a\u{2060}b\u{2064}c\u{180e}d"), "a�b�c�d");
    assert_eq!(clean_line("a\u{fff9}b\u{fffb}c"), "a�b�c");
    assert_eq!(clean_line("a\u{3164}b\u{115f}c\u{ffa0}d"), "a�b�c�d");
    // Tag characters (used to smuggle hidden text).
    assert_eq!(clean_line("hi\u{e0001}\u{e0068}\u{e0069}"), "hi���");
}

#[test]
fn emoji_terminals_measure_differently_get_their_plain_form() {
    let cases = [
        ("\u{2764}\u{fe0f} Heart", "\u{2764} Heart"),
        ("\u{2714}\u{fe0f}\u{26a0}\u{fe0f}", "\u{2714}\u{26a0}"),
        ("\u{263a}\u{fe0e}", "\u{263a}"),
        ("1\u{fe0f}\u{20e3} First", "1 First"),
        ("#\u{20e3}", "#"),
        ("\u{1f44d}\u{1f3fd}Thumbs", "\u{1f44d}Thumbs"),
        ("\u{1f1f8}\u{1f1ea} AB", "SE AB"),
        ("\u{1f1fa}", "U"),
        (
            "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}",
            "\u{1f468}�\u{1f469}�\u{1f467}",
        ),
        ("\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}", "\u{1f3f3}�\u{1f308}"),
    ];
    for (raw, plain) in cases {
        let cleaned = clean_line(raw);
        assert_eq!(cleaned, plain, "{raw:?}");
        assert_eq!(clean_line(&cleaned), cleaned, "stable: {raw:?}");
        // Each grapheme now measures the same per code point (tmux,
        // screen, xterm.js) and per cluster (ratatui, kitty, WezTerm).
        let per_char: usize = cleaned.chars().map(|c| c.width().unwrap_or(0)).sum();
        assert_eq!(per_char, width(&cleaned), "{raw:?} -> {cleaned:?}");
    }
}

#[test]
fn combining_marks_and_variation_selectors() {
    // A decomposed accent stays on its base.
    assert_eq!(clean_line("Cafe\u{301}"), "Cafe\u{301}");
    // Another variation selector after a base stays.
    assert_eq!(clean_line("\u{845b}\u{e0100}"), "\u{845b}\u{e0100}");
    // A lone selector, or one after another, does not.
    assert_eq!(clean_line("\u{fe0f}x"), "�x");
    assert_eq!(clean_line("x\u{fe0f}\u{fe0f}"), "x�");
    assert_eq!(
        clean_line("\u{845b}\u{e0100}\u{e0100}"),
        "\u{845b}\u{e0100}�"
    );
    // An orphan mark gets a visible base.
    assert_eq!(clean_line("\u{301}abc"), "\u{25cc}\u{301}abc");
    assert_eq!(clean_text("a\n\u{301}b"), "a\n\u{25cc}\u{301}b");
    // A zalgo tower is capped.
    let tower = format!("a{}b", "\u{301}".repeat(100));
    let cleaned = clean_line(&tower);
    assert_eq!(cleaned, format!("a{}�b", "\u{301}".repeat(MAX_MARKS)));
    assert_eq!(clean_line(&cleaned), cleaned);
}

#[test]
fn hostile_referral_is_cleaned_everywhere() {
    let json = serde_json::json!({
        "id": "r_1\x1b[2J",
        "version": 1,
        "status": "rejected",
        "from_partner": "north\u{202e}wind",
        "to_partner": "acme\u{200b}",
        "lead": {
            "company": "\x1b]0;owned\x07Bakery",
            "domain": "a\u{feff}.example",
            "contact_name": "Dana\x07",
            "contact_email": "d@x\u{9b}31m",
            "contact_phone": "+1\x1b[5m",
            "category": "hosting\n",
            "summary": "line\r\nnext\x1b]52;c;AAAA\x07",
            "est_value_cents": 5,
            "currency": "US\u{200d}D",
            "region": "US\tWest"
        },
        "contact_masked": false,
        "commission_pct": 10,
        "note": "n\u{2066}ote",
        "decision_note": "d\x00",
        "created_at": "2026-11-26T09:14:03Z",
        "updated_at": "2026-11-26T09:14:03Z",
        "expires_at": "2026-11-29T09:14:03Z",
        "decided_at": "2026-11-26T10:00:00Z",
        "decided_by": {"user": "u\x1b", "name": "Eve\u{202e}", "partner": "p\x7f"},
        "reason": {"code": "other", "note": "why\x1bP+q\x1b\\"},
        "outcome": {"value_cents": null, "note": "o\u{9d}x\x07"},
        "parent_id": "r_0\u{200f}",
        "forwarded_to": "r_2\u{85}",
        "chain": ["north\u{202e}wind", "acme\u{200b}"]
    });
    let r: Referral = serde_json::from_value(json).expect("valid referral");
    let c = clean_referral(r);
    let all = serde_json::to_string(&c).expect("serializes");
    let back: serde_json::Value = serde_json::from_str(&all).expect("json");
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut strings = Vec::new();
    walk(&back, &mut strings);
    // Every string value of the cleaned referral, timestamps and ids too.
    assert_eq!(strings.len(), 29);
    for s in &strings {
        assert!(no_forbidden(s, true), "left raw: {s:?}");
    }
    assert_eq!(c.lead.company, "␛Bakery");
    assert_eq!(c.lead.summary.as_deref(), Some("line\nnext␛"));
    assert_eq!(c.lead.region.as_deref(), Some("US␉West"));
    assert_eq!(*c.chain, ["north�wind", "acme�"]);
    assert_eq!(c.decided_by.expect("decided_by").name, "Eve�");
}

#[test]
fn partner_and_me_are_cleaned() {
    let p = Partner {
        id: "acme\x1b[2J".into(),
        name: "Acme\u{202e}".into(),
        kind: crate::wire::PartnerKind::Integrator,
        categories: vec!["web\u{200b}".into()],
        regions: vec!["EU\n".into()],
    };
    let p = clean_partner(p);
    assert_eq!((p.id.as_str(), p.name.as_str()), ("acme␛", "Acme�"));
    assert_eq!(p.categories, vec!["web�"]);
    assert_eq!(p.regions, vec!["EU␊"]);
    let me: Me = serde_json::from_value(serde_json::json!({
        "user": {"id": "u\x07", "name": "Dana\u{feff}", "role": "agent"},
        "partner": {"id": "p\x1b]0;x\x07", "name": "P\u{85}"}
    }))
    .expect("me");
    let me = clean_me(me);
    assert_eq!(me.user.id, "u␇");
    assert_eq!(me.user.name, "Dana�");
    assert_eq!(me.partner.id, "p␛");
    assert_eq!(me.partner.name, "P�");
}

#[test]
fn placeholders_are_printable_width_one_and_kept() {
    for c in ['␀', '␟', '␛', '␡', '␤', '�', '◌', '␉', '␊'] {
        assert!(is_placeholder(c));
        assert_eq!(c.width(), Some(1), "{c}");
        assert!(!is_forbidden(c));
        assert_eq!(clean_line(&c.to_string()), c.to_string());
    }
}

#[test]
fn fit_pads_and_truncates() {
    assert_eq!(fit("abc", 5), "abc  ");
    assert_eq!(fit("abcdef", 4), "abc…");
    assert_eq!(fit("abcd", 4), "abcd");
    assert_eq!(fit("abc", 0), "");
    assert_eq!(fit("abc", 1), "…");
    // A wide character that would overflow is not split: padded instead.
    assert_eq!(fit("東京都", 4), "東… ");
    assert_eq!(width(&fit("東京都", 4)), 4);
    assert_eq!(fit("東京都", 5), "東京…");
    // Accents stay with their letter.
    assert_eq!(
        fit("e\u{301}e\u{301}e\u{301}", 3),
        "e\u{301}e\u{301}e\u{301}"
    );
    assert_eq!(fit("e\u{301}e\u{301}e\u{301}x", 3), "e\u{301}e\u{301}…");
    assert_eq!(width("東京"), 4);
}

/// Found by tests/fuzz: unicode-width counts Arabic lam + alef as one
/// column (a ligature), but they are two grapheme clusters and ratatui's
/// buffer and the terminal give each its own cell, so a lead's company
/// name could overflow its column by one per pair.
#[test]
fn width_is_what_the_buffer_takes_for_lam_alef() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    for s in [
        "\u{644}\u{671}",
        "\u{644}\u{627}",
        "a\u{644}\u{627}b",
        // Also found by tests/fuzz: lam + alef with madda, and a lam
        // variant (U+06B5) + alef with madda.
        "\u{644}\u{622}",
        "\u{6B5}\u{622}",
    ] {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
        let (x, _) = buf.set_stringn(0, 0, s, 20, Style::default());
        assert_eq!(width(s), usize::from(x), "{s:?}");
        for w in 0..6 {
            let fitted = fit(s, w);
            let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
            let (x, _) = buf.set_stringn(0, 0, &fitted, 20, Style::default());
            assert_eq!(usize::from(x), w, "fit({s:?}, {w}) = {fitted:?}");
        }
    }
    assert_eq!(width("\u{644}\u{627}"), 2);
}

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::char::range('\0', '\u{a0}'),
        prop::sample::select(vec![
            '\x1b',
            '[',
            ']',
            '\\',
            'P',
            '_',
            '^',
            'X',
            '\x07',
            '\u{9c}',
            '\u{9b}',
            '\u{9d}',
            '\u{202e}',
            '\u{200d}',
            '\u{feff}',
            '\u{fe0f}',
            '\u{301}',
            '\n',
            '\r',
            '\t',
            '\u{2028}',
            '\u{e0041}',
            '東',
            '\u{1f468}',
            '\u{1f3fb}',
            '\u{1f1fa}',
            '␛',
            '�',
            '◌',
            ';',
            '0',
            'm',
        ]),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..60).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn clean_line_output_is_safe_and_stable(s in hostile_string()) {
        let once = clean_line(&s);
        prop_assert!(no_forbidden(&once, false), "{:?} -> {:?}", s, once);
        prop_assert!(!once.contains('\x1b'));
        prop_assert!(!once.chars().any(char::is_control));
        prop_assert!(once.chars().next().is_none_or(|c| c.width() != Some(0)));
        prop_assert_eq!(clean_line(&once), once.clone());
    }

    #[test]
    fn clean_text_output_is_safe_and_stable(s in hostile_string()) {
        let once = clean_text(&s);
        prop_assert!(no_forbidden(&once, true), "{:?} -> {:?}", s, once);
        prop_assert!(!once.chars().any(|c| c.is_control() && c != '\n'));
        for line in once.split('\n') {
            prop_assert!(line.chars().next().is_none_or(|c| c.width() != Some(0)));
        }
        prop_assert_eq!(clean_text(&once), once.clone());
    }

    #[test]
    fn fit_is_exactly_the_width(s in hostile_string(), w in 0usize..40) {
        let cleaned = clean_line(&s);
        prop_assert_eq!(width(&fit(&cleaned, w)), w);
        prop_assert_eq!(width(&fit(&s, w)), w);
    }

    #[test]
    fn fit_keeps_a_string_that_fits(s in "[a-zA-Z0-9 東京é]{0,20}", extra in 0usize..5) {
        let w = width(&s) + extra;
        let f = fit(&s, w);
        prop_assert!(f.starts_with(&s));
    }
}
