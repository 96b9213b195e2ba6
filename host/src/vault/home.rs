//! The home directory and the private files in it, against a local
//! attacker who can write files there: the home is created 0700 and must
//! belong to this process's user; private files (the master key, the audit
//! head anchor, the database) are created 0600, opened without following
//! symbolic links, and checked on the open handle (`fstat`): a regular
//! file, owned by this user, not readable by group or others.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Creates `home` (mode 0700) if needed, and refuses a home that is not a
/// directory or does not belong to this process's user. Tightens an
/// existing home to 0700.
pub(crate) fn prepare(home: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if fs::symlink_metadata(home).is_err() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(home)
                .with_context(|| format!("creating the home directory {}", home.display()))?;
        }
        let meta = fs::metadata(home).with_context(|| format!("reading the home directory {}", home.display()))?;
        if !meta.is_dir() {
            bail!("the home {} is not a directory", home.display());
        }
        let uid = current_uid();
        if meta.uid() != uid {
            bail!(
                "the home directory {} belongs to user {}, not to this process's user {uid}: refusing to use it",
                home.display(),
                meta.uid()
            );
        }
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(home, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making the home directory {} private (0700)", home.display()))?;
        }
    }
    #[cfg(not(unix))]
    fs::create_dir_all(home).with_context(|| format!("creating the home directory {}", home.display()))?;
    Ok(())
}

/// This process's (real) user id.
#[cfg(unix)]
pub(crate) fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Options that never follow a symbolic link at the last component and
/// create files readable by the owner only.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens an existing private file for reading (`append` opens it for
/// appending, creating it if needed) and checks the handle: a regular
/// file owned by this user, mode without group or other bits. `what`
/// names the file in errors.
pub(crate) fn open_private(path: &Path, what: &str, append: bool) -> Result<File> {
    let mut options = private_options();
    if append {
        options.append(true).create(true);
    } else {
        options.read(true);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return anyhow::anyhow!(
                "{what} {} is a symbolic link: refusing to follow it (replace it with the real file)",
                path.display()
            );
        }
        anyhow::Error::new(e).context(format!("opening {what} {}", path.display()))
    })?;
    check_handle(&file, path, what)?;
    Ok(file)
}

/// Creates `path` (which must not exist) readable by the owner only.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    private_options().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn check_handle(file: &File, path: &Path, what: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file
        .metadata()
        .with_context(|| format!("reading the metadata of {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a regular file", path.display());
    }
    let uid = current_uid();
    if meta.uid() != uid {
        bail!(
            "{what} {} belongs to user {}, not to this process's user {uid}: refusing to use it",
            path.display(),
            meta.uid()
        );
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{what} {} is readable or writable by others (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_handle(_file: &File, _path: &Path, _what: &str) -> Result<()> {
    Ok(())
}
