//! A `leadx serve` child process on a fixed loopback port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A `leadx serve` child process on a fixed port; killed when dropped.
pub struct Serve {
    child: std::process::Child,
}

impl Serve {
    /// Starts `leadx serve` on `port` (retrying while the port is not free
    /// yet); returns it with its URL.
    pub fn start(db: &Path, port: u16) -> (Serve, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_leadx"))
                .args(["serve", "--db"])
                .arg(db)
                .args([
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--rate-limit",
                    "0",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn leadx serve");
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                return (Serve { child }, url.to_owned());
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "leadx serve would not start on port {port}: {line:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn kill(mut self) {
        self.child.kill().expect("kill leadx serve");
        self.child.wait().expect("wait leadx serve");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
