//! Property-based fuzz targets over every parser that reads untrusted input:
//! the query language, the SSE parser, the sanitizer, the server's request
//! body decoding, the config loader and the list cursor.
//!
//! CI runs each target for proptest's default 256 cases (the whole file
//! takes seconds in debug). Run them long with more cases, e.g.
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test --release --test fuzz
//! PROPTEST_CASES=100000 cargo test --release --test fuzz -- sse
//! ```
//!
//! A failure is shrunk and its seed written under `proptest-regressions/`,
//! which is committed so that every later run tries it first. docs/SECURITY.md
//! ("Fuzzing") records the long runs and what they found.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use leadx::client::sse::{SseItem, SseParser};
use leadx::config::{self, Overrides};
use leadx::query::Query;
use leadx::sanitize::{clean_line, clean_text, fit, is_forbidden, width};
use leadx::server::routes::{decode_cursor, encode_cursor};
use leadx::wire::ErrorCode;

mod bodies;

/// proptest's default: 256 cases, or `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    ProptestConfig::default()
}

// ---------------------------------------------------------------------------
// Strategies

/// Characters that break terminals and parsers, mixed with ordinary ones.
pub fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => prop::char::range('\u{0}', '\u{7f}'),
        1 => prop::char::range('\u{80}', '\u{9f}'),
        1 => prop::sample::select(vec![
            '\x1b', '[', ']', '\x07', '\\', 'P', '_', '^', 'X', '\n', '\r', '\t', '\u{7f}',
            '\u{9b}', '\u{9d}', '\u{90}', '\u{9c}', '\u{202a}', '\u{202e}', '\u{2066}',
            '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}', '\u{200b}', '\u{200d}', '\u{2060}',
            '\u{feff}', '\u{00ad}', '\u{180e}', '\u{2028}', '\u{2029}', '\u{fe0f}', '\u{fe0e}',
            '\u{e0001}', '\u{e0100}', '\u{115f}', '\u{1160}', '\u{3164}', '\u{ffa0}',
        ]),
        1 => prop::char::range('\u{300}', '\u{36f}'),   // combining marks
        1 => prop::char::range('\u{1100}', '\u{11ff}'), // Hangul jamo
        1 => prop::char::range('\u{1f1e6}', '\u{1f1ff}'), // regional indicators
        1 => prop::char::range('\u{1f300}', '\u{1f64f}'), // emoji
        1 => prop::char::range('\u{4e00}', '\u{4e20}'), // wide CJK
        1 => prop::char::range('\u{0600}', '\u{06ff}'), // Arabic
    ]
}

pub fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

// ---------------------------------------------------------------------------
// Query parser

proptest! {
    #![proptest_config(config())]

    #[test]
    fn query_parse_never_panics_and_errors_carry_a_position(s in hostile_string(80)) {
        check_query(&s)?;
    }

    #[test]
    fn query_parse_of_query_like_text(
        parts in prop::collection::vec(prop_oneof![
            prop::sample::select(vec![
                "status:", "value:", "commission:", "age:", "expires:", "from:", "to:",
                "partner:", "category:", "region:", "company:", "sort:", "-", "\"", ",",
                ">", "<", ">=", "<=", "=", "..", " ", "k", "m", "d", "h", "w", "%", "$",
                "pending", "won", "1", "99999999999999999999", "-5", "1.5", "1e3",
            ]).prop_map(str::to_owned),
            hostile_string(3),
        ], 0..16)
    ) {
        check_query(&parts.concat())?;
    }
}

fn check_query(s: &str) -> Result<(), TestCaseError> {
    match Query::parse(s) {
        Ok(q) => {
            let printed = q.to_string();
            prop_assert_eq!(
                Query::parse(&printed),
                Ok(q),
                "printed {:?} from {:?}",
                printed,
                s
            );
        }
        Err(e) => {
            prop_assert!(e.column <= s.chars().count(), "{} in {:?}", e, s);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// SSE parser

/// The items a parser yields for `chunks`, and the error that stopped it.
fn sse_run(
    chunks: &[&[u8]],
    limits: Option<(usize, usize)>,
) -> (Vec<SseItem>, Option<String>, String) {
    let mut p = match limits {
        Some((line, event)) => SseParser::with_limits(line, event),
        None => SseParser::new(),
    };
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(e) = p.feed(chunk, &mut out) {
            return (out, Some(e.to_string()), p.last_event_id().to_owned());
        }
    }
    (out, None, p.last_event_id().to_owned())
}

fn split_at_all<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for c in cuts {
        chunks.push(&bytes[start..c]);
        start = c;
    }
    chunks.push(&bytes[start..]);
    chunks
}

fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "data:",
            "data: ",
            "id:",
            "id: 7",
            "event:",
            "event: referral",
            "retry:",
            "retry: 2000",
            "retry: x1",
            ": ping",
            ":",
            "\n",
            "\r",
            "\r\n",
            "\n\n",
            "\u{feff}",
            "id: a\0b",
            "data",
            "field: v",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..6),
        hostile_string(6).prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sse_same_result_for_any_split(
        bytes in prop_oneof![sse_bytes(), any::<Vec<u8>>()],
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        small in any::<bool>(),
    ) {
        // Small bounds reach the size errors too.
        let limits = small.then_some((16, 24));
        let whole = sse_run(&[&bytes], limits);
        let split = sse_run(&split_at_all(&bytes, &cuts), limits);
        prop_assert_eq!(&split, &whole);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(&sse_run(&singles, limits), &whole);
        for item in &whole.0 {
            if let SseItem::Event(e) = item {
                prop_assert!(!e.id.contains('\0'));
                prop_assert!(!e.event.contains(['\r', '\n']));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Sanitizer

/// The columns ratatui's buffer takes for `s` on one line (its widgets
/// write through `Buffer::set_stringn`).
fn ratatui_columns(s: &str) -> usize {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    let w = u16::try_from(width(s) + 8).expect("test strings are short");
    let mut buf = Buffer::empty(Rect::new(0, 0, w, 1));
    let (x, _) = buf.set_stringn(0, 0, s, usize::from(w), Style::default());
    usize::from(x)
}

fn assert_safe(out: &str, keep_newline: bool) -> Result<(), TestCaseError> {
    for c in out.chars() {
        if keep_newline && c == '\n' {
            continue;
        }
        prop_assert!(
            !is_forbidden(c),
            "{:?} (U+{:04X}) in {:?}",
            c,
            c as u32,
            out
        );
        prop_assert!(!c.is_control(), "control U+{:04X} in {:?}", c as u32, out);
        prop_assert!(
            !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'),
            "bidi U+{:04X} in {:?}",
            c as u32,
            out
        );
    }
    prop_assert!(!out.as_bytes().contains(&0x1b));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sanitizer_output_is_safe_and_measures_as_drawn(s in hostile_string(60), w in 0usize..40) {
        let line = clean_line(&s);
        assert_safe(&line, false)?;
        prop_assert_eq!(clean_line(&line), line.clone(), "not stable");
        // The oracle is what is drawn (ratatui's buffer, one cell run per
        // grapheme), not unicode-width's whole-string width: that joins
        // Arabic lam + alef (with or without madda, hamza, wasla) into one
        // column across two graphemes, which are drawn in two cells
        // (sanitize::width's doc; found here as "لا", then "لآ" and "ڵآ").
        prop_assert_eq!(ratatui_columns(&line), width(&line), "drawn width of {:?}", line);
        let fitted = fit(&line, w);
        prop_assert_eq!(width(&fitted), w, "fit {:?} to {}", line, w);
        prop_assert_eq!(ratatui_columns(&fitted), w, "drawn width of {:?}", fitted);

        let text = clean_text(&s);
        assert_safe(&text, true)?;
        prop_assert_eq!(clean_text(&text), text.clone(), "not stable");
        for l in text.split('\n') {
            prop_assert_eq!(ratatui_columns(l), width(l), "drawn width of {:?}", l);
        }
    }

    #[test]
    fn sanitizer_never_panics_on_arbitrary_strings(s in any::<String>()) {
        assert_safe(&clean_line(&s), false)?;
        assert_safe(&clean_text(&s), true)?;
    }
}

// ---------------------------------------------------------------------------
// Config loader

fn toml_text() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "theme",
        "readonly",
        "layout",
        "log_file",
        "server.url",
        "server.token",
        "server.token_file",
        "server.allow_plain_http",
        "batch.confirm_over",
        "batch.undo_seconds",
        "keys.accept",
        "keys.quit",
        "views.mine.query",
        "profiles.lab.url",
        "profiles.lab.token",
        "bogus",
        "server.bogus",
    ]);
    let value = prop_oneof![
        Just("true".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("1.5e400".to_owned()),
        Just("nan".to_owned()),
        Just("[\"a\", 1]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("\"http://127.0.0.1:1\"".to_owned()),
        Just("\"dark\"".to_owned()),
        Just("\"wide\"".to_owned()),
        hostile_string(10).prop_map(|s| format!("{:?}", s)),
        "[0-9]{1,4}",
    ];
    let line = prop_oneof![
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => prop::sample::select(vec!["[server]", "[batch]", "[profiles.x]", "[[keys]]", "[views.a]", "["]).prop_map(str::to_owned),
        1 => hostile_string(20),
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn config_loader_never_panics_and_errors_name_the_file(
        text in prop_oneof![toml_text(), hostile_string(80), any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned())],
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let path = dir.path().join("leadx.toml");
        std::fs::write(&path, &text).expect("write");
        let env: HashMap<String, String> =
            [("HOME".to_owned(), home.display().to_string())].into();
        let overrides = Overrides { config: Some(path.clone()), ..Overrides::default() };
        if let Err(e) = config::load_for_demo_from(&overrides, &env) {
            let message = e.to_string();
            prop_assert!(
                message.contains(&path.display().to_string()),
                "error does not name the file: {}\n--- file:\n{}", message, text
            );
        }
        // The same text with a token, as a client would load it.
        let _ = config::load_from(&overrides, &env);
    }
}

// ---------------------------------------------------------------------------
// List cursor

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cursor_decoding_never_panics(s in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=-]{0,40}",
        any::<Vec<u8>>().prop_map(|b| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }),
    ]) {
        match decode_cursor(&s) {
            Ok(id) => {
                // Whatever it accepts names an id whose own cursor reads back.
                prop_assert_eq!(decode_cursor(&encode_cursor(&id)).ok(), Some(id));
            }
            Err(e) => prop_assert_eq!(e.error.code, ErrorCode::BadRequest),
        }
    }

    #[test]
    fn cursors_round_trip(n in any::<u128>()) {
        // Every id this server hands out (`r_` and a ULID) round-trips.
        let id = format!("r_{}", ulid::Ulid(n));
        let cursor = encode_cursor(&id);
        prop_assert!(cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(decode_cursor(&cursor).ok(), Some(id));
    }

    #[test]
    fn a_cursor_of_anything_else_is_refused_or_reads_back(id in any::<String>()) {
        // A cursor is only valid for an id of the server's own form: any
        // other reads back as itself or is a 400, never something else.
        match decode_cursor(&encode_cursor(&id)) {
            Ok(back) => prop_assert_eq!(back, id),
            Err(e) => prop_assert_eq!(e.error.code, ErrorCode::BadRequest),
        }
    }
}
