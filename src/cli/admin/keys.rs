//! `leadx admin user add-key|keys|remove-key`: SSH public keys of users.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Failure, print_table, printable, quoted, say};
use crate::store::NewKey;
use crate::store::blocking::BlockingStore;
use crate::wire::format_timestamp;

/// `leadx admin user add-key USER_ID (--key-file F | --key 'LINE')`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["key_file", "key"])))]
pub struct AddKeyArgs {
    /// The user's id (u_...).
    pub user_id: String,
    /// A public key file (`id_ed25519.pub`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The public key itself: 'ssh-ed25519 AAAA... comment'.
    #[arg(long, value_name = "LINE", allow_hyphen_values = true)]
    pub key: Option<String>,
}

impl AddKeyArgs {
    /// The key, parsed and fingerprinted (checked before the store opens).
    pub(super) fn read_key(&self) -> Result<NewKey, Failure> {
        let text = match (&self.key, &self.key_file) {
            (Some(k), _) => k.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                Failure::Input(format!("cannot read the key file {}: {e}", path.display()))
            })?,
            (None, None) => {
                return Err(Failure::Input(
                    "give --key-file FILE or --key 'LINE'".into(),
                ));
            }
        };
        crate::ssh::keys::parse_public_key(&text).map_err(Failure::Input)
    }
}

pub(super) fn add(
    store: &BlockingStore,
    args: AddKeyArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let key = args.read_key()?;
    let added = store.add_key(&args.user_id, &key)?;
    say(
        out,
        &format!(
            "added key {} ({}) for {}",
            added.fingerprint,
            if added.comment.is_empty() {
                "no comment".to_string()
            } else {
                printable(&added.comment)
            },
            added.user_id
        ),
    )
}

pub(super) fn list(
    store: &BlockingStore,
    user_id: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let rows: Vec<Vec<String>> = store
        .list_keys(user_id)?
        .into_iter()
        .map(|k| {
            vec![
                k.fingerprint,
                format_timestamp(&k.added_at),
                k.last_used
                    .map_or_else(|| "never".to_string(), |t| format_timestamp(&t)),
                printable(&k.comment),
            ]
        })
        .collect();
    print_table(
        out,
        &["FINGERPRINT", "ADDED", "LAST USED", "COMMENT"],
        &rows,
    )
}

pub(super) fn remove(
    store: &BlockingStore,
    user_id: &str,
    fingerprint: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if !store.remove_key(user_id, fingerprint)? {
        return Err(Failure::Input(format!(
            "user {} has no key {} (see `leadx admin user keys {}`)",
            quoted(user_id),
            quoted(fingerprint),
            printable(user_id)
        )));
    }
    say(out, &format!("removed key {fingerprint} of {user_id}"))
}
