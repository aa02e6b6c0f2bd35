//! Pacing frames to the link (issue 13, item 3).
//!
//! The runtime draws only when something changed. On a slow link that is
//! not enough: every frame written is queued and shown in turn, so after a
//! burst of keys the screen replays each intermediate state for seconds.
//! [`Pacer`] decides, each time the state is dirty, whether to draw now or
//! to wait and draw the newest state later:
//!
//! - never two frames less than [`FRAME_GAP`] apart, nor closer than the
//!   configured ceiling (`[ui] max_fps`);
//! - never while the terminal's output queue ([`output_queue`], Linux's
//!   `TIOCOUTQ`) still holds more than [`QUEUE_SLACK`] bytes: the frame in
//!   flight drains first, and the keys that arrive meanwhile are folded into
//!   the one frame drawn after it. The wait is the time the queue needs to
//!   drain at the rate it was seen draining, polled again (2–100 ms), so a
//!   draining link costs a few wakeups and an idle one none.
//!
//! - with `[ui] link_baud` set, never before the link has had the time to
//!   carry the frames already written (bytes × 10 bits / baud, 8N1);
//! - typeahead, as vim and less do it: while keys keep coming close together
//!   (autorepeat, a paste, fast typing: [`Pacer::input`]) and a frame takes
//!   the link longer than the pause the pacer would wait for, no frame is
//!   started until the keys pause ([`TYPEAHEAD_FACTOR`] × their spacing) or
//!   [`MAX_DEFER`] has passed since the last frame. With a ceiling
//!   (`max_fps`) and no link speed, the gap stands for the frame's cost: a
//!   frame started in the middle of a burst keeps the last one back by it. The first key of a
//!   burst is drawn at once; the ones after it fold into one frame drawn
//!   when they stop, so no frame of an old state is on the line in front
//!   of the last one.
//!
//! The queue is only seen on a real serial line: a pseudo-terminal moves
//! what the inbox writes straight to the other side's input (Linux reports
//! an empty output queue on the pty however much is unread), and over SSH
//! the server reads it at once and the backlog waits in the network. There
//! the ceiling and the link's speed pace. A front end that owns the
//! channel (the SSH front end) passes its own measure as `queued` to
//! [`Pacer::decide`]: the bytes written to the channel and not yet sent or
//! acknowledged (its unflushed window). Those are paced like the terminal's
//! output queue, and the rate they drain at also tells typeahead how long a
//! frame takes.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shortest time between two frames.
pub const FRAME_GAP: Duration = Duration::from_millis(10);
/// Bytes the output queue may still hold when a frame is drawn: the tail
/// of the frame before (64 bytes take 67 ms at 9600 baud).
pub const QUEUE_SLACK: usize = 64;
/// How soon the queue is looked at again when its drain rate is unknown.
const POLL: Duration = Duration::from_millis(10);
/// Bounds of the wait for a draining queue.
const POLL_MIN: Duration = Duration::from_millis(2);
const POLL_MAX: Duration = Duration::from_millis(100);
/// Keys at most this far apart are typeahead (a burst).
pub const TYPEAHEAD_GAP: Duration = Duration::from_millis(100);
/// During a burst the pacer waits for a pause of this many times the
/// keys' spacing before drawing (1.5: a key late by half its spacing, as
/// under load, does not end the burst).
pub const TYPEAHEAD_FACTOR: f64 = 1.5;
/// Typeahead never holds the screen longer than this after the last frame:
/// a key held down still shows its progress.
pub const MAX_DEFER: Duration = Duration::from_secs(1);

/// What to do with a dirty state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Draw the frame now.
    Draw,
    /// Look again after this long (new messages may come first).
    Wait(Duration),
}

/// Decides when the next frame may be drawn (see the module docs).
#[derive(Debug, Clone)]
pub struct Pacer {
    min_gap: Duration,
    /// The queue as last seen while waiting for it: when, and how full.
    seen: Option<(Instant, usize)>,
    /// The link's speed in bytes a second, when configured.
    link: Option<f64>,
    /// When the link will have carried every frame written (with `link`).
    busy_until: Option<Instant>,
    /// The output queue's drain rate as last seen, bytes a second.
    drain_rate: Option<f64>,
    /// The size of the last frame that wrote anything.
    last_frame_bytes: u64,
    /// When the last key came, and how long after the one before it.
    key: Option<(Instant, Option<Duration>)>,
}

impl Pacer {
    /// A pacer with an optional ceiling of `max_fps` frames a second and
    /// an optional link speed in baud (bits a second, 10 bits a byte).
    pub fn new(max_fps: Option<u32>, link_baud: Option<u32>) -> Pacer {
        let ceiling = max_fps
            .filter(|f| *f > 0)
            .map_or(Duration::ZERO, |f| Duration::from_secs(1) / f);
        Pacer {
            min_gap: ceiling.max(FRAME_GAP),
            seen: None,
            link: link_baud.filter(|b| *b > 0).map(|b| f64::from(b) / 10.0),
            busy_until: None,
            drain_rate: None,
            last_frame_bytes: 0,
            key: None,
        }
    }

    /// Notes that a key (any input from the user) came at `now`.
    pub fn input(&mut self, now: Instant) {
        let gap = self
            .key
            .map(|(then, _)| now.saturating_duration_since(then));
        self.key = Some((now, gap));
    }

    /// How long a frame takes the link, from the last frame's size and the
    /// link's speed (configured, or as the queue was seen draining).
    fn frame_time(&self) -> Option<Duration> {
        let rate = self.link.or(self.drain_rate)?;
        Some(Duration::from_secs_f64(self.last_frame_bytes as f64 / rate))
    }

    /// While a burst of keys goes on over a slow link: until when to hold
    /// the frame (see the module docs).
    fn typeahead(&self, now: Instant, since: Duration) -> Option<Instant> {
        let (last, gap) = self.key?;
        let gap = gap.filter(|g| *g <= TYPEAHEAD_GAP)?;
        let pause = gap.mul_f64(TYPEAHEAD_FACTOR);
        let until = last + pause;
        // A frame started now costs the link its time, and with a ceiling
        // (`max_fps`) it also keeps the next one back by the gap.
        let ceiling = Some(self.min_gap).filter(|g| *g > FRAME_GAP);
        let worth = self.frame_time().max(ceiling)? > pause;
        let left = MAX_DEFER.checked_sub(since)?;
        (worth && until > now).then(|| until.min(now + left))
    }

    /// Notes that a frame of `bytes` was written at `now`.
    pub fn drawn(&mut self, now: Instant, bytes: u64) {
        if bytes > 0 {
            self.last_frame_bytes = bytes;
        }
        if let Some(rate) = self.link {
            let from = self.busy_until.filter(|b| *b > now).unwrap_or(now);
            self.busy_until = Some(from + Duration::from_secs_f64(bytes as f64 / rate));
        }
    }

    /// The shortest time between two frames.
    pub fn min_gap(&self) -> Duration {
        self.min_gap
    }

    /// Whether to draw at `now`, `since` the last frame, with `queued`
    /// bytes written and not yet carried (`None`: not known): the
    /// terminal's output queue ([`output_queue`]) or, for a front end that
    /// owns the channel (SSH), its unflushed window bytes.
    pub fn decide(&mut self, now: Instant, since: Duration, queued: Option<usize>) -> Pace {
        if since < self.min_gap {
            return Pace::Wait(self.min_gap - since);
        }
        if let (Some(busy), Some(rate)) = (self.busy_until, self.link) {
            // The link still carries more than the slack.
            let slack = Duration::from_secs_f64(QUEUE_SLACK as f64 / rate);
            if busy > now + slack {
                return Pace::Wait(busy - now - slack);
            }
        }
        if let Some(until) = self.typeahead(now, since) {
            return Pace::Wait(until - now);
        }
        let Some(q) = queued.filter(|q| *q > QUEUE_SLACK) else {
            self.seen = None;
            return Pace::Draw;
        };
        let wait = match self.seen {
            Some((then, before)) if before > q && now > then => {
                // Bytes a second, as seen since the last look.
                let rate = (before - q) as f64 / (now - then).as_secs_f64();
                self.drain_rate = Some(rate);
                Duration::from_secs_f64((q - QUEUE_SLACK) as f64 / rate)
            }
            _ => POLL,
        };
        self.seen = Some((now, q));
        Pace::Wait(wait.clamp(POLL_MIN, POLL_MAX))
    }
}

/// A writer that counts the bytes written through it (the frames' sizes,
/// for [`Pacer::drawn`]).
pub struct Counted<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W> Counted<W> {
    /// Wraps `inner`; the count is read through the returned handle.
    pub fn new(inner: W) -> (Counted<W>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Counted {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Bytes written to the terminal `fd` and not yet sent (Linux's
/// `TIOCOUTQ`); `None` where the platform does not say.
#[cfg(target_os = "linux")]
pub fn output_queue(fd: std::os::fd::RawFd) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which is valid
    // for the call; a descriptor that is not a terminal fails with ENOTTY.
    let r = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    (r == 0).then(|| usize::try_from(n).unwrap_or(0))
}

/// Bytes written to the terminal `fd` and not yet sent; `None` where the
/// platform does not say.
#[cfg(not(target_os = "linux"))]
pub fn output_queue(_fd: std::os::fd::RawFd) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn frames_keep_the_gap_and_the_ceiling() {
        let now = Instant::now();
        let mut p = Pacer::new(None, None);
        assert_eq!(p.decide(now, 3 * MS, Some(0)), Pace::Wait(7 * MS));
        assert_eq!(p.decide(now, 10 * MS, Some(0)), Pace::Draw);
        let mut p = Pacer::new(Some(20), None);
        assert_eq!(p.min_gap(), 50 * MS);
        assert_eq!(p.decide(now, 20 * MS, None), Pace::Wait(30 * MS));
        assert_eq!(p.decide(now, 50 * MS, None), Pace::Draw);
        // A ceiling above 100 fps is the 10 ms floor.
        assert_eq!(Pacer::new(Some(1000), None).min_gap(), FRAME_GAP);
    }

    #[test]
    fn a_draining_queue_holds_the_frame_until_it_has_drained() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None, None);
        let idle = Duration::from_secs(1);
        // Unknown rate: look again soon.
        assert_eq!(p.decide(t0, idle, Some(464)), Pace::Wait(POLL));
        // 10 ms later 10 bytes have gone (1 KB/s, 9600 baud): the other
        // 390 over the slack take 390 ms, looked at after at most 100.
        let t1 = t0 + 10 * MS;
        assert_eq!(p.decide(t1, idle, Some(454)), Pace::Wait(POLL_MAX));
        // At 56k (5.6 KB/s) 120 bytes over the slack take ~21 ms.
        let t2 = t1 + 50 * MS;
        match p.decide(t2, idle, Some(184)) {
            Pace::Wait(d) => assert!((20 * MS..=23 * MS).contains(&d), "{d:?}"),
            Pace::Draw => panic!("the queue still holds a frame"),
        }
        // Down to the slack: draw.
        assert_eq!(p.decide(t2 + 21 * MS, idle, Some(QUEUE_SLACK)), Pace::Draw);
        // The queue not known (not a terminal, not Linux): draw.
        assert_eq!(p.decide(t2, idle, None), Pace::Draw);
    }

    #[test]
    fn with_the_link_speed_a_frame_waits_for_the_ones_before_it() {
        let t0 = Instant::now();
        // 9600 baud: 960 bytes a second; the 64 bytes of slack take 66.7 ms.
        let mut p = Pacer::new(None, Some(9600));
        let idle = Duration::from_secs(1);
        assert_eq!(p.decide(t0, idle, None), Pace::Draw);
        p.drawn(t0, 480); // 500 ms on the line
        let wait = |p: &mut Pacer, t: Instant| match p.decide(t, idle, Some(0)) {
            Pace::Wait(d) => d.as_millis(),
            Pace::Draw => 0,
        };
        assert_eq!(wait(&mut p, t0 + 100 * MS), 333);
        // A second frame written before the first was carried queues behind it.
        p.drawn(t0 + 100 * MS, 96); // until 600 ms
        assert_eq!(wait(&mut p, t0 + 200 * MS), 333);
        assert_eq!(wait(&mut p, t0 + 534 * MS), 0);
        // Without a link speed nothing is assumed.
        let mut q = Pacer::new(None, None);
        q.drawn(t0, 100_000);
        assert_eq!(q.decide(t0, idle, None), Pace::Draw);
    }

    /// The outcome of `decide`, in whole milliseconds of wait (0: draw).
    fn wait_ms(p: &mut Pacer, t: Instant, since: Duration, queued: Option<usize>) -> u128 {
        match p.decide(t, since, queued) {
            Pace::Wait(d) => d.as_millis().max(1),
            Pace::Draw => 0,
        }
    }

    #[test]
    fn a_burst_of_keys_on_a_slow_link_is_drawn_once_when_it_stops() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None, Some(9600));
        // The first key of a burst is drawn at once: 336 bytes, 350 ms.
        p.input(t0);
        assert_eq!(wait_ms(&mut p, t0, Duration::from_secs(5), None), 0);
        p.drawn(t0, 336);
        // Keys every 30 ms. While the frame is on the line, the link holds.
        for i in 1..=19u32 {
            let t = t0 + 30 * MS * i;
            p.input(t);
            let since = t - t0;
            let w = wait_ms(&mut p, t, since, None);
            assert!(w > 0, "key {i}: drawn while the keys still come");
            if since > 350 * MS {
                // The line is free: typeahead holds until a 45 ms pause.
                assert_eq!(w, 45, "key {i}");
            }
        }
        // 45 ms after the last key (570 ms), the newest state is drawn.
        let last = t0 + 570 * MS;
        assert_eq!(wait_ms(&mut p, last + 44 * MS, 614 * MS, None), 1);
        assert_eq!(wait_ms(&mut p, last + 45 * MS, 615 * MS, None), 0);
    }

    #[test]
    fn typeahead_holds_only_when_a_frame_costs_more_than_the_pause() {
        let t0 = Instant::now();
        let burst = |p: &mut Pacer| {
            p.input(t0);
            p.input(t0 + 30 * MS);
        };
        // The last frame, 400 bytes, went 200 ms before the burst.
        let before = t0 - 200 * MS;
        let at = t0 + 40 * MS;
        let since = 240 * MS;
        // No link speed and no queue seen: nothing is known; draw.
        let mut p = Pacer::new(None, None);
        p.drawn(before, 400);
        burst(&mut p);
        assert_eq!(wait_ms(&mut p, at, since, None), 0);
        // A fast link (1 Mbaud: 400 bytes take 4 ms, less than the 45 ms
        // pause): draw.
        let mut p = Pacer::new(None, Some(1_000_000));
        p.drawn(before, 400);
        burst(&mut p);
        assert_eq!(wait_ms(&mut p, at, since, None), 0);
        // 56k: the same frame takes 71 ms; hold until the pause.
        let mut p = Pacer::new(None, Some(56_000));
        p.drawn(before, 400);
        burst(&mut p);
        assert_eq!(wait_ms(&mut p, at, since, None), 35);
        // A ceiling of 2 frames a second, the link's speed not known: a
        // frame drawn now would keep the last one back by 500 ms; hold.
        let mut p = Pacer::new(Some(2), None);
        p.drawn(t0 - 600 * MS, 400);
        burst(&mut p);
        assert_eq!(wait_ms(&mut p, at, 640 * MS, None), 35);
        // Keys 150 ms apart are typing, not a burst: draw.
        let mut p = Pacer::new(None, Some(9600));
        p.drawn(t0 - 600 * MS, 400);
        p.input(t0 - 150 * MS);
        p.input(t0);
        assert_eq!(wait_ms(&mut p, t0 + MS, 601 * MS, None), 0);
        // Nor is a first key after a pause of a second.
        let mut p = Pacer::new(None, Some(9600));
        p.drawn(t0 - 600 * MS, 400);
        p.input(t0 - 1000 * MS);
        p.input(t0);
        assert_eq!(wait_ms(&mut p, t0 + MS, 601 * MS, None), 0);
    }

    #[test]
    fn a_key_held_down_still_shows_a_frame_a_second() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None, Some(9600));
        p.drawn(t0, 336);
        let mut t = t0;
        for _ in 0..40 {
            t += 30 * MS;
            p.input(t);
        }
        // 1.2 s after the last frame, keys still coming: draw anyway.
        assert_eq!(wait_ms(&mut p, t, t - t0, None), 0);
        // 0.9 s after it, held to the 1 s cap at the most.
        let t = t0 + 900 * MS;
        let mut p = Pacer::new(None, Some(9600));
        p.drawn(t0, 336);
        p.input(t - 30 * MS);
        p.input(t);
        assert_eq!(wait_ms(&mut p, t, 900 * MS, None), 45);
        let t = t0 + 980 * MS;
        p.input(t);
        assert_eq!(wait_ms(&mut p, t, 980 * MS, None), 20);
    }

    #[test]
    fn an_external_queue_paces_and_its_drain_rate_drives_typeahead() {
        // What an SSH front end passes: its unflushed window bytes.
        let t0 = Instant::now();
        let mut p = Pacer::new(None, None);
        let idle = Duration::from_secs(1);
        p.input(t0);
        assert_eq!(wait_ms(&mut p, t0, idle, Some(0)), 0);
        p.drawn(t0, 400);
        // The window drains at 1 KB/s (10 bytes in 10 ms).
        assert_eq!(wait_ms(&mut p, t0 + 10 * MS, idle, Some(390)), 10);
        assert_eq!(wait_ms(&mut p, t0 + 20 * MS, idle, Some(380)), 100);
        // Drained, but keys come 30 ms apart and a frame takes ~400 ms at
        // that rate: hold for the pause.
        let t = t0 + 500 * MS;
        p.input(t - 30 * MS);
        p.input(t);
        assert_eq!(wait_ms(&mut p, t, 500 * MS, Some(0)), 45);
        assert_eq!(wait_ms(&mut p, t + 45 * MS, 545 * MS, Some(0)), 0);
    }

    #[test]
    fn counted_counts_what_went_through() {
        let (mut w, n) = Counted::new(Vec::new());
        w.write_all(b"\x1b[?2026h").unwrap();
        w.write_all(b"abc").unwrap();
        assert_eq!(n.load(Ordering::Relaxed), 11);
    }

    #[test]
    fn the_output_queue_of_a_non_terminal_is_not_known() {
        let f = tempfile::tempfile().expect("temp file");
        assert_eq!(output_queue(std::os::fd::AsRawFd::as_raw_fd(&f)), None);
    }
}
