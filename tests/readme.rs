//! The README's walkthrough, run as written: the ```sh blocks of its
//! `## Walkthrough` section, in order, as one bash script (`set -e`), in
//! an empty folder with the built `leadx` first on PATH. The only changes
//! made: the server listens on a free port instead of 7878 (and every
//! `127.0.0.1:7878` follows it), and the script waits for the server to
//! listen after the line that starts it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The ```sh blocks of the section headed `heading`, in order.
fn sh_blocks(markdown: &str, heading: &str) -> Vec<String> {
    let start = markdown
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has a {heading:?} section"));
    let section = &markdown[start + heading.len() + 2..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```sh block in {heading}");
    blocks
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The walkthrough as a script for `port`.
fn script(blocks: &[String], port: u16) -> String {
    let mut out = String::from(
        "set -euo pipefail\nset -x\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n",
    );
    let mut served = false;
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let line = line.replace("127.0.0.1:7878", &format!("127.0.0.1:{port}"));
        if let Some(rest) = line.strip_prefix("leadx serve ") {
            assert!(
                line.split('#').next().unwrap().trim_end().ends_with('&'),
                "the walkthrough starts the server in the background: {line:?}"
            );
            out.push_str(&format!("leadx serve --listen 127.0.0.1:{port} {rest}\n"));
            out.push_str(&format!(
                "for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; \
                 sleep 0.05; done\n"
            ));
            served = true;
        } else {
            out.push_str(&line);
            out.push('\n');
        }
    }
    assert!(served, "the walkthrough starts a server with `leadx serve`");
    out
}

#[test]
fn the_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let blocks = sh_blocks(&readme, "## Walkthrough");
    assert!(blocks.len() >= 4, "{blocks:#?}");
    let text = blocks.concat();
    for needed in [
        "leadx admin partner add",
        "--out dana.token",
        "leadx --token-file sam.token send",
    ] {
        assert!(text.contains(needed), "the walkthrough lacks {needed:?}");
    }
    let install = sh_blocks(&readme, "## Install").concat();
    assert!(install.contains("cargo install --path ."), "{install}");

    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_leadx")).parent().unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script(&blocks, free_port()))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the walkthrough did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (out.join().unwrap().unwrap(), err.join().unwrap().unwrap());
    let report = format!("{status}\n--- stdout\n{stdout}--- stderr (set -x)\n{stderr}");
    assert!(status.success(), "{report}");
    // What a reader is told to expect.
    assert!(
        stdout.contains("listening on http://127.0.0.1:"),
        "{report}"
    );
    assert!(stdout.contains("Main Street Bakery"), "{report}");
    assert!(stdout.contains("accepted"), "{report}");
    let token = std::fs::read_to_string(dir.path().join("dana.token")).unwrap();
    assert!(token.starts_with("lx_"), "{token:?}");
}
