//! An incremental Server-Sent Events parser, as the WHATWG HTML standard
//! defines the `text/event-stream` format: bytes go in chunk by chunk (split
//! anywhere, even inside a line ending or a UTF-8 sequence), events come out.
//!
//! Lines end with CRLF, LF or CR; a line starting with `:` is a comment; a
//! field is `name: value` (one space after the colon dropped) or a bare
//! `name`; `data` lines accumulate joined by LF; a blank line dispatches the
//! event (none when no `data` came); `id` with a NUL is ignored; `retry`
//! takes only ASCII digits; a leading BOM is skipped; an unfinished event at
//! the end of the stream is dropped. Lines and events have a size bound, so
//! a hostile server cannot make the client allocate without limit.

use std::time::Duration;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The last event ID at dispatch (it persists across events until an
    /// `id` field changes it; empty when none was ever set).
    pub id: String,
    /// The event type (`message` when no `event` field came).
    pub event: String,
    /// The data lines joined by LF.
    pub data: String,
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A complete event.
    Event(SseEvent),
    /// A valid `retry:` field: the server's reconnection time.
    Retry(Duration),
}

/// The stream broke a size bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// One line longer than the bound.
    #[error("event stream line longer than {0} bytes")]
    LineTooLong(usize),
    /// One event's data longer than the bound.
    #[error("event longer than {0} bytes")]
    EventTooLarge(usize),
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Incremental parser state.
#[derive(Debug, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous byte was CR: a following LF belongs to the same ending.
    after_cr: bool,
    /// How many BOM bytes have matched so far; `None` once decided.
    bom_matched: Option<usize>,
    data: String,
    event_type: String,
    last_event_id: String,
    max_line: usize,
    max_event: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with bounds of 4 MiB per line and 8 MiB per event.
    pub fn new() -> Self {
        Self::with_limits(4 * 1024 * 1024, 8 * 1024 * 1024)
    }

    /// A parser with the given bounds in bytes.
    pub fn with_limits(max_line: usize, max_event: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            bom_matched: Some(0),
            data: String::new(),
            event_type: String::new(),
            last_event_id: String::new(),
            max_line,
            max_event,
        }
    }

    /// The last event ID buffer (what a browser would resume from).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Feeds one chunk, appending what it completes to `out`. After an
    /// error the parser must not be fed again (drop the connection).
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseItem>) -> Result<(), SseError> {
        // Skip a leading byte order mark, which may itself be split.
        while let Some(matched) = self.bom_matched {
            let Some(&b) = chunk.first() else {
                return Ok(());
            };
            if b == BOM[matched] {
                chunk = &chunk[1..];
                self.bom_matched = if matched + 1 == BOM.len() {
                    None
                } else {
                    Some(matched + 1)
                };
            } else {
                self.bom_matched = None;
                // The bytes taken for a BOM were not one: give them back.
                let taken = BOM[..matched].to_vec();
                self.feed_lines(&taken, out)?;
            }
        }
        self.feed_lines(chunk, out)
    }

    fn feed_lines(&mut self, mut chunk: &[u8], out: &mut Vec<SseItem>) -> Result<(), SseError> {
        while !chunk.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    continue;
                }
            }
            match chunk.iter().position(|&b| b == b'\r' || b == b'\n') {
                Some(i) => {
                    self.push_line_bytes(&chunk[..i])?;
                    self.after_cr = chunk[i] == b'\r';
                    chunk = &chunk[i + 1..];
                    self.end_line(out)?;
                }
                None => {
                    self.push_line_bytes(chunk)?;
                    chunk = &[];
                }
            }
        }
        Ok(())
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > self.max_line {
            return Err(SseError::LineTooLong(self.max_line));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<SseItem>) -> Result<(), SseError> {
        let raw = std::mem::take(&mut self.line);
        if raw.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if raw[0] == b':' {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw);
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    return Err(SseError::EventTooLarge(self.max_event));
                }
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                self.last_event_id.clear();
                self.last_event_id.push_str(value);
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // All digits but too large for u64: ignored, like any bad value.
                if let Ok(ms) = value.parse::<u64>() {
                    out.push(SseItem::Retry(Duration::from_millis(ms)));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the LF after the last data line
        let event = if self.event_type.is_empty() {
            "message".to_string()
        } else {
            std::mem::take(&mut self.event_type)
        };
        self.event_type.clear();
        out.push(SseItem::Event(SseEvent {
            id: self.last_event_id.clone(),
            event,
            data,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out).unwrap();
        }
        out
    }

    fn ev(id: &str, event: &str, data: &str) -> SseItem {
        SseItem::Event(SseEvent {
            id: id.into(),
            event: event.into(),
            data: data.into(),
        })
    }

    /// Every way of cutting `input` in two, and byte by byte, parses the same.
    fn all_splits_agree(input: &[u8]) -> Vec<SseItem> {
        let whole = parse_chunks(&[input]);
        for i in 0..=input.len() {
            assert_eq!(
                parse_chunks(&[&input[..i], &input[i..]]),
                whole,
                "split at {i}"
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes), whole, "byte by byte");
        whole
    }

    #[test]
    fn the_protocol_example() {
        let got = all_splits_agree(
            b"retry: 2000\n\nid: 1042\nevent: referral\ndata: {\"a\":1}\n\n: ping\n\n",
        );
        assert_eq!(
            got,
            [
                SseItem::Retry(Duration::from_millis(2000)),
                ev("1042", "referral", "{\"a\":1}")
            ]
        );
    }

    #[test]
    fn line_endings_crlf_lf_cr_mixed() {
        let want = [ev("1", "referral", "a\nb"), ev("2", "x", "c")];
        for input in [
            &b"id: 1\r\nevent: referral\r\ndata: a\r\ndata: b\r\n\r\nid: 2\r\nevent: x\r\ndata: c\r\n\r\n"[..],
            &b"id: 1\nevent: referral\ndata: a\ndata: b\n\nid: 2\nevent: x\ndata: c\n\n"[..],
            &b"id: 1\revent: referral\rdata: a\rdata: b\r\rid: 2\revent: x\rdata: c\r\r"[..],
            &b"id: 1\r\nevent: referral\rdata: a\ndata: b\r\n\rid: 2\nevent: x\r\ndata: c\r\r\n"[..],
        ] {
            assert_eq!(all_splits_agree(input), want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn cr_then_lf_in_the_next_chunk_is_one_line_ending() {
        // "data: a\r" | "\ndata: b\n\n": the LF must not make an empty line.
        let got = parse_chunks(&[b"data: a\r", b"\ndata: b\n\n"]);
        assert_eq!(got, [ev("", "message", "a\nb")]);
        // CR CR is a blank line: the event is dispatched.
        let got = parse_chunks(&[b"data: a\r", b"\r"]);
        assert_eq!(got, [ev("", "message", "a")]);
    }

    #[test]
    fn field_syntax_details() {
        let got = all_splits_agree(
            b"data:no space\n\ndata:  two spaces\n\ndata\n\ndata:\n\ndata: x: y\n\n",
        );
        assert_eq!(
            got,
            [
                ev("", "message", "no space"),
                ev("", "message", " two spaces"),
                ev("", "message", ""),
                ev("", "message", ""),
                ev("", "message", "x: y"),
            ]
        );
    }

    #[test]
    fn comments_unknown_fields_and_empty_events() {
        let got = all_splits_agree(
            b": hello\n:\nfoo: bar\nDATA: upper is another field\n\nevent: lonely\n\ndata: kept\n\n",
        );
        // "event: lonely" without data dispatches nothing and its type does not leak.
        assert_eq!(got, [ev("", "message", "kept")]);
    }

    #[test]
    fn ids_persist_reset_and_refuse_nul() {
        let got = all_splits_agree(
            b"id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid\ndata: d\n\nid: 9\n\ndata: e\n\n",
        );
        assert_eq!(
            got,
            [
                ev("7", "message", "a"),
                ev("7", "message", "b"),
                ev("7", "message", "c"),
                ev("", "message", "d"),
                ev("9", "message", "e"),
            ]
        );
    }

    #[test]
    fn retry_takes_only_digits() {
        let got = all_splits_agree(b"retry: 1500\nretry: 15x\nretry: -1\nretry:\nretry:3000\n");
        assert_eq!(
            got,
            [
                SseItem::Retry(Duration::from_millis(1500)),
                SseItem::Retry(Duration::from_millis(3000))
            ]
        );
        let got = parse_chunks(&[b"retry: 99999999999999999999999\n"]);
        assert!(got.is_empty(), "an overflowing retry is ignored");
    }

    #[test]
    fn unfinished_event_is_not_dispatched() {
        let got = parse_chunks(&[b"id: 5\nevent: referral\ndata: {\"partial\""]);
        assert!(got.is_empty());
        let got = parse_chunks(&[b"data: a\n"]);
        assert!(got.is_empty(), "no blank line yet");
    }

    #[test]
    fn utf8_split_across_chunks_and_bom() {
        let input = "\u{FEFF}data: caf\u{e9} \u{1F600}\n\n".as_bytes();
        assert_eq!(
            all_splits_agree(input),
            [ev("", "message", "caf\u{e9} \u{1F600}")]
        );
        // Only one BOM is skipped, and only at the start.
        let input = "\u{FEFF}\u{FEFF}data: x\n\n".as_bytes();
        assert_eq!(all_splits_agree(input), []);
        // A partial BOM that is not one gives its bytes back.
        let got = parse_chunks(&[&[0xEF], b"data: y\n\n"]);
        assert_eq!(got.len(), 0, "0xEF starts the field name, so no data field");
        let got = parse_chunks(&[&[0xEF, 0xBB], b"\ndata: y\n\n"]);
        assert_eq!(got, [ev("", "message", "y")]);
        // Invalid UTF-8 becomes U+FFFD, never a panic.
        let got = parse_chunks(&[b"data: \xff\xfe\n\n"]);
        assert_eq!(got, [ev("", "message", "\u{FFFD}\u{FFFD}")]);
    }

    #[test]
    fn size_bounds_hold() {
        let mut p = SseParser::with_limits(16, 32);
        let mut out = Vec::new();
        assert_eq!(
            p.feed(b"data: 0123456789abcdef", &mut out),
            Err(SseError::LineTooLong(16))
        );
        let mut p = SseParser::with_limits(16, 20);
        let r = p.feed(b"data: 0123456789\ndata: 0123456789\n", &mut out);
        assert_eq!(r, Err(SseError::EventTooLarge(20)));
        let mut p = SseParser::with_limits(16, 64);
        out.clear();
        p.feed(b"data: 0123456789\n\n", &mut out).unwrap();
        assert_eq!(out, [ev("", "message", "0123456789")]);
    }

    #[test]
    fn many_events_in_one_chunk_and_one_event_in_many() {
        let mut input = Vec::new();
        for i in 1..=50u32 {
            input.extend_from_slice(
                format!("id: {i}\nevent: referral\ndata: {{\"n\":{i}}}\n\n").as_bytes(),
            );
            if i % 7 == 0 {
                input.extend_from_slice(b": ping\n\n");
            }
        }
        let got = all_splits_agree(&input);
        assert_eq!(got.len(), 50);
        for (i, item) in got.iter().enumerate() {
            let n = i + 1;
            assert_eq!(
                item,
                &ev(&n.to_string(), "referral", &format!("{{\"n\":{n}}}"))
            );
        }
    }
}
