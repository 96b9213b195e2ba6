//! Plugin packages (`<id>-<version>.hpkg`): one file a partner submits,
//! holding a plugin directory's manifest, its component and, once a
//! reviewer signed it, the approval.
//!
//! **Threat.** A submitted package is attacker-controlled input: it reaches
//! a reviewer's machine and the platform from outside. So reading one trusts
//! nothing in it: members are read while streaming, each under its own cap
//! (the component under [`MAX_COMPONENT_BYTES`], the platform's cap), and a
//! header's size is compared with the cap before a byte is read and is never
//! used to allocate; only the four member names below are accepted, each
//! once, as regular files (no symbolic or hard link, device, directory, GNU
//! long-name or PAX header, absolute path or `..`); the `digest` member must
//! list the manifest's and component's sha256 and match them; and the whole
//! file must be byte for byte what [`Package::write_to`] writes for those
//! members (order, headers, padding, end marker), so nothing can hide in
//! the framing. Anything else is refused with a [`PackageError`] naming it,
//! before any of it is used.
//!
//! **Format.** An uncompressed ustar archive of, in this order:
//! `healthplug.toml` (the manifest, unchanged), `component.wasm` (the file
//! the manifest's `component` names, under this fixed name), `digest`
//! (`<sha256>  healthplug.toml` and `<sha256>  component.wasm`, one line
//! each, as `sha256sum` prints them) and, optionally, `healthplug.approval`.
//! Every header has mode 0644, uid and gid 0, no user or group name and
//! mtime 0, so the same members always give the same bytes. The approval is
//! not in the digest: it signs the manifest's and component's sha256
//! itself, and `review sign` adds it to a package without changing the
//! digest. The file operations (pack, read, atomic rewrite) are in
//! `package_file.rs`.

use std::io::{self, Read, Write};
use std::path::{Component as PathPart, Path};

use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

use super::APPROVAL_FILE;
use super::source::{MAX_COMPONENT_BYTES, sha256_hex};
use crate::manifest::MANIFEST_FILE;
use crate::text::sanitize_line;

/// The file extension of a package.
pub const PACKAGE_EXTENSION: &str = "hpkg";
/// The member holding the component, whatever the manifest calls it.
pub const COMPONENT_MEMBER: &str = "component.wasm";
/// The member listing the manifest's and component's sha256.
pub const DIGEST_MEMBER: &str = "digest";
/// The largest manifest member accepted, bytes.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;
/// The largest approval member accepted, bytes.
pub const MAX_APPROVAL_BYTES: usize = 64 * 1024;
/// The largest digest member accepted, bytes.
pub const MAX_DIGEST_BYTES: usize = 4 * 1024;
/// The most zero bytes accepted after the end marker (a tar record).
const MAX_TRAILER_BYTES: u64 = 10 * 1024;

/// What a package holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// The manifest text.
    pub manifest: String,
    /// The component bytes.
    pub component: Vec<u8>,
    /// The approval's text, once a reviewer signed it.
    pub approval: Option<String>,
}

/// Why a file is not a usable package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// Not a tar archive, or cut short inside a header.
    #[error("it is not a package written by `healthplug pack` (truncated, or not an uncompressed tar archive): {0}")]
    NotAPackage(String),
    /// A member's data ends before its header says.
    #[error("the package is truncated: member `{0}` ends early")]
    Truncated(String),
    /// A member path that is absolute or climbs with `..`.
    #[error("member `{0}` has an unsafe path (absolute, or containing `..`)")]
    UnsafePath(String),
    /// A member that is not a regular file.
    #[error("member `{member}` is {kind}, not a regular file")]
    NotAFile {
        /// The member.
        member: String,
        /// What it is instead.
        kind: String,
    },
    /// A member a package does not hold.
    #[error(
        "unexpected member `{0}`: a package holds only healthplug.toml, component.wasm, digest and healthplug.approval"
    )]
    UnexpectedMember(String),
    /// The same member twice.
    #[error("member `{0}` appears twice")]
    DuplicateMember(String),
    /// A required member is absent.
    #[error("member `{0}` is missing")]
    MissingMember(String),
    /// A member over its cap (by its header or by its data).
    #[error("member `{member}` is larger than its cap of {limit} bytes")]
    TooLarge {
        /// The member.
        member: String,
        /// Its cap, bytes.
        limit: usize,
    },
    /// A text member that is not UTF-8.
    #[error("member `{0}` is not UTF-8 text")]
    NotText(String),
    /// The `digest` member is not two `<sha256>  <member>` lines.
    #[error("the `digest` member is malformed: {0}")]
    BadDigest(String),
    /// A member whose sha256 is not the one `digest` lists.
    #[error("member `{member}` was altered: its sha256 is {actual}, the digest lists {listed}")]
    DigestMismatch {
        /// The member.
        member: String,
        /// In `digest`.
        listed: String,
        /// Found.
        actual: String,
    },
    /// Non-zero bytes, or too many bytes, after the end marker.
    #[error("the package has data after its end")]
    TrailingData,
    /// Well-formed members in framing `pack` does not write.
    #[error(
        "the package is not laid out as `healthplug pack` writes it (member order, headers, padding or end marker differ)"
    )]
    NotCanonical,
}

/// Per-member caps; the platform's unless a test shrinks them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) manifest: usize,
    pub(crate) component: usize,
    pub(crate) approval: usize,
    pub(crate) digest: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            manifest: MAX_MANIFEST_BYTES,
            component: MAX_COMPONENT_BYTES,
            approval: MAX_APPROVAL_BYTES,
            digest: MAX_DIGEST_BYTES,
        }
    }
}

/// The members in the order a package holds them.
const MEMBERS: [&str; 4] = [MANIFEST_FILE, COMPONENT_MEMBER, DIGEST_MEMBER, APPROVAL_FILE];

impl Package {
    /// The `digest` member's text.
    pub fn digest_text(&self) -> String {
        format!(
            "{}  {MANIFEST_FILE}\n{}  {COMPONENT_MEMBER}\n",
            sha256_hex(self.manifest.as_bytes()),
            sha256_hex(&self.component)
        )
    }

    /// Writes the package to `out` (deterministic: the same members give
    /// the same bytes) and returns `out`.
    pub fn write_to<W: Write>(&self, out: W) -> io::Result<W> {
        let digest = self.digest_text();
        let mut builder = tar::Builder::new(out);
        let mut members: Vec<(&str, &[u8])> = vec![
            (MANIFEST_FILE, self.manifest.as_bytes()),
            (COMPONENT_MEMBER, &self.component),
            (DIGEST_MEMBER, digest.as_bytes()),
        ];
        if let Some(approval) = &self.approval {
            members.push((APPROVAL_FILE, approval.as_bytes()));
        }
        for (name, data) in members {
            let mut header = Header::new_ustar();
            header.set_entry_type(EntryType::Regular);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            header.set_size(data.len() as u64);
            builder.append_data(&mut header, name, data)?;
        }
        builder.into_inner()
    }

    /// The package's bytes.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        self.write_to(Vec::new())
    }

    /// Reads and verifies a package under the platform's caps.
    pub fn read_from<R: Read>(input: R) -> Result<Package, PackageError> {
        Package::read_limited(input, &Limits::default())
    }

    /// Reads and verifies a package under `limits`.
    pub(crate) fn read_limited<R: Read>(input: R, limits: &Limits) -> Result<Package, PackageError> {
        let mut archive = tar::Archive::new(Hashing::new(input));
        let mut found: [Option<Vec<u8>>; 4] = Default::default();
        let entries = archive.entries().map_err(|e| not_a_package(&e))?;
        // Raw: GNU long names and PAX headers come as entries of their own,
        // refused below, never as text the reader buffers whole.
        for entry in entries.raw(true) {
            let mut entry = entry.map_err(|e| not_a_package(&e))?;
            let index = member_index(entry.header())?;
            if found[index].is_some() {
                return Err(PackageError::DuplicateMember(MEMBERS[index].into()));
            }
            found[index] = Some(read_member(&mut entry, index, limits)?);
        }
        let mut rest = archive.into_inner();
        check_trailer(&mut rest)?;
        if found.iter().all(Option::is_none) {
            return Err(PackageError::NotAPackage("it holds no members".into()));
        }
        let package = assemble(found)?;
        // The framing too: only the bytes `write_to` gives are a package.
        let mut canonical = Hashing::new(io::empty());
        canonical = package.write_to(canonical).map_err(|e| not_a_package(&e))?;
        if canonical.finish() != rest.finish() {
            return Err(PackageError::NotCanonical);
        }
        Ok(package)
    }
}

/// A reading error, without the bytes some of tar's messages quote from
/// the (attacker's) header: only its text up to the first `:`.
fn not_a_package(e: &io::Error) -> PackageError {
    let text = e.to_string();
    let head = text.split(':').next().unwrap_or_default();
    PackageError::NotAPackage(sanitize_line(head).into_owned())
}

/// Which of [`MEMBERS`] `header` names, refusing unsafe paths, anything
/// but a regular file and unknown names.
fn member_index(header: &Header) -> Result<usize, PackageError> {
    let raw = header.path_bytes();
    let name = String::from_utf8_lossy(&raw);
    let shown = sanitize_line(&name).into_owned();
    let path = Path::new(name.as_ref());
    let unsafe_path = name.starts_with('/')
        || name.starts_with('\\')
        || path
            .components()
            .any(|c| matches!(c, PathPart::ParentDir | PathPart::RootDir | PathPart::Prefix(_)))
        || name.split(['/', '\\']).any(|part| part == "..");
    if unsafe_path {
        return Err(PackageError::UnsafePath(shown));
    }
    let entry_type = header.entry_type();
    if entry_type != EntryType::Regular {
        return Err(PackageError::NotAFile {
            member: shown,
            kind: kind_of(entry_type),
        });
    }
    MEMBERS
        .iter()
        .position(|m| m.as_bytes() == raw.as_ref())
        .ok_or(PackageError::UnexpectedMember(shown))
}

/// What a non-regular entry is, in words.
fn kind_of(entry_type: EntryType) -> String {
    match entry_type {
        EntryType::Link => "a hard link".into(),
        EntryType::Symlink => "a symbolic link".into(),
        EntryType::Char => "a character device".into(),
        EntryType::Block => "a block device".into(),
        EntryType::Directory => "a directory".into(),
        EntryType::Fifo => "a named pipe".into(),
        EntryType::Continuous => "a contiguous file".into(),
        EntryType::GNULongName | EntryType::GNULongLink => "a GNU long-name header".into(),
        EntryType::GNUSparse => "a sparse file".into(),
        EntryType::XHeader | EntryType::XGlobalHeader => "a PAX extended header".into(),
        other => format!("an entry of type {:?}", char::from(other.as_byte())),
    }
}

/// Reads one member's data under its cap: the header's size is checked
/// first and never allocated; the data must be exactly that long.
fn read_member<R: Read>(entry: &mut tar::Entry<'_, R>, index: usize, limits: &Limits) -> Result<Vec<u8>, PackageError> {
    let member = MEMBERS[index];
    let limit = match member {
        MANIFEST_FILE => limits.manifest,
        COMPONENT_MEMBER => limits.component,
        DIGEST_MEMBER => limits.digest,
        _ => limits.approval,
    };
    let too_large = || PackageError::TooLarge {
        member: member.into(),
        limit,
    };
    let size = entry.size();
    if size > limit as u64 {
        return Err(too_large());
    }
    let mut data = Vec::new();
    entry
        .take(limit as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| not_a_package(&e))?;
    if data.len() > limit {
        return Err(too_large());
    }
    if data.len() as u64 != size {
        return Err(PackageError::Truncated(member.into()));
    }
    Ok(data)
}

/// Reads what follows the end marker: at most a record of zero bytes.
fn check_trailer<R: Read>(rest: &mut Hashing<R>) -> Result<(), PackageError> {
    let mut tail = Vec::new();
    rest.take(MAX_TRAILER_BYTES + 1)
        .read_to_end(&mut tail)
        .map_err(|e| not_a_package(&e))?;
    if tail.len() as u64 > MAX_TRAILER_BYTES || tail.iter().any(|b| *b != 0) {
        return Err(PackageError::TrailingData);
    }
    Ok(())
}

/// The members found, checked against `digest` and decoded.
fn assemble(found: [Option<Vec<u8>>; 4]) -> Result<Package, PackageError> {
    let [manifest, component, digest, approval] = found;
    let missing = |name: &str| PackageError::MissingMember(name.into());
    let manifest = manifest.ok_or_else(|| missing(MANIFEST_FILE))?;
    let component = component.ok_or_else(|| missing(COMPONENT_MEMBER))?;
    let digest = digest.ok_or_else(|| missing(DIGEST_MEMBER))?;
    let digest = String::from_utf8(digest).map_err(|_| PackageError::NotText(DIGEST_MEMBER.into()))?;
    let listed = parse_digest(&digest)?;
    for (member, data) in [(MANIFEST_FILE, manifest.as_slice()), (COMPONENT_MEMBER, &component)] {
        let actual = sha256_hex(data);
        let listed = listed.iter().find(|(_, m)| *m == member).map(|(d, _)| d.clone());
        match listed {
            None => return Err(PackageError::BadDigest(format!("it does not list `{member}`"))),
            Some(listed) if listed != actual => {
                return Err(PackageError::DigestMismatch {
                    member: member.into(),
                    listed,
                    actual,
                });
            }
            Some(_) => {}
        }
    }
    let text =
        |bytes: Vec<u8>, member: &str| String::from_utf8(bytes).map_err(|_| PackageError::NotText(member.into()));
    Ok(Package {
        manifest: text(manifest, MANIFEST_FILE)?,
        component,
        approval: approval.map(|a| text(a, APPROVAL_FILE)).transpose()?,
    })
}

/// `<64 lowercase hex>  <member>` lines, each member at most once, only
/// the manifest and the component.
fn parse_digest(text: &str) -> Result<Vec<(String, &str)>, PackageError> {
    let mut out: Vec<(String, &str)> = Vec::new();
    for line in text.lines() {
        let shown = || sanitize_line(line).into_owned();
        let (hash, member) = line
            .split_once("  ")
            .ok_or_else(|| PackageError::BadDigest(format!("`{}` is not `<sha256>  <member>`", shown())))?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(PackageError::BadDigest(format!(
                "`{}` is not a lowercase sha256",
                shown()
            )));
        }
        if member != MANIFEST_FILE && member != COMPONENT_MEMBER {
            return Err(PackageError::BadDigest(format!(
                "it lists `{}`; it covers only healthplug.toml and component.wasm",
                sanitize_line(member)
            )));
        }
        if out.iter().any(|(_, m)| *m == member) {
            return Err(PackageError::BadDigest(format!("it lists `{member}` twice")));
        }
        out.push((hash.to_string(), member));
    }
    Ok(out)
}

/// A reader or writer that hashes every byte through it.
struct Hashing<T> {
    inner: T,
    hasher: Sha256,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Hashing<T> {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<W> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;
