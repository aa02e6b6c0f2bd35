//! Files the inbox writes about its user (the `:` history, the log) are
//! readable by that user only: created `0600`, and put back to `0600` when
//! an older run left them wider.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for appending, creating it (and its folder) `0600`.
pub fn open_append(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let f = options.open(path)?;
    restrict(&f)?;
    Ok(f)
}

/// Creates `path` `0600` when missing, narrows it to `0600` when present
/// (for a file another library then opens, such as the log).
pub fn ensure(path: &Path) -> io::Result<()> {
    open_append(path).map(drop)
}

#[cfg(unix)]
fn restrict(f: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = f.metadata()?.permissions().mode() & 0o777;
    if mode != 0o600 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_0600_and_old_wide_ones_are_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state/leadx/history");
        writeln!(open_append(&p).unwrap(), "filter x").unwrap();
        assert_eq!(mode(&p), 0o600);
        let log = dir.path().join("inbox.log");
        std::fs::write(&log, "old\n").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure(&log).unwrap();
        assert_eq!(mode(&log), 0o600);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "old\n", "kept");
    }
}
