//! What to say when the server cannot be reached or refuses the token:
//! the URL tried, where it came from (a flag, an environment variable, a
//! config file's key, a profile) and what to change. Shared by the
//! headless commands and `leadx doctor`.

use std::sync::OnceLock;

use crate::config::Settings;

pub use crate::config::Origins;

static ORIGINS: OnceLock<Origins> = OnceLock::new();

/// Records where this process's server and token came from.
pub fn remember(settings: &Settings) {
    let _ = ORIGINS.set(Origins::of(settings));
}

/// What [`remember`] recorded, if anything.
pub fn remembered() -> Option<&'static Origins> {
    ORIGINS.get()
}
