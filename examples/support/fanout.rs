//! `leadx serve` processes for the fan-out benchmarks, and this process's
//! open-files limit. The subscribers themselves are in `subscribers.rs`
//! (one process's share) and `workers.rs` (the processes). Used by
//! `scale_bench` and `attack_bench`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use super::{check, status_kib};

/// The open-files limit this process started with, read by the first
/// call of [`nofile`] or [`raise_nofile`]: what a `leadx serve` started
/// from the same shell would have.
static AT_START: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();

/// The open-files limit of this process: `(soft, hard)`.
pub fn nofile() -> (u64, u64) {
    let now = nofile_now();
    let _ = AT_START.get_or_init(|| now);
    now
}

fn nofile_now() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0;
    check(ok, "getrlimit(RLIMIT_NOFILE)");
    (r.rlim_cur, r.rlim_max)
}

/// Raises this process's open-files soft limit to its hard limit, and both
/// to `want` if the hard limit is lower and the process may raise it
/// (root). Returns the limits after, and a sentence saying what was done.
pub fn raise_nofile(want: u64) -> ((u64, u64), String) {
    let before = nofile();
    let _ = AT_START.get_or_init(|| before);
    let set = |soft: u64, hard: u64| {
        let r = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we pass.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) == 0 }
    };
    let mut how = format!("open files: soft {} / hard {} at start", before.0, before.1);
    if before.1 < want {
        if set(want, want) {
            how.push_str(&format!(
                "; hard limit below the {want} needed, raised both to {want}"
            ));
        } else {
            how.push_str(&format!(
                "; hard limit below the {want} needed and not raisable here ({}: \
                 raising it needs CAP_SYS_RESOURCE)",
                std::io::Error::last_os_error()
            ));
        }
    }
    let now = nofile_now();
    if now.0 < now.1 && set(now.1, now.1) {
        how.push_str("; soft raised to the hard limit");
    }
    let after = nofile_now();
    how.push_str(&format!(" → soft {} / hard {}", after.0, after.1));
    (after, how)
}

/// A `leadx serve` process, killed (SIGKILL) when dropped, and also when
/// this process dies (`PR_SET_PDEATHSIG`: spawn it from the main thread).
/// It runs with the open-files limit this process started with, not the
/// one [`raise_nofile`] set: as if started from the same shell.
pub struct Serve {
    pub child: Child,
    pub url: String,
    pub addr: SocketAddr,
    /// Kept open: the server may print more, and a closed pipe would hurt it.
    _stdout: BufReader<ChildStdout>,
}

impl Serve {
    /// `bin serve --listen 127.0.0.1:0 --rate-limit 0` with `LEADX_DB=db`
    /// and no stream caps (every subscriber is one partner's, many per
    /// token); waits for its `listening on URL` line.
    pub fn start(bin: &Path, db: &str) -> Serve {
        Self::start_with(
            bin,
            db,
            &[
                "--max-streams-per-user",
                "0",
                "--max-streams-per-partner",
                "0",
            ],
        )
    }

    /// `bin serve --listen 127.0.0.1:0 --rate-limit 0 EXTRA...` with
    /// `LEADX_DB=db`; waits for its `listening on URL` line.
    pub fn start_with(bin: &Path, db: &str, extra: &[&str]) -> Serve {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .args(extra)
            .env("LEADX_DB", db)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let (soft, hard) = *AT_START.get().unwrap_or(&nofile_now());
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: prctl and setrlimit are async-signal-safe system calls on
        // memory owned by the closure; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn leadx serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            check(
                false,
                &format!("leadx serve printed {line:?}, not `listening on URL`"),
            );
            unreachable!();
        };
        let url = url.to_owned();
        let addr = url
            .trim_start_matches("http://")
            .parse()
            .expect("listening address");
        Serve {
            child,
            url,
            addr,
            _stdout: stdout,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, KiB (`VmRSS` of `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        status_kib(self.pid(), "VmRSS")
    }

    /// Open file descriptors of the process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
