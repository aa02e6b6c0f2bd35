//! Public keys as users hand them over (an `authorized_keys` line), their
//! fingerprints as OpenSSH prints them, and the server's host key.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey, PublicKey};

use crate::sanitize::clean_line;
use crate::store::NewKey;

/// `SHA256:...`, as `ssh-keygen -l` and the OpenSSH client print it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Parses one public key line (`ssh-ed25519 AAAA... comment`, as in a
/// `.pub` file or `authorized_keys`, without options). Certificates and
/// private keys are refused with a message saying what was expected.
pub fn parse_public_key(text: &str) -> Result<NewKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("no public key given (expected a line like `ssh-ed25519 AAAA... comment`)")?;
    if line.contains("PRIVATE KEY") {
        return Err("that is a private key: give the public one (the .pub file)".into());
    }
    if line.contains("-cert-v01@openssh.com") {
        return Err("certificates are not accepted: give the plain public key".into());
    }
    let key = PublicKey::from_openssh(line).map_err(|e| {
        format!(
            "not an OpenSSH public key ({e}); expected a line like `ssh-ed25519 AAAA... comment`"
        )
    })?;
    let comment = clean_line(key.comment().as_str_lossy());
    let mut bare = key.clone();
    bare.set_comment("");
    let public_key = bare
        .to_openssh()
        .map_err(|e| format!("cannot encode the key: {e}"))?;
    Ok(NewKey {
        fingerprint: fingerprint(&key),
        public_key: public_key.trim().to_owned(),
        comment,
    })
}

/// The host key at `path`, made on first start when missing (ed25519,
/// written with mode 0600). A key file others may read is refused.
pub fn load_or_create_host_key(path: &Path) -> anyhow::Result<PrivateKey> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "the SSH host key {} is readable by others (mode {mode:o}): chmod 600 it",
                    path.display()
                );
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the SSH host key {}", path.display()))?;
            PrivateKey::from_openssh(text.as_bytes())
                .with_context(|| format!("{} is not an OpenSSH private key", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let seed: [u8; 32] = rand::random();
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let text = key
                .to_openssh(LineEnding::LF)
                .context("cannot encode the SSH host key")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create the SSH host key {}", path.display()))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "made a new SSH host key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dana@laptop";

    #[test]
    fn parses_a_pub_line_and_fingerprints_it_as_openssh() {
        let k = parse_public_key(&format!("# mine\n{ED}\n")).unwrap();
        assert_eq!(k.comment, "dana@laptop");
        assert_eq!(
            k.fingerprint,
            "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"
        );
        assert!(k.public_key.starts_with("ssh-ed25519 AAAA"));
        assert!(!k.public_key.contains("dana"));
    }

    #[test]
    fn refuses_what_is_not_a_public_key() {
        assert!(parse_public_key("").unwrap_err().contains("no public key"));
        assert!(
            parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----")
                .unwrap_err()
                .contains("private key")
        );
        assert!(
            parse_public_key("ssh-ed25519 notbase64")
                .unwrap_err()
                .contains("not an OpenSSH public key")
        );
    }

    #[test]
    fn host_key_is_made_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/host_ed25519");
        let a = load_or_create_host_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = load_or_create_host_key(&path).unwrap();
        assert_eq!(fingerprint(a.public_key()), fingerprint(b.public_key()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_host_key(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
