//! The one sanitizer every string from a lead or a server passes through on
//! its way into the inbox, and the width helpers the views measure with.
//!
//! Text from a lead is written by strangers and relayed by a server we do not
//! control, so nothing in it may reach the terminal raw: not an escape
//! sequence (which could set the window title, write the clipboard with OSC
//! 52, clear the screen or move the cursor), not a bidi override (which can
//! make `evil.example` read as `elpmaxe.live`), not an invisible character
//! (which can make two different partner ids look the same). Everything such
//! a string could carry is replaced by a **visible** placeholder, so the user
//! sees that something was there:
//!
//! | input | placeholder |
//! |---|---|
//! | a whole escape sequence: `ESC [` CSI, `ESC ]` OSC (to BEL or ST), `ESC P` DCS, `ESC _` APC, `ESC ^` PM, `ESC X` SOS (to ST), any other `ESC x` pair, and their 8-bit forms U+009B, U+009D, U+0090, U+009F, U+009E, U+0098; a lone ESC | `␛` (U+241B), **one per run of sequences**, however long, so a hostile lead cannot fill the screen |
//! | C0 control U+0000..U+001F (incl. tab and newline in one-line fields) | its Control Picture `␀`..`␟` (U+2400 + code) |
//! | DEL U+007F | `␡` (U+2421) |
//! | other C1 controls U+0080..U+009F | `�` (U+FFFD) |
//! | line/paragraph separator U+2028, U+2029 | `␤` (U+2424) in one-line fields, a line break in text |
//! | bidi controls (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C), zero-width and other invisible format characters (every general category Cf character: U+200B..U+200D, U+2060..U+2064, U+FEFF, U+00AD, U+180E, U+FFF9..U+FFFB, tag characters U+E0000..U+E007F, ...), the rest of the Default_Ignorable code points (Hangul fillers U+115F, U+1160, U+3164, U+FFA0, U+FFF0..U+FFF8, U+E0080..U+E0FFF) | `�` (U+FFFD) |
//!
//! Emoji whose width terminals disagree on are given their plain form, so
//! that every terminal draws them in the columns the views measured
//! (wcwidth terminals such as tmux, GNU screen and xterm.js measure each
//! code point, others each grapheme cluster; a row measured one way and
//! drawn the other keeps stale cells or loses one):
//!
//! | input | becomes |
//! |---|---|
//! | the emoji and text presentation selectors U+FE0F, U+FE0E after a base (`❤️` `✔️` `⚠️`) | dropped: `❤` `✔` `⚠`, the base in its default presentation |
//! | the combining keycap U+20E3 (`1️⃣`) | dropped: `1` |
//! | skin-tone modifiers U+1F3FB..U+1F3FF (`👍🏽`) | dropped: `👍` |
//! | regional indicators U+1F1E6..U+1F1FF (flags, `🇸🇪`) | their letters: `SE` |
//!
//! (A zero-width joiner is an invisible format character, so a ZWJ
//! sequence already comes apart into its emoji around a `�`.)
//!
//! Combining marks and the other variation selectors are zero-width and
//! legitimate (accents, CJK variants), so they stay, with three rules that
//! keep them from hiding or smearing text:
//!
//! - a variation selector (U+FE00..U+FE0F, U+E0100..U+E01EF, Mongolian
//!   U+180B..U+180D, U+180F) stays only directly after a base character
//!   (a visible, non-zero-width one); anywhere else it becomes `�`;
//! - a combining mark with no base before it (at the start of the string or
//!   of a line) gets `◌` (U+25CC, the conventional base for a lone mark)
//!   inserted before it, so it never lands on a table border;
//! - at most [`MAX_MARKS`] zero-width characters stay on one base; the rest
//!   of such a run collapses into one `�` (no "zalgo" towers).
//!
//! Unassigned and private-use characters are left alone: they are printable
//! (or shown as tofu) and carry no control function.
//!
//! Every placeholder is a printable, width-1 character that the sanitizer
//! itself keeps, so sanitizing twice changes nothing. A placeholder cannot be
//! told from the same character typed literally in a lead; views that want to
//! style placeholders use [`is_placeholder`] (and the theme's `placeholder`
//! slot), which styles both alike, harmlessly.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use std::sync::Arc;

use crate::wire::{DecidedBy, Me, Name, Partner, Referral};

/// Placeholder for one run of escape sequences.
pub const ESCAPE_PLACEHOLDER: char = '\u{241B}';
/// Placeholder for DEL.
pub const DEL_PLACEHOLDER: char = '\u{2421}';
/// Placeholder for C1 controls and invisible/format characters.
pub const INVISIBLE_PLACEHOLDER: char = '\u{FFFD}';
/// Placeholder for U+2028/U+2029 in one-line fields.
pub const LINE_SEPARATOR_PLACEHOLDER: char = '\u{2424}';
/// Base inserted before a combining mark that has none.
pub const ORPHAN_MARK_BASE: char = '\u{25CC}';
/// Most zero-width characters (combining marks, variation selectors) kept on one base.
pub const MAX_MARKS: usize = 16;

/// Cleans a one-line field (company, ids, names, category, region, ...):
/// every control, escape sequence and invisible character becomes a visible
/// placeholder, newlines and tabs included.
pub fn clean_line(s: &str) -> String {
    clean(s, false)
}

/// Cleans a multi-line field (summary, notes): as [`clean_line`], but `\n`
/// and `\r\n` (and U+2028/U+2029) stay line breaks (`\n`) and a tab becomes
/// four spaces.
pub fn clean_text(s: &str) -> String {
    clean(s, true)
}

/// True for the characters the sanitizer writes as placeholders (the Control
/// Pictures, `␛`, `␡`, `␤`, `�` and the orphan-mark base `◌`), so that views
/// can style them apart.
pub fn is_placeholder(c: char) -> bool {
    matches!(
        c,
        '\u{2400}'..='\u{241F}' | '\u{2421}' | '\u{2424}' | '\u{FFFD}' | '\u{25CC}'
    )
}

/// True for a character the sanitizer always replaces, wherever it stands:
/// controls (C0, DEL, C1), line/paragraph separators, bidi controls and every
/// invisible format character. (`\n` is one; [`clean_text`] keeps it as the
/// line break.)
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible(c)
}

/// Display width of `s` in terminal columns (Unicode widths: wide characters
/// count 2, combining marks 0).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` fitted to exactly `w` columns: cut with `…` when it is wider (never
/// splitting a wide character so that the column would overflow), then
/// padded with spaces.
pub fn fit(s: &str, w: usize) -> String {
    if w == 0 {
        return String::new();
    }
    let total = width(s);
    if total <= w {
        let mut out = String::with_capacity(s.len() + (w - total));
        out.push_str(s);
        pad(&mut out, w - total);
        if width(&out) == w {
            return out;
        }
    }
    // Cut: the longest prefix that leaves one column for the ellipsis.
    let target = w - 1;
    let mut end = 0;
    let mut acc = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let cw = c.width().unwrap_or(1);
        if acc + cw > target {
            break;
        }
        acc += cw;
        end = i + c.len_utf8();
        // Zero-width followers (accents, selectors) belong to this character.
        while let Some(&(j, d)) = iter.peek() {
            if d.width() == Some(0) {
                end = j + d.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
    }
    // Sequences (emoji, ligatures) can make a prefix wider or narrower than
    // the sum of its characters; measure for real and back off if needed.
    loop {
        let mut out = String::with_capacity(end + 3 + w);
        out.push_str(&s[..end]);
        out.push('…');
        let ow = width(&out);
        if ow <= w {
            pad(&mut out, w - ow);
            if width(&out) == w {
                return out;
            }
        }
        if end == 0 {
            // Unreachable in practice: "…" plus spaces always measures w.
            let mut out = String::from("…");
            pad(&mut out, w - 1);
            return out;
        }
        end = s[..end].char_indices().next_back().map_or(0, |(i, _)| i);
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A referral with every string in it cleaned (ids, partners, chain, lead
/// fields, notes, decisions).
pub fn clean_referral(r: Referral) -> Referral {
    let line = |s: String| clean_owned(s, false);
    let text = |s: String| clean_owned(s, true);
    let mut r = r;
    r.id = line(r.id);
    r.from_partner = clean_name(r.from_partner);
    r.to_partner = clean_name(r.to_partner);
    let lead = &mut r.lead;
    lead.company = line(std::mem::take(&mut lead.company));
    lead.domain = lead.domain.take().map(line);
    lead.contact_name = lead.contact_name.take().map(line);
    lead.contact_email = lead.contact_email.take().map(line);
    lead.contact_phone = lead.contact_phone.take().map(line);
    lead.category = clean_name(std::mem::take(&mut lead.category));
    lead.summary = lead.summary.take().map(text);
    lead.currency = clean_name(std::mem::take(&mut lead.currency));
    lead.region = lead.region.take().map(clean_name);
    r.note = r.note.take().map(text);
    r.decision_note = r.decision_note.take().map(text);
    if let Some(d) = r.decided_by.take() {
        let plain = [&d.user, &d.name, &d.partner]
            .iter()
            .all(|n| is_plain(n, false));
        r.decided_by = Some(if plain {
            d
        } else {
            Arc::new(DecidedBy {
                user: clean_name(d.user.clone()),
                name: clean_name(d.name.clone()),
                partner: clean_name(d.partner.clone()),
            })
        });
    }
    if let Some(reason) = r.reason.as_mut() {
        reason.note = reason.note.take().map(text);
    }
    if let Some(outcome) = r.outcome.as_mut() {
        outcome.note = outcome.note.take().map(text);
    }
    r.parent_id = r.parent_id.take().map(line);
    r.forwarded_to = r.forwarded_to.take().map(line);
    if !r.chain.iter().all(|n| is_plain(n, false)) {
        r.chain = r.chain.iter().cloned().map(clean_name).collect();
    }
    r
}

/// A [`Name`] cleaned as one line; the same one when nothing needs it.
pub fn clean_name(n: Name) -> Name {
    if is_plain(&n, false) {
        n
    } else {
        Name::from(clean(&n, false))
    }
}

/// A partner with its id, name, categories and regions cleaned.
pub fn clean_partner(p: Partner) -> Partner {
    Partner {
        id: clean_line(&p.id),
        name: clean_line(&p.name),
        kind: p.kind,
        categories: p.categories.iter().map(|s| clean_line(s)).collect(),
        regions: p.regions.iter().map(|s| clean_line(s)).collect(),
    }
}

/// `GET /v1/me` with the user's and partner's ids and names cleaned.
pub fn clean_me(m: Me) -> Me {
    let mut m = m;
    m.user.id = clean_line(&m.user.id);
    m.user.name = clean_line(&m.user.name);
    m.partner.id = clean_line(&m.partner.id);
    m.partner.name = clean_line(&m.partner.name);
    m
}

/// Invisible characters: general category Cf and the other
/// Default_Ignorable code points, minus variation selectors and the
/// combining marks that are default-ignorable (U+034F, U+17B4, U+17B5),
/// which are handled as zero-width marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE00FF
            | 0xE01F0..=0xE0FFF
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(
        c as u32,
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0x180B..=0x180D | 0x180F
    )
}

/// Zero-width characters that may stay (combining marks, variation selectors, ...).
fn is_mark(c: char) -> bool {
    !is_forbidden(c) && c.width() == Some(0)
}

/// A string made only of printable ASCII (plus `\n` in text) needs no work.
fn is_plain(s: &str, multiline: bool) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7F).contains(&b) || (multiline && b == b'\n'))
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Which escape sequence an introducer opens.
enum Seq {
    /// `ESC [` / U+009B: parameters and intermediates, then one final byte.
    Csi,
    /// `ESC ]` / U+009D: a string ended by BEL or ST.
    Osc,
    /// DCS, SOS, PM, APC: a string ended by ST.
    Str,
    /// Any other `ESC`: intermediates, then one final byte.
    Esc,
}

/// As [`clean`], keeping the string itself when nothing in it needs a
/// placeholder (the usual case): no copy, no allocation.
fn clean_owned(s: String, multiline: bool) -> String {
    if is_plain(&s, multiline) {
        s
    } else {
        clean(&s, multiline)
    }
}

fn clean(s: &str, multiline: bool) -> String {
    if is_plain(s, multiline) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars: Chars = s.chars().peekable();
    // Some(n): a base character was written, then n zero-width characters.
    // None: no base to attach a mark to (start of string or line).
    let mut marks: Option<usize> = None;
    let mut after_escape = false;
    while let Some(c) = chars.next() {
        let seq = match c {
            '\x1b' => Some(match chars.peek() {
                Some('[') => {
                    chars.next();
                    Seq::Csi
                }
                Some(']') => {
                    chars.next();
                    Seq::Osc
                }
                Some('P' | 'X' | '^' | '_') => {
                    chars.next();
                    Seq::Str
                }
                _ => Seq::Esc,
            }),
            '\u{9b}' => Some(Seq::Csi),
            '\u{9d}' => Some(Seq::Osc),
            '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => Some(Seq::Str),
            _ => None,
        };
        if let Some(seq) = seq {
            skip_sequence(&mut chars, seq);
            if !after_escape {
                out.push(ESCAPE_PLACEHOLDER);
            }
            after_escape = true;
            marks = Some(0);
            continue;
        }
        after_escape = false;
        match c {
            '\n' | '\u{2028}' | '\u{2029}' if multiline => {
                out.push('\n');
                marks = None;
            }
            '\r' if multiline && chars.peek() == Some(&'\n') => {}
            '\t' if multiline => {
                out.push_str("    ");
                marks = Some(0);
            }
            '\u{2028}' | '\u{2029}' => base(&mut out, &mut marks, LINE_SEPARATOR_PLACEHOLDER),
            '\0'..='\x1f' => {
                let picture = char::from_u32(0x2400 + c as u32).unwrap_or(INVISIBLE_PLACEHOLDER);
                base(&mut out, &mut marks, picture);
            }
            '\x7f' => base(&mut out, &mut marks, DEL_PLACEHOLDER),
            _ if c.is_control() || is_invisible(c) => {
                base(&mut out, &mut marks, INVISIBLE_PLACEHOLDER)
            }
            // Emoji whose width terminals disagree on get their plain
            // form (see the module docs).
            '\u{FE0E}' | '\u{FE0F}' if marks == Some(0) => marks = Some(1),
            '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' => {}
            '\u{1F1E6}'..='\u{1F1FF}' => {
                let letter = (b'A' + (c as u32 - 0x1F1E6) as u8) as char;
                base(&mut out, &mut marks, letter);
            }
            _ if is_variation_selector(c) => {
                if marks == Some(0) {
                    out.push(c);
                    marks = Some(1);
                } else {
                    base(&mut out, &mut marks, INVISIBLE_PLACEHOLDER);
                }
            }
            _ if c.width() == Some(0) => match marks {
                None => {
                    out.push(ORPHAN_MARK_BASE);
                    out.push(c);
                    marks = Some(1);
                }
                Some(n) if n < MAX_MARKS => {
                    out.push(c);
                    marks = Some(n + 1);
                }
                Some(_) => {
                    base(&mut out, &mut marks, INVISIBLE_PLACEHOLDER);
                    while chars.peek().is_some_and(|&d| is_mark(d)) {
                        chars.next();
                    }
                }
            },
            _ => base(&mut out, &mut marks, c),
        }
    }
    out
}

/// Writes a visible, non-zero-width character.
fn base(out: &mut String, marks: &mut Option<usize>, c: char) {
    out.push(c);
    *marks = Some(0);
}

/// Consumes the rest of an escape sequence whose introducer was just read.
fn skip_sequence(chars: &mut Chars, seq: Seq) {
    match seq {
        Seq::Csi => {
            while chars.peek().is_some_and(|c| ('\x20'..='\x3f').contains(c)) {
                chars.next();
            }
            if chars.peek().is_some_and(|c| ('\x40'..='\x7e').contains(c)) {
                chars.next();
            }
        }
        Seq::Esc => {
            while chars.peek().is_some_and(|c| ('\x20'..='\x2f').contains(c)) {
                chars.next();
            }
            if chars.peek().is_some_and(|c| ('\x30'..='\x7e').contains(c)) {
                chars.next();
            }
        }
        Seq::Osc | Seq::Str => {
            let bel_ends = matches!(seq, Seq::Osc);
            while let Some(&c) = chars.peek() {
                match c {
                    '\x07' if bel_ends => {
                        chars.next();
                        return;
                    }
                    // ST (8-bit), or CAN/SUB which abort the string.
                    '\u{9c}' | '\x18' | '\x1a' => {
                        chars.next();
                        return;
                    }
                    '\x1b' => {
                        let mut look = chars.clone();
                        look.next();
                        if look.peek() == Some(&'\\') {
                            chars.next();
                            chars.next();
                        }
                        // Any other ESC starts a new sequence.
                        return;
                    }
                    _ => {
                        chars.next();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
