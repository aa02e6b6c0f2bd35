//! `leadx list` for `attack_bench`, run as a user would (a home of its
//! own, the server and token in its environment), killed after a deadline,
//! with its peak memory (`VmHWM`) polled while it runs.

use std::path::Path;
use std::time::{Duration, Instant};

use super::status_kib;

/// `leadx list --format csv` against `url` with `token`, in a home of its
/// own, killed after `within`; its peak memory is polled while it runs.
pub fn run_list(
    bin: &Path,
    home: &Path,
    url: &str,
    token: &str,
    within: Duration,
) -> (std::process::Output, u64, Duration) {
    let t = Instant::now();
    let mut child = std::process::Command::new(bin)
        .args(["list", "--format", "csv"])
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LEADX_SERVER__URL", url)
        .env("LEADX_SERVER__TOKEN", token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn leadx list");
    let pid = child.id();
    let mut peak = 0;
    let (out_rx, err_rx) = (
        child.stdout.take().expect("out"),
        child.stderr.take().expect("err"),
    );
    let reader = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let (out, err) = (reader(Box::new(out_rx)), reader(Box::new(err_rx)));
    let status = loop {
        peak = peak.max(status_kib(pid, "VmHWM"));
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t.elapsed() > within {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::process::Output {
        status,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    };
    (output, peak, t.elapsed())
}
