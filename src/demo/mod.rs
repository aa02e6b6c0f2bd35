//! The demo world and its simulator: a believable lead exchange seeded
//! through the public [`crate::store::Store`] API (never a side door), and
//! partners that keep acting on it so a watching inbox sees a live queue.
//!
//! - [`world`]: the fictional partners and lead material, deterministic;
//! - [`seed`]: [`seed_if_empty`] and the demo's tokens file;
//! - [`simulator`]: [`run_simulator`] (or [`run_simulator_with`] the
//!   seeded agents) and single [`simulator_step`]s.

pub mod seed;
pub mod simulator;
pub mod world;

pub use seed::{DemoTokens, seed_if_empty, tokens_path};
pub use simulator::{
    DEFAULT_INTERVAL, SimActors, run_simulator, run_simulator_with, simulator_step,
};

use seed::{DEMO_AGENT_NAME, DEMO_OPERATOR_NAME, DEMO_VIEWER_NAME};

/// `s` as one shell word: bare when it is plainly safe, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The lines printed when the demo starts: who is who, and a ready-to-paste
/// command that opens the inbox as each of them against `url`.
pub fn describe(tokens: &DemoTokens, url: &str) -> String {
    let partner = &tokens.agent_partner;
    let command = |token: &str| {
        format!(
            "LEADX_SERVER__URL={} LEADX_SERVER__TOKEN={} leadx",
            shell_word(url),
            shell_word(token)
        )
    };
    let mut out = format!("demo exchange at {url}; open an inbox in another terminal as:\n");
    for (who, token) in [
        (
            format!("{DEMO_AGENT_NAME}, agent of {partner} (accepts, rejects, forwards)"),
            &tokens.agent,
        ),
        (
            format!("{DEMO_VIEWER_NAME}, viewer of {partner} (reads only)"),
            &tokens.viewer,
        ),
        (
            format!("{DEMO_OPERATOR_NAME}, exchange operator (sees every partner's leads)"),
            &tokens.operator,
        ),
    ] {
        out.push_str(&format!("  # {who}\n  {}\n", command(token)));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn describe_gives_a_pasteable_command_per_demo_user() {
        let tokens = DemoTokens {
            agent: "lx_agent123".into(),
            viewer: "lx_viewer456".into(),
            operator: "lx_op'789".into(),
            agent_partner: "acme-web".into(),
            partner_agents: BTreeMap::new(),
        };
        let text = describe(&tokens, "http://127.0.0.1:7878");
        assert!(text.contains(
            "LEADX_SERVER__URL=http://127.0.0.1:7878 LEADX_SERVER__TOKEN=lx_agent123 leadx"
        ));
        assert!(text.contains("LEADX_SERVER__TOKEN=lx_viewer456 leadx"));
        assert!(
            text.contains(r"LEADX_SERVER__TOKEN='lx_op'\''789' leadx"),
            "odd characters are quoted: {text}"
        );
        assert!(text.contains("agent of acme-web") && text.contains("viewer of acme-web"));
        assert_eq!(text.lines().filter(|l| l.contains("leadx")).count(), 3);
    }
}
