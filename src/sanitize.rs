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

use unicode_segmentation::UnicodeSegmentation;
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
/// count 2, combining marks 0), measured grapheme by grapheme as ratatui's
/// buffer and a terminal lay text out: one cell run per grapheme cluster.
/// (unicode-width's whole-string width joins a few sequences across
/// clusters, such as Arabic lam + alef as one column, which the terminal
/// draws in two; the fuzz harness found it.)
pub fn width(s: &str) -> usize {
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
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
#[path = "sanitize_tests.rs"]
mod tests;
