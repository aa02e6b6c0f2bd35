//! Case-insensitive substring search that allocates nothing on the common
//! path: the needle is lower-cased once, at parse time; haystacks are
//! searched as they are, folding ASCII case byte by byte, eight bytes at a
//! time. Only a haystack that holds non-ASCII text, and did not match on the
//! fast path, is lower-cased (Unicode) and searched again.

/// A search needle: the text as typed and what the search needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Needle {
    /// As typed (printed back by `Display`).
    text: String,
    /// `text.to_lowercase()`.
    lower: String,
    /// Index (in bytes of `lower`) of the byte the scan looks for first:
    /// the rarest one, so that few candidates need checking.
    pivot: usize,
}

impl Needle {
    /// A needle for `text` (non-empty in every parsed query).
    pub(crate) fn new(text: &str) -> Self {
        let lower = text.to_lowercase();
        let pivot = lower
            .bytes()
            .enumerate()
            .min_by_key(|&(i, b)| (commonness(b), i))
            .map_or(0, |(i, _)| i);
        Self {
            text: text.to_string(),
            lower,
            pivot,
        }
    }

    /// The text as typed.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether `lowered`, a text already lower-cased (Unicode), contains
    /// the needle: the fast scan alone, no fallback.
    pub(crate) fn found_in_lowered(&self, lowered: &str) -> bool {
        matches!(
            scan(lowered.as_bytes(), self.lower.as_bytes(), self.pivot),
            Scan::Found
        )
    }

    /// The text lower-cased.
    pub(crate) fn lower(&self) -> &str {
        &self.lower
    }

    /// Whether `haystack`, lower-cased, contains the needle lower-cased.
    pub(crate) fn found_in(&self, haystack: &str) -> bool {
        match scan(haystack.as_bytes(), self.lower.as_bytes(), self.pivot) {
            Scan::Found => true,
            Scan::Missing { non_ascii: false } => false,
            // Unicode case folding may map non-ASCII text onto the needle
            // ('É' onto 'é', KELVIN SIGN onto 'k'): the slow, exact path.
            Scan::Missing { non_ascii: true } => haystack.to_lowercase().contains(&self.lower),
        }
    }
}

/// How common a (lower-case) byte is in lead text; lower is rarer.
fn commonness(b: u8) -> u8 {
    const BY_FREQUENCY: &[u8; 26] = b"zqjxkvbpygfwmucldrhsnioate";
    match b {
        b' ' => 60,
        b'a'..=b'z' => {
            let rank = BY_FREQUENCY.iter().position(|&c| c == b).unwrap_or(0);
            20 + rank as u8
        }
        b'0'..=b'9' => 15,
        0x80..=0xff => 5,
        _ => 10,
    }
}

/// The outcome of the fast scan.
enum Scan {
    Found,
    /// Not found folding ASCII case only; `non_ascii` says whether the
    /// haystack holds any non-ASCII byte (and so needs the slow path).
    Missing {
        non_ascii: bool,
    },
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `x` that is zero, and no other bit.
#[inline]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOWS).wrapping_add(LOWS)) | x | LOWS)
}

/// Looks for `needle` (already lower-case) in `hay`, folding ASCII case.
fn scan(hay: &[u8], needle: &[u8], pivot: usize) -> Scan {
    let n = needle.len();
    if n == 0 {
        return Scan::Found;
    }
    let len = hay.len();
    if len < n {
        return Scan::Missing {
            non_ascii: !hay.is_ascii(),
        };
    }
    let p = needle[pivot];
    // For a letter, `b | 0x20 == p` holds exactly for its two cases.
    let fold: u8 = if p.is_ascii_lowercase() { 0x20 } else { 0 };
    // A match starting at `s` has its pivot byte at `s + pivot`, for `s` in
    // 0..=len - n: the pivot positions worth checking are `first..=last`.
    let (first, last) = (pivot, len - n + pivot);
    let check = |i: usize| {
        i >= first && i <= last && hay[i - pivot..i - pivot + n].eq_ignore_ascii_case(needle)
    };
    if len < 8 {
        let mut seen = 0u8;
        for (i, &b) in hay.iter().enumerate() {
            seen |= b;
            if (b | fold) == p && check(i) {
                return Scan::Found;
            }
        }
        return Scan::Missing {
            non_ascii: seen >= 0x80,
        };
    }
    let fold_word = u64::from(fold) * ONES;
    let target_word = u64::from(p) * ONES;
    let mut seen = 0u64;
    // Eight bytes at a time over the whole haystack (so that `seen` covers
    // every byte); the last word overlaps the one before it.
    let mut base = 0usize;
    let mut skip_below = 0usize;
    loop {
        let mut word = [0u8; 8];
        word.copy_from_slice(&hay[base..base + 8]);
        let w = u64::from_le_bytes(word);
        seen |= w;
        let mut hits = zero_bytes((w | fold_word) ^ target_word);
        while hits != 0 {
            let i = base + (hits.trailing_zeros() / 8) as usize;
            if i >= skip_below && check(i) {
                return Scan::Found;
            }
            hits &= hits - 1;
        }
        if base + 8 >= len {
            break;
        }
        skip_below = base + 8;
        base = (base + 8).min(len - 8);
    }
    Scan::Missing {
        non_ascii: seen & HIGHS != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(hay: &str, needle: &str) -> bool {
        hay.to_lowercase().contains(&needle.to_lowercase())
    }

    #[test]
    fn finds_in_any_case_and_position() {
        let hay = "Main Street Bakery, 12 Main St — Zürich";
        for needle in [
            "main", "MAIN", "bakery", "street b", "st — z", "zürich", "ZÜRICH", "12", "h", "y,",
        ] {
            assert!(Needle::new(needle).found_in(hay), "{needle:?}");
        }
        for needle in ["mainz", "bakeries", "zurich", "  ", "13"] {
            assert!(!Needle::new(needle).found_in(hay), "{needle:?}");
        }
    }

    #[test]
    fn matches_at_both_ends_and_across_chunk_boundaries() {
        let hay = "abcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..hay.len() {
            for len in 1..=(hay.len() - start).min(9) {
                let needle = hay[start..start + len].to_uppercase();
                assert!(Needle::new(&needle).found_in(hay), "{needle:?}");
            }
        }
        assert!(!Needle::new("9a").found_in(hay));
        assert!(!Needle::new(&format!("{hay}!")).found_in(hay));
    }

    #[test]
    fn zero_bytes_is_exact() {
        let x = u64::from_le_bytes([0, 1, 0, 0x80, 0xff, 0x01, 0x00, 0x7f]);
        let z = zero_bytes(x);
        let flagged: Vec<usize> = (0..8).filter(|k| z & (0x80 << (8 * k)) != 0).collect();
        assert_eq!(flagged, [0, 2, 6]);
        assert_eq!(z & !HIGHS, 0);
    }

    #[test]
    fn long_haystacks_with_overlapping_last_word() {
        for len in 8..40 {
            let hay: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let tail = &hay[len - 3..];
            assert!(Needle::new(&tail.to_uppercase()).found_in(&hay), "{len}");
            assert!(Needle::new(&hay[..2]).found_in(&hay), "{len}");
            let mut non_ascii = hay.clone();
            non_ascii.push('É');
            assert!(Needle::new("é").found_in(&non_ascii), "{len}");
            assert!(!Needle::new("é").found_in(&hay), "{len}");
        }
    }

    #[test]
    fn unicode_folding_falls_back_only_when_needed() {
        // KELVIN SIGN lower-cases to ASCII 'k'.
        assert!(Needle::new("kilo").found_in("\u{212A}ILO"));
        assert!(Needle::new("straße").found_in("STRAßE 5"));
        assert!(Needle::new("ÉCOLE").found_in("une école"));
        assert!(!Needle::new("école").found_in("ecole"));
        // Non-letter pivots with bytes that would fold onto letters.
        assert!(!Needle::new("@").found_in("`````````````"));
        assert!(Needle::new("@x").found_in("aaaaaaaaaaaa@X"));
    }

    #[test]
    fn agrees_with_lowercase_contains() {
        let hays = [
            "",
            "a",
            "Acme Web Hosting",
            "ACME-WEB",
            "ßtraße",
            "İstanbul Office",
            "aaaaaaaaaaaaaaaaaaaaaaab",
            "x\u{212A}y",
        ];
        let needles = [
            "a", "acme", "web h", "b", "aab", "ss", "ß", "i", "istanbul", "k", "xky", "tra",
        ];
        for h in hays {
            for n in needles {
                assert_eq!(Needle::new(n).found_in(h), naive(h, n), "{n:?} in {h:?}");
            }
        }
    }
}
