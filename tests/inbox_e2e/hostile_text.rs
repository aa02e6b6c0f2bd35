//! Hostile and unusual text: control sequences in a lead or in names from
//! the server never reach the terminal raw, and wide and combining
//! characters keep the borders aligned.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_lead_never_reaches_the_terminal_raw() {
    let w = World::start().await;
    let company = "Evil\x1b]52;c;SGVsbG8=\x07Corp\x1b]0;pwned\x07";
    let summary = "Clear\x1b[2Jscreen \u{9b}31mred \u{202e}desrever";
    let note = "zero\u{200b}width \x1b]0;pwned\x07 done";
    let mut body = lead_body("acme-web", company, None);
    body["lead"]["summary"] = json!(summary);
    body["note"] = json!(note);
    let hostile = id(&w.post(&w.t.northwind, "/v1/referrals", &body).await.ok());
    // The server keeps it as sent: only the client may make it safe.
    let stored = referral(&w, &w.t.acme, &hostile).await;
    assert_eq!(stored["lead"]["company"], company);
    assert_eq!(stored["lead"]["summary"], summary);

    let (cols, rows) = WIDE;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).config(QUIET));
    let shown_company = clean_line(company);
    assert_eq!(shown_company, "Evil␛Corp␛");
    t.until_live(&shown_company);
    let mark = t.raw_len();
    t.send("\r");
    let s = t.until("the detail pane of the hostile lead", |s| {
        s.contains("Summary") && s.contains("desrever") && s.contains("Note") && s.contains("done")
    });

    // What the screen shows: visible placeholders where the sequences were.
    let shown_summary = clean_text(summary);
    let shown_note = clean_text(note);
    assert_eq!(shown_summary, "Clear␛screen ␛red �desrever");
    assert_eq!(shown_note, "zero�width ␛ done");
    // Escape sequences show as ␛.
    assert!(s.contains(&shown_company), "{}", e2e::frame(&s));
    assert!(s.contains("Clear␛screen ␛red"), "{}", e2e::frame(&s));
    assert!(s.contains("␛ done"), "{}", e2e::frame(&s));
    // Bidi and zero-width characters are sent as U+FFFD, which xterm draws
    // but vt100 drops (it reports it as an unhandled character instead): so
    // look for them in the bytes, and count them.
    let raw = t.whole_frames();
    assert!(
        contains(&raw, "�desrever".as_bytes()),
        "RLO placeholder not sent"
    );
    assert!(
        contains(&raw, "zero�width".as_bytes()),
        "ZWSP placeholder not sent"
    );
    let undrawn = t.seen().undrawn;
    assert!(
        undrawn.iter().filter(|c| **c == '\u{fffd}').count() >= 2
            && undrawn.iter().all(|c| *c == '\u{fffd}'),
        "characters vt100 could not draw: {undrawn:?}"
    );
    // Nothing cleared the screen: the header is still drawn.
    assert!(s.lines().next().unwrap().contains("Acme Web Studio"));

    // What reached the terminal: none of the sequences, none of their payloads.
    let raw = t.whole_frames();
    for needle in [
        b"\x1b]".as_slice(),
        b"\x1b]52",
        b"\x1b]0;pwned",
        b"pwned",
        b"SGVsbG8=",
        b"\x07",
        "\u{9b}".as_bytes(),
        "\u{202e}".as_bytes(),
        "\u{200b}".as_bytes(),
    ] {
        assert!(
            !contains(&raw, needle),
            "the terminal received {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    assert_eq!(
        count(&raw[mark..], b"\x1b[2J"),
        0,
        "opening the detail pane cleared the screen"
    );
    let seen = t.seen();
    assert!(
        seen.titles.is_empty(),
        "window title set: {:?}",
        seen.titles
    );
    assert!(
        seen.icon_names.is_empty(),
        "icon name set: {:?}",
        seen.icon_names
    );
    assert!(
        seen.clipboard.is_empty(),
        "clipboard written: {:?}",
        seen.clipboard
    );
    assert_eq!(seen.bells, 0);
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_from_the_server_are_made_safe_too() {
    let w = World::start().await;
    // Names are not lead text, but they come from the server all the same.
    let partner_name = "Mallory\x1b]0;pwned\x07\u{202e}Net";
    w.store
        .add_partner(&common::partner(
            "mallory-net",
            partner_name,
            PartnerKind::Affiliate,
            &["design"],
            &["EU-Central"],
        ))
        .await
        .unwrap();
    let user_name = "Eve\x1b]52;c;SGVsbG8=\x07 Agent";
    let (_, token) = w
        .store
        .add_user("acme-web", user_name, Role::Agent)
        .await
        .unwrap();
    w.send(&w.t.northwind, "acme-web", "Plain Bakery", None)
        .await;

    let (cols, rows) = WIDE;
    let mut t = Tui::start(Options::new(&w.url, &token, cols, rows).config(QUIET));
    let s = t.until_live("Plain Bakery");
    let header = s.lines().next().unwrap();
    assert!(header.contains(&clean_line(user_name)), "{header:?}");
    assert!(header.contains("Eve␛ Agent"), "{header:?}");
    t.send("f");
    let s = t.until("the picker to list mallory-net", |s| {
        s.contains("Forward Plain Bakery") && s.contains("mallory-net")
    });
    assert!(s.contains("Mallory␛"), "{}", e2e::frame(&s));
    t.send("\x1b");
    t.until("the picker to close", |s| {
        !s.contains("Forward Plain Bakery")
    });

    let raw = t.whole_frames();
    for needle in [
        b"\x1b]".as_slice(),
        b"pwned",
        b"SGVsbG8=",
        b"\x07",
        "\u{202e}".as_bytes(),
    ] {
        assert!(
            !contains(&raw, needle),
            "the terminal received {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    let seen = t.seen();
    assert!(
        seen.titles.is_empty() && seen.clipboard.is_empty(),
        "{seen:?}"
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_and_combining_text_keeps_the_borders_aligned() {
    let w = World::start().await;
    w.clock.set(Utc::now() - chrono::Duration::hours(10));
    let long = "Long".repeat(50);
    let companies = [
        "寿司レストラン Tokyo",
        "🍣 Sushi Bar",
        "Cafe\u{301} Noir",
        "🇯🇵 Flag Co",
        "☎\u{fe0f} Phone Co",
        "Ｆｕｌｌｗｉｄｔｈ Corp",
        long.as_str(),
        "e\u{301}\u{301}\u{301}\u{301}zalgo",
        "Tab\there",
    ];
    for c in companies {
        w.send(&w.t.northwind, "acme-web", c, None).await;
        w.clock.advance(chrono::Duration::minutes(10));
    }
    assert_eq!(w.boxed(&w.t.acme, "incoming").await.len(), companies.len());
    for (cols, rows) in [SMALL, WIDE] {
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        let s = t.until_live("Sushi Bar");
        assert!(s.contains("Tab␉here"), "{}", e2e::frame(&s));
        // Every row of the pane ends on its border, in the last column.
        let lines = t.lines();
        let bottom = lines
            .iter()
            .position(|l| l.starts_with('┗'))
            .expect("pane bottom");
        for row in 2..bottom {
            assert_eq!(
                t.last_cell(row as u16),
                "┃",
                "{cols}x{rows} row {row} overflows:\n{}",
                e2e::frame(&t.screen())
            );
        }
        assert_eq!(t.last_cell(bottom as u16), "┛");
        assert_eq!(t.quit().exit_code(), 0);
    }
}
