//! Where the server URL and the token came from (a flag, an environment
//! variable, a config file's key, a profile), and what to say when the
//! server cannot be reached or refuses the token: the URL tried, its
//! origin and what to change. Used by the headless commands, `leadx
//! doctor` (through `cli::reach`) and the inbox.

use super::Settings;

/// Where the server and token came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    /// The server URL.
    pub url: String,
    /// Where the URL came from, for a person.
    pub url_origin: String,
    /// Where the token came from, for a person.
    pub token_origin: String,
}

impl Origins {
    /// The origins recorded in loaded settings.
    pub fn of(settings: &Settings) -> Origins {
        Origins {
            url: settings.server_url.clone(),
            url_origin: settings.server_url_origin.clone(),
            token_origin: settings.token_origin.clone(),
        }
    }

    /// `the server at URL (from ORIGIN) does not answer: ...; check ...`.
    pub fn unreachable(&self, cause: &str) -> String {
        format!(
            "cannot reach the server at {} (from {}): {cause}; check that the host and port \
             are right and the server runs, or change {}",
            self.url,
            self.url_origin,
            change_what(&self.url_origin)
        )
    }

    /// `the server at URL refused the token from ORIGIN (its words): ask ...`.
    pub fn refused_token(&self, cause: &str) -> String {
        format!(
            "the server at {} refused the token from {} ({cause}): it is wrong, revoked or for \
             another exchange; ask your exchange's admin for a new token",
            self.url, self.token_origin
        )
    }
}

/// What a person changes to point at another server.
fn change_what(origin: &str) -> String {
    if origin == "the default" || origin.is_empty() {
        "it with --server URL (or server.url in the config file)".to_owned()
    } else {
        origin.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::Origins;

    #[test]
    fn messages_name_the_url_its_origin_and_the_fix() {
        let o = Origins {
            url: "http://127.0.0.1:7879".into(),
            url_origin: "environment variable LEADX_SERVER__URL".into(),
            token_origin: "the token file /home/d/dana.token (from --token-file)".into(),
        };
        assert_eq!(
            o.unreachable("connection refused"),
            "cannot reach the server at http://127.0.0.1:7879 (from environment variable \
             LEADX_SERVER__URL): connection refused; check that the host and port are right \
             and the server runs, or change environment variable LEADX_SERVER__URL"
        );
        let refused = o.refused_token("unauthenticated: unknown token");
        assert!(refused.contains(
            "refused the token from the token file /home/d/dana.token (from --token-file) \
             (unauthenticated: unknown token)"
        ));
        assert!(refused.ends_with("ask your exchange's admin for a new token"));
        let d = Origins {
            url_origin: "the default".into(),
            ..o
        };
        assert!(
            d.unreachable("x")
                .ends_with("change it with --server URL (or server.url in the config file)")
        );
    }
}
