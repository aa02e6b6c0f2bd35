//! Timed samples for `inbox_bench`: each sample's wall time and this
//! thread's CPU time, and the line that reports one figure against its
//! target.

use std::time::{Duration, Instant};

use super::{ms, verdict};

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// `CLOCK_THREAD_CPUTIME_ID` on Linux.
const THREAD_CPU: i32 = 3;

/// CPU time this thread has used: unlike wall time, it does not count the
/// time other processes (the other builds on a shared machine) held the core.
pub fn thread_cpu() -> Duration {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is Linux's.
    let rc = unsafe { clock_gettime(THREAD_CPU, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Wall and CPU time of one sample.
#[derive(Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Times `f`: wall clock and this thread's CPU.
pub fn timed(f: impl FnOnce()) -> Sample {
    let (w, c) = (Instant::now(), thread_cpu());
    f();
    Sample {
        wall: w.elapsed(),
        cpu: thread_cpu().saturating_sub(c),
    }
}

/// Median, p99 (nearest rank), max and count of samples.
pub struct Stats {
    pub median: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub n: usize,
}

pub fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        max: *v.last().expect("samples"),
        n: v.len(),
    }
}

/// Prints one timed figure: wall time (what the user waits) and CPU time
/// (the work itself); PASS when the wall p99 is within the target.
pub fn report(what: &str, samples: &[Sample], target_ms: f64) -> bool {
    let wall = stats(samples.iter().map(|s| s.wall).collect());
    let cpu = stats(samples.iter().map(|s| s.cpu).collect());
    let ok = ms(wall.p99) <= target_ms;
    println!(
        "{what}: wall median {:.3} ms, p99 {:.3} ms, max {:.3} ms; CPU median {:.3} ms, p99 {:.3} ms, max {:.3} ms; \
         over {}  (target p99 ≤ {target_ms} ms) {}{}",
        ms(wall.median),
        ms(wall.p99),
        ms(wall.max),
        ms(cpu.median),
        ms(cpu.p99),
        ms(cpu.max),
        wall.n,
        verdict(ok),
        if !ok && ms(cpu.p99) <= target_ms {
            " (CPU p99 within target: the wall-time tail is the shared machine)"
        } else {
            ""
        }
    );
    ok
}
