//! The config loader's tests, by topic in `tests/`; [`Fx`], a fake home
//! with its own environment, is shared with them and with
//! `tests_report.rs` and `url_tests.rs`.

use super::*;

use std::fs;

mod errors;
mod example_file;
mod inbox_settings;
mod layering;
mod server_and_profiles;
mod tokens;

/// A fake home with its own environment; nothing touches the real one.
pub(super) struct Fx {
    dir: tempfile::TempDir,
    pub(super) env: HashMap<String, String>,
}

impl Fx {
    pub(super) fn new() -> Fx {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        fs::create_dir_all(&home).expect("home");
        let mut env = HashMap::new();
        env.insert("HOME".to_string(), home.display().to_string());
        Fx { dir, env }
    }

    pub(super) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub(super) fn config_path(&self) -> PathBuf {
        self.home().join(".config/leadx/config.toml")
    }

    /// Writes the default config file.
    pub(super) fn config(&self, text: &str) -> PathBuf {
        let p = self.config_path();
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, text).expect("write config");
        p
    }

    pub(super) fn set(&mut self, k: &str, v: &str) -> &mut Fx {
        self.env.insert(k.to_string(), v.to_string());
        self
    }

    /// Writes a token file with the given mode.
    pub(super) fn token_file(&self, name: &str, content: &str, mode: u32) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, content).expect("write token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        #[cfg(not(unix))]
        let _ = mode;
        p
    }

    pub(super) fn load(&self, o: &Overrides) -> Result<Settings, ConfigError> {
        load_from(o, &self.env)
    }

    pub(super) fn ok(&self, o: &Overrides) -> Settings {
        self.load(o)
            .unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    pub(super) fn err(&self, o: &Overrides) -> String {
        match self.load(o) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(e) => e.to_string(),
        }
    }
}

pub(super) fn none() -> Overrides {
    Overrides::default()
}
