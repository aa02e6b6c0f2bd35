//! The demo's tokens: users' tokens are stored hashed, so the demo keeps
//! its own in a file beside the database (`<db>.demo-tokens.json`, mode
//! 0600) and reuses them on later starts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The demo's bearer tokens, as kept in `<db>.demo-tokens.json`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoTokens {
    /// An agent of the demo integrator (acts).
    pub agent: String,
    /// A viewer of the demo integrator (reads only).
    pub viewer: String,
    /// An operator of the exchange staff (reads everything).
    pub operator: String,
    /// The demo integrator's partner id.
    pub agent_partner: String,
    /// One agent token per trading partner (partner id → token), used by the
    /// seed and the simulator to act as that partner.
    #[serde(default)]
    pub partner_agents: BTreeMap<String, String>,
}

impl std::fmt::Debug for DemoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoTokens")
            .field("agent_partner", &self.agent_partner)
            .field("partner_agents", &self.partner_agents.len())
            .finish_non_exhaustive()
    }
}

/// `<db>.demo-tokens.json`.
pub fn tokens_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".demo-tokens.json");
    PathBuf::from(name)
}

/// The tokens file's content, if it is there and readable.
pub fn read_tokens(file: &Path) -> Option<DemoTokens> {
    let text = std::fs::read_to_string(file).ok()?;
    match serde_json::from_str(&text) {
        Ok(tokens) => Some(tokens),
        Err(e) => {
            tracing::warn!("ignoring {}: {e}", file.display());
            None
        }
    }
}

/// Writes the tokens file (mode 0600), replacing it atomically.
pub fn write_tokens(file: &Path, tokens: &DemoTokens) -> anyhow::Result<()> {
    let mut tmp_name = file.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    out.write_all(serde_json::to_string_pretty(tokens)?.as_bytes())?;
    out.write_all(b"\n")?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))?;
    Ok(())
}
