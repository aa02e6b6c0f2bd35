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
//! Over SSH the pseudo-terminal is read at once by the server and the queue
//! is never seen; there the ceiling paces (and a front end that owns the
//! channel paces by its window).

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
}

impl Pacer {
    /// A pacer with an optional ceiling of `max_fps` frames a second.
    pub fn new(max_fps: Option<u32>) -> Pacer {
        let ceiling = max_fps
            .filter(|f| *f > 0)
            .map_or(Duration::ZERO, |f| Duration::from_secs(1) / f);
        Pacer {
            min_gap: ceiling.max(FRAME_GAP),
            seen: None,
        }
    }

    /// The shortest time between two frames.
    pub fn min_gap(&self) -> Duration {
        self.min_gap
    }

    /// Whether to draw at `now`, `since` the last frame, with `queued`
    /// bytes in the terminal's output queue (`None`: not known).
    pub fn decide(&mut self, now: Instant, since: Duration, queued: Option<usize>) -> Pace {
        if since < self.min_gap {
            return Pace::Wait(self.min_gap - since);
        }
        let Some(q) = queued.filter(|q| *q > QUEUE_SLACK) else {
            self.seen = None;
            return Pace::Draw;
        };
        let wait = match self.seen {
            Some((then, before)) if before > q && now > then => {
                // Bytes a second, as seen since the last look.
                let rate = (before - q) as f64 / (now - then).as_secs_f64();
                Duration::from_secs_f64((q - QUEUE_SLACK) as f64 / rate)
            }
            _ => POLL,
        };
        self.seen = Some((now, q));
        Pace::Wait(wait.clamp(POLL_MIN, POLL_MAX))
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
        let mut p = Pacer::new(None);
        assert_eq!(p.decide(now, 3 * MS, Some(0)), Pace::Wait(7 * MS));
        assert_eq!(p.decide(now, 10 * MS, Some(0)), Pace::Draw);
        let mut p = Pacer::new(Some(20));
        assert_eq!(p.min_gap(), 50 * MS);
        assert_eq!(p.decide(now, 20 * MS, None), Pace::Wait(30 * MS));
        assert_eq!(p.decide(now, 50 * MS, None), Pace::Draw);
        // A ceiling above 100 fps is the 10 ms floor.
        assert_eq!(Pacer::new(Some(1000)).min_gap(), FRAME_GAP);
    }

    #[test]
    fn a_draining_queue_holds_the_frame_until_it_has_drained() {
        let t0 = Instant::now();
        let mut p = Pacer::new(None);
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
    fn the_output_queue_of_a_non_terminal_is_not_known() {
        let f = tempfile::tempfile().expect("temp file");
        assert_eq!(output_queue(std::os::fd::AsRawFd::as_raw_fd(&f)), None);
    }
}
