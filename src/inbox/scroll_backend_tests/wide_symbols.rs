//! Wide symbols (CJK, emoji, VS16 emoji) move with their rows and leave
//! no stray colour or blank behind.

use super::*;

#[test]
fn wide_symbols_move_with_their_rows() {
    let rows: Vec<String> = (1..=12)
        .map(|n| format!("{n:02} 東京の取引先 {n} — Ünïcödé ✓ 한국어 {n}"))
        .collect();
    let mut after = vec!["00 新しいリード 📈 arrives".to_string()];
    after.extend(rows.iter().take(11).cloned());
    let (w, h) = (60, 16);
    let a = table(w, h, &rows, "live");
    let b = table(w, h, &after, "live · 1 new");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    rig.show(&b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    // And back up again, the new row removed.
    rig.show(&a);
    assert_eq!(rig.backend.stats().scrolled, 2);
}

#[test]
fn a_narrow_symbol_over_half_a_wide_one_leaves_no_stray_colour() {
    let area = Rect::new(0, 0, 6, 1);
    let mut a = Buffer::empty(area);
    a.set_string(0, 0, "東京", Style::default());
    let mut b = Buffer::empty(area);
    b.set_string(0, 0, "x", Style::default().bg(Color::Indexed(236)));
    // ratatui's plain diff: the terminal erases the rest of 東 in the
    // current background, which the buffer does not have there.
    let mut plain = vt100::Parser::new(1, 6, 0);
    for (p, n) in [(&Buffer::empty(area), &a), (&a, &b)] {
        let mut v = Vec::new();
        CrosstermBackend::new(&mut v)
            .draw(p.diff_iter(n))
            .expect("encode");
        plain.process(&v);
    }
    assert_eq!(
        plain.screen().cell(0, 1).expect("cell").bgcolor(),
        vt100::Color::Idx(236)
    );
    // This backend rewrites that column.
    let mut rig = Rig::new(6, 1);
    rig.show(&a);
    rig.show(&b);
}

/// ratatui follows a VS16 emoji with a blank for its second column; written
/// after the emoji, that blank would erase it on terminals that draw it two
/// columns wide. It must go first.
#[test]
fn the_blank_after_a_vs16_emoji_is_written_before_the_emoji() {
    let area = Rect::new(0, 0, 10, 1);
    let mut prev = Buffer::empty(area);
    prev.set_string(0, 0, "abcdef", Style::default());
    let mut next = Buffer::empty(area);
    next.set_string(0, 0, "\u{2764}\u{fe0f}cdef", Style::default());
    let updates: Vec<_> = prev
        .diff(&next)
        .into_iter()
        .map(|(x, _, c)| (x, c.symbol().to_string()))
        .collect();
    // What ratatui asks for: the emoji at 0, then the blank at 1.
    assert_eq!(
        updates[0],
        (0, "\u{2764}\u{fe0f}".to_string()),
        "{updates:?}"
    );
    assert!(
        updates.iter().any(|(x, s)| *x == 1 && s == " "),
        "{updates:?}"
    );
    let (bytes, _) = plan(&prev, &next).expect("plan");
    let text = String::from_utf8_lossy(&bytes).to_string();
    let emoji = text.find('\u{2764}').expect("the emoji is written");
    let blank = text.find(' ').expect("the blank is written");
    assert!(blank < emoji, "blank after the emoji: {text:?}");
}
