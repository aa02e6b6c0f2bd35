//! `leadx admin --db PATH ...`: partners and users of an exchange, for the
//! people who run it. Bad input is one line on stderr starting `leadx: `
//! and exit status 2; a failing database is exit status 1.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::clock;
use crate::store::StoreError;
use crate::store::open::Location;
use crate::wire::{Partner, PartnerKind, Role, format_timestamp};

mod keys;

/// `leadx admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The exchange's database: a SQLite file (created if missing) or a
    /// PostgreSQL URL. LEADX_DB keeps a URL with a password off the
    /// command line. Accepted anywhere after `admin`.
    #[arg(
        long,
        global = true,
        env = "LEADX_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub db: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub cmd: AdminCommand,
}

/// What to administer.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Partners (organisations) on the exchange.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Users of partners, with their bearer tokens.
    #[command(subcommand)]
    User(UserCommand),
}

/// `leadx admin partner ...`.
#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Adds a partner.
    Add {
        /// The partner's id: 2 to 40 of a-z, 0-9 and -.
        id: String,
        /// Its display name.
        #[arg(long)]
        name: String,
        /// provider, integrator or affiliate.
        #[arg(long, default_value = "integrator")]
        kind: String,
        /// What it sells, comma-separated (bandwidth,hosting,...).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Where it works, comma-separated.
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
    },
    /// Lists partners.
    List,
    /// Changes a partner's name, kind, categories or regions (not its id).
    Edit {
        /// The partner's id.
        id: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// provider, integrator or affiliate.
        #[arg(long)]
        kind: Option<String>,
        /// What it sells, comma-separated; replaces the list ("" empties it).
        #[arg(long, value_delimiter = ',')]
        categories: Option<Vec<String>>,
        /// Where it works, comma-separated; replaces the list ("" empties it).
        #[arg(long, value_delimiter = ',')]
        regions: Option<Vec<String>>,
    },
    /// Removes a partner no referral names and no active user belongs to.
    Remove {
        /// The partner's id.
        id: String,
    },
}

/// `leadx admin user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user and prints its new bearer token (alone) on stdout.
    Add {
        /// The user's partner id.
        #[arg(long)]
        partner: String,
        /// The user's name.
        #[arg(long)]
        name: String,
        /// agent, admin, viewer or operator.
        #[arg(long)]
        role: String,
        /// Write the token to this file (mode 0600) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Lists users (never their tokens).
    List,
    /// Revokes a user's token.
    Revoke {
        /// The user's id (u_...).
        user_id: String,
    },
    /// Gives a user a new token (printed, or written with --out); the old
    /// one stops working at once.
    Rotate {
        /// The user's id (u_...).
        user_id: String,
        /// Write the token to this file (mode 0600) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Registers an SSH public key for a user (`ssh -p PORT HOST` then
    /// opens that user's inbox). One key belongs to one user.
    AddKey(keys::AddKeyArgs),
    /// Lists a user's SSH keys: fingerprint, comment, added, last used.
    Keys {
        /// The user's id (u_...).
        user_id: String,
    },
    /// Removes one SSH key of a user (by its SHA256:... fingerprint).
    RemoveKey {
        /// The user's id (u_...).
        user_id: String,
        /// As `leadx admin user keys` prints it.
        fingerprint: String,
    },
}

/// Why a command failed: the user's input (exit 2) or the store (exit 1).
enum Failure {
    Input(String),
    Store(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(m) => Failure::Input(m),
            StoreError::Backend(m) => Failure::Store(m),
            // Admin commands carry no idempotency key.
            taken @ StoreError::Taken(_) => Failure::Store(taken.to_string()),
        }
    }
}

/// Runs an admin command; the process's exit status.
pub fn run(args: AdminArgs) -> ExitCode {
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    ExitCode::from(run_with(args, &mut out, &mut err))
}

/// Runs an admin command writing to `out` and `err`; the exit status
/// (0 done, 1 the store failed, 2 bad input).
pub fn run_with(args: AdminArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (code, message) = match execute(args, out, err) {
        Ok(()) => return 0,
        Err(Failure::Input(m)) => (2, m),
        Err(Failure::Store(m)) => (1, m),
    };
    let _ = writeln!(err, "leadx: {}", one_line(&message));
    code
}

fn execute(args: AdminArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Failure> {
    // Check what can be checked before touching (or creating) the file.
    match &args.cmd {
        AdminCommand::Partner(PartnerCommand::Add { id, kind, .. }) => {
            parse_kind(kind)?;
            if !crate::domain::validate::is_slug(id) {
                return Err(Failure::Input(format!(
                    "bad partner id {}: use 2 to 40 of a-z, 0-9 and -",
                    quoted(id)
                )));
            }
        }
        AdminCommand::User(UserCommand::Add { role, .. }) => {
            parse_role(role)?;
        }
        AdminCommand::User(UserCommand::AddKey(a)) => {
            a.read_key()?;
        }
        AdminCommand::Partner(PartnerCommand::Edit {
            name,
            kind,
            categories,
            regions,
            ..
        }) => {
            if let Some(kind) = kind {
                parse_kind(kind)?;
            }
            if name.is_none() && kind.is_none() && categories.is_none() && regions.is_none() {
                return Err(Failure::Input(
                    "nothing to change: give --name, --kind, --categories or --regions".into(),
                ));
            }
        }
        _ => {}
    }
    let Some(db) = args.db.as_deref() else {
        return Err(Failure::Input(
            "which database? give --db PATH|URL (anywhere after `admin`) or set LEADX_DB".into(),
        ));
    };
    let location = Location::parse(db);
    super::check_db_folder(&location).map_err(Failure::Input)?;
    let store = location
        .open_blocking(clock::system())
        .map_err(|e| Failure::Store(format!("{e:#}")))?;
    match args.cmd {
        AdminCommand::Partner(PartnerCommand::Add {
            id,
            name,
            kind,
            categories,
            regions,
        }) => {
            let partner = Partner {
                id,
                name,
                kind: parse_kind(&kind)?,
                categories: clean_list(categories),
                regions: clean_list(regions),
            };
            store.add_partner(&partner)?;
            say(out, &format!("added partner {}", partner.id))?;
        }
        AdminCommand::Partner(PartnerCommand::List) => {
            let rows: Vec<Vec<String>> = store
                .list_partners(None)?
                .into_iter()
                .map(|p| {
                    vec![
                        p.id,
                        p.kind.as_str().to_string(),
                        printable(&p.name),
                        printable(&p.categories.join(",")),
                        printable(&p.regions.join(",")),
                    ]
                })
                .collect();
            print_table(out, &["ID", "KIND", "NAME", "CATEGORIES", "REGIONS"], &rows)?;
        }
        AdminCommand::Partner(PartnerCommand::Edit {
            id,
            name,
            kind,
            categories,
            regions,
        }) => {
            let Some(mut partner) = store.get_partner(&id)? else {
                return Err(no_partner(&id));
            };
            if let Some(name) = name {
                partner.name = name;
            }
            if let Some(kind) = kind {
                partner.kind = parse_kind(&kind)?;
            }
            if let Some(categories) = categories {
                partner.categories = clean_list(categories);
            }
            if let Some(regions) = regions {
                partner.regions = clean_list(regions);
            }
            if !store.update_partner(&partner)? {
                return Err(no_partner(&id));
            }
            say(out, &format!("updated partner {id}"))?;
        }
        AdminCommand::Partner(PartnerCommand::Remove { id }) => {
            if !store.remove_partner(&id)? {
                return Err(no_partner(&id));
            }
            say(out, &format!("removed partner {id}"))?;
        }
        AdminCommand::User(UserCommand::Add {
            partner,
            name,
            role,
            out: file,
        }) => {
            let role = parse_role(&role)?;
            let sink = TokenSink::prepare(file)?;
            let (user, token) = store.add_user(&partner, &name, role)?;
            let said = format!(
                "added {} {} of {} ({})",
                user.role.as_str(),
                user.id,
                user.partner_id,
                printable(&user.name)
            );
            sink.deliver(&token, &said, out, err)?;
        }
        AdminCommand::User(UserCommand::Rotate { user_id, out: file }) => {
            let sink = TokenSink::prepare(file)?;
            let Some((user, token)) = store.rotate_user(&user_id)? else {
                return Err(Failure::Input(format!(
                    "no active user {}",
                    quoted(&user_id)
                )));
            };
            let said = format!(
                "new token for {} {} of {}; the old one no longer works",
                user.role.as_str(),
                user.id,
                user.partner_id
            );
            sink.deliver(&token, &said, out, err)?;
        }
        AdminCommand::User(UserCommand::List) => {
            let rows: Vec<Vec<String>> = store
                .list_users()?
                .into_iter()
                .map(|u| {
                    vec![
                        u.id,
                        u.partner_id,
                        u.role.as_str().to_string(),
                        match u.revoked_at {
                            Some(t) => format!("revoked {}", format_timestamp(&t)),
                            None => "active".to_string(),
                        },
                        format_timestamp(&u.created_at),
                        printable(&u.name),
                    ]
                })
                .collect();
            print_table(
                out,
                &["ID", "PARTNER", "ROLE", "STATUS", "CREATED", "NAME"],
                &rows,
            )?;
        }
        AdminCommand::User(UserCommand::Revoke { user_id }) => {
            if !store.revoke_user(&user_id)? {
                return Err(Failure::Input(format!(
                    "no active user {}",
                    quoted(&user_id)
                )));
            }
            say(out, &format!("revoked {user_id}"))?;
        }
        AdminCommand::User(UserCommand::AddKey(a)) => keys::add(&store, a, out)?,
        AdminCommand::User(UserCommand::Keys { user_id }) => keys::list(&store, &user_id, out)?,
        AdminCommand::User(UserCommand::RemoveKey {
            user_id,
            fingerprint,
        }) => keys::remove(&store, &user_id, &fingerprint, out)?,
    }
    Ok(())
}

fn no_partner(id: &str) -> Failure {
    Failure::Input(format!(
        "no partner {} (see `leadx admin partner list`)",
        quoted(id)
    ))
}

/// Where a new token goes: stdout, or a file only its owner can read.
enum TokenSink {
    Stdout,
    /// The file, and a temporary file beside it (mode 0600, made before
    /// the store is touched, so a path that cannot be written to fails
    /// before a token exists); renamed over the file once written.
    File(PathBuf, tempfile::NamedTempFile),
}

impl TokenSink {
    fn prepare(file: Option<PathBuf>) -> Result<Self, Failure> {
        let Some(path) = file else {
            return Ok(TokenSink::Stdout);
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if path.is_dir() {
            return Err(Failure::Input(format!(
                "--out {} is a folder; give a file name",
                path.display()
            )));
        }
        // NamedTempFile is created with mode 0600 on Unix.
        let temp = tempfile::Builder::new()
            .prefix(".leadx-token")
            .tempfile_in(&dir)
            .map_err(|e| {
                Failure::Input(format!("cannot write a token into {}: {e}", dir.display()))
            })?;
        Ok(TokenSink::File(path, temp))
    }

    /// Writes the token and says what happened on `err`.
    fn deliver(
        self,
        token: &str,
        said: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        match self {
            TokenSink::Stdout => {
                say(
                    err,
                    &format!("{said}; the token on stdout is shown only once"),
                )?;
                say(out, token)
            }
            TokenSink::File(path, mut temp) => {
                let written = writeln!(temp, "{token}")
                    .and_then(|()| temp.as_file().sync_all())
                    .map_err(|e| e.to_string())
                    .and_then(|()| temp.persist(&path).map(drop).map_err(|e| e.to_string()));
                if let Err(e) = written {
                    return Err(Failure::Store(format!(
                        "{said}, but its token could not be written to {}: {e}; \
                         run `leadx admin user rotate` for a new one",
                        path.display()
                    )));
                }
                say(
                    err,
                    &format!("{said}; the token is in {} (mode 0600)", path.display()),
                )
            }
        }
    }
}

fn parse_kind(s: &str) -> Result<PartnerKind, Failure> {
    PartnerKind::parse(s).ok_or_else(|| {
        Failure::Input(format!(
            "unknown partner kind {}: use provider, integrator or affiliate",
            quoted(s)
        ))
    })
}

fn parse_role(s: &str) -> Result<Role, Failure> {
    Role::parse(s).ok_or_else(|| {
        Failure::Input(format!(
            "unknown role {}: use agent, admin, viewer or operator",
            quoted(s)
        ))
    })
}

fn clean_list(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether a character must not reach a terminal as is: C0, DEL, C1, and
/// the bidi and zero-width format characters.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{061C}'
            | '\u{00AD}')
}

/// Text safe for a terminal: unsafe characters become `\u{..}`.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A value quoted for an error message, made printable.
fn quoted(s: &str) -> String {
    format!("\"{}\"", printable(s))
}

/// Collapses a message to one printable line.
fn one_line(s: &str) -> String {
    printable(&s.replace(['\r', '\n'], " "))
}

fn say(w: &mut dyn Write, line: &str) -> Result<(), Failure> {
    writeln!(w, "{line}").map_err(|e| Failure::Store(format!("cannot write output: {e}")))
}

fn print_table(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> Result<(), Failure> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    say(w, &line(header.to_vec()))?;
    for row in rows {
        say(w, &line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
