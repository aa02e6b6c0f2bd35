//! Looking into what the inbox wrote: lines of its screen text (status
//! bar, cursor row) and patterns in its raw bytes (SGR sequences, frames).

/// The status bar of `screen` (second line from the bottom).
pub fn status_line(screen: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    // vt100 drops trailing empty rows; the hints line is never empty.
    lines
        .len()
        .checked_sub(2)
        .map(|i| lines[i].to_owned())
        .unwrap_or_default()
}

/// The line of `screen` marked with the cursor glyph `▶`.
pub fn cursor_row(screen: &str) -> Option<String> {
    screen.lines().find(|l| l.contains('▶')).map(str::to_owned)
}

/// Whether `hay` contains `needle`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// How many times `needle` occurs in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Where `needle` last occurs in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The parameters of every SGR sequence (`ESC [ ... m`) in `bytes`.
pub fn sgr_params(bytes: &[u8]) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0x1b && bytes[i + 1] == b'[' {
            let start = i + 2;
            let mut j = start;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit() || bytes[j] == b';' || bytes[j] == b':')
            {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'm' {
                let params = std::str::from_utf8(&bytes[start..j]).unwrap_or("");
                out.push(
                    params
                        .split([';', ':'])
                        .map(|p| p.parse().unwrap_or(0))
                        .collect(),
                );
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The frames in `bytes`: each synchronized update, `ESC [ ? 2026 h` to
/// `ESC [ ? 2026 l`, both included.
pub fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"\x1b[?2026h";
    const END: &[u8] = b"\x1b[?2026l";
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(b) = find_from(bytes, BEGIN, i) {
        let Some(e) = find_from(bytes, END, b + BEGIN.len()) else {
            break;
        };
        out.push(&bytes[b..e + END.len()]);
        i = e + END.len();
    }
    out
}

fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}
