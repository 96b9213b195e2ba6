//! Unit tests of the package format (`package.rs`): a package round-trips
//! byte for byte, and every hostile package, built with the tar crate's
//! builder directly, is refused with an error naming what is wrong, never a
//! panic.

use super::*;

fn sample(approval: Option<&str>) -> Package {
    Package {
        manifest: "[plugin]\nid = \"p\"\nversion = \"1.0.0\"\ncomponent = \"p.wasm\"\n".into(),
        component: b"\0asm\x0d\0\x01\0 not really a component, but bytes".repeat(40),
        approval: approval.map(str::to_string),
    }
}

/// A header as `pack` writes one, its name set byte for byte (so `../x`
/// and `/etc/passwd` can be written, which the builder refuses).
fn header(name: &str, kind: EntryType, size: u64) -> Header {
    let mut h = Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_cksum();
    h
}

/// A ustar archive of `members`.
fn archive(members: &[(&str, EntryType, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data) in members {
        b.append(&header(name, *kind, data.len() as u64), *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The members of `p` as `pack` writes them, to edit.
fn members(p: &Package) -> Vec<(String, EntryType, Vec<u8>)> {
    let mut out = vec![
        (
            MANIFEST_FILE.to_string(),
            EntryType::Regular,
            p.manifest.clone().into_bytes(),
        ),
        (COMPONENT_MEMBER.to_string(), EntryType::Regular, p.component.clone()),
        (
            DIGEST_MEMBER.to_string(),
            EntryType::Regular,
            p.digest_text().into_bytes(),
        ),
    ];
    if let Some(a) = &p.approval {
        out.push((APPROVAL_FILE.to_string(), EntryType::Regular, a.clone().into_bytes()));
    }
    out
}

fn build(members: &[(String, EntryType, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, EntryType, &[u8])> = members.iter().map(|(n, k, d)| (n.as_str(), *k, d.as_slice())).collect();
    archive(&refs)
}

fn read(bytes: &[u8]) -> Result<Package, PackageError> {
    Package::read_from(bytes)
}

#[test]
fn a_package_round_trips_byte_for_byte_and_deterministically() {
    for p in [sample(None), sample(Some("{\"approval\": 1}"))] {
        let bytes = p.to_bytes().unwrap();
        assert_eq!(bytes, p.to_bytes().unwrap(), "same members, same bytes");
        assert_eq!(read(&bytes), Ok(p.clone()));
        // The hostile builder below writes exactly what `pack` writes, so
        // each hostile package differs only where it means to.
        assert_eq!(build(&members(&p)), bytes);
    }
    let digest = sample(None).digest_text();
    let lines: Vec<&str> = digest.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with("  healthplug.toml") && lines[1].ends_with("  component.wasm"));
    // Adding the approval leaves the digest (and the other members) as
    // they were.
    let (plain, signed) = (sample(None).to_bytes().unwrap(), sample(Some("{}")).to_bytes().unwrap());
    let members_end = plain.len() - 1024;
    assert_eq!(plain[..members_end], signed[..members_end]);
}

#[test]
fn an_extra_member_is_refused() {
    let mut m = members(&sample(None));
    m.push(("notes.txt".into(), EntryType::Regular, b"hello".to_vec()));
    assert_eq!(
        read(&build(&m)),
        Err(PackageError::UnexpectedMember("notes.txt".into()))
    );
    // A near-miss of a member name is another member.
    let mut m = members(&sample(None));
    m[0].0 = "./healthplug.toml".into();
    assert_eq!(
        read(&build(&m)),
        Err(PackageError::UnexpectedMember("./healthplug.toml".into()))
    );
}

#[test]
fn a_missing_member_is_refused() {
    for (i, name) in [(0, MANIFEST_FILE), (1, COMPONENT_MEMBER), (2, DIGEST_MEMBER)] {
        let mut m = members(&sample(None));
        m.remove(i);
        assert_eq!(read(&build(&m)), Err(PackageError::MissingMember(name.into())));
    }
}

#[test]
fn a_duplicate_member_is_refused() {
    let mut m = members(&sample(None));
    m.insert(1, m[0].clone());
    assert_eq!(
        read(&build(&m)),
        Err(PackageError::DuplicateMember("healthplug.toml".into()))
    );
    let mut m = members(&sample(Some("{}")));
    m.push(m[3].clone());
    assert_eq!(
        read(&build(&m)),
        Err(PackageError::DuplicateMember("healthplug.approval".into()))
    );
}

#[test]
fn unsafe_member_paths_are_refused() {
    for bad in ["../x", "/etc/passwd", "a/../../healthplug.toml", "..", "x/.."] {
        let mut m = members(&sample(None));
        m.push((bad.into(), EntryType::Regular, b"x".to_vec()));
        assert_eq!(read(&build(&m)), Err(PackageError::UnsafePath(bad.into())), "{bad}");
    }
}

#[test]
fn members_that_are_not_regular_files_are_refused() {
    for (kind, words) in [
        (EntryType::Symlink, "a symbolic link"),
        (EntryType::Link, "a hard link"),
        (EntryType::Char, "a character device"),
        (EntryType::Block, "a block device"),
        (EntryType::Directory, "a directory"),
        (EntryType::Fifo, "a named pipe"),
        (EntryType::GNULongName, "a GNU long-name header"),
        (EntryType::XHeader, "a PAX extended header"),
    ] {
        let mut m = members(&sample(None));
        m[1].1 = kind;
        if kind == EntryType::Symlink || kind == EntryType::Link {
            m[1].2 = Vec::new();
        }
        let e = read(&build(&m)).unwrap_err();
        assert_eq!(
            e,
            PackageError::NotAFile {
                member: "component.wasm".into(),
                kind: words.into()
            }
        );
        assert!(
            e.to_string().contains(&format!("is {words}, not a regular file")),
            "{e}"
        );
    }
}

#[test]
fn a_swapped_component_with_the_old_digest_is_refused() {
    let p = sample(None);
    let mut m = members(&p);
    m[1].2[100] ^= 0x01;
    let e = read(&build(&m)).unwrap_err();
    assert!(
        matches!(&e, PackageError::DigestMismatch { member, listed, .. }
            if member == "component.wasm" && *listed == sha256_hex(&p.component)),
        "{e}"
    );
    // So is an edited manifest.
    let mut m = members(&p);
    m[0].2.extend_from_slice(b"name = \"Other\"\n");
    assert!(
        matches!(read(&build(&m)), Err(PackageError::DigestMismatch { member, .. }) if member == "healthplug.toml")
    );
}

#[test]
fn a_malformed_digest_is_refused() {
    let p = sample(None);
    let m_hash = sha256_hex(p.manifest.as_bytes());
    let c_hash = sha256_hex(&p.component);
    for (text, says) in [
        (format!("{m_hash}  healthplug.toml\n"), "does not list `component.wasm`"),
        (
            format!("{m_hash}  healthplug.toml\n{c_hash}  component.wasm\n{c_hash}  healthplug.approval\n"),
            "covers only",
        ),
        (format!("{m_hash} healthplug.toml\n"), "is not `<sha256>  <member>`"),
        (
            format!("{}  healthplug.toml\n{c_hash}  component.wasm\n", m_hash.to_uppercase()),
            "lowercase sha256",
        ),
        (
            format!("{m_hash}  healthplug.toml\n{m_hash}  healthplug.toml\n"),
            "twice",
        ),
    ] {
        let mut m = members(&p);
        m[2].2 = text.into_bytes();
        let e = read(&build(&m)).unwrap_err();
        assert!(
            matches!(e, PackageError::BadDigest(_)) && e.to_string().contains(says),
            "{e}"
        );
    }
}

#[test]
fn truncated_packages_are_refused_at_every_length() {
    let bytes = sample(Some("{}")).to_bytes().unwrap();
    for len in 0..bytes.len() {
        assert!(
            read(&bytes[..len]).is_err(),
            "a package cut at {len} bytes was accepted"
        );
    }
    // Cut inside the component's data: the member is named.
    assert_eq!(
        read(&bytes[..1024 + 700]),
        Err(PackageError::Truncated("component.wasm".into()))
    );
    // Cut before the end marker: not what `pack` writes.
    assert_eq!(read(&bytes[..bytes.len() - 1024]), Err(PackageError::NotCanonical));
    assert!(matches!(read(&bytes[..100]), Err(PackageError::NotAPackage(_))));
}

#[test]
fn random_bytes_and_other_files_are_not_packages() {
    // A deterministic stream of pseudo-random bytes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let random: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let e = read(&random).unwrap_err();
    assert!(matches!(e, PackageError::NotAPackage(_)), "{e}");
    assert!(
        e.to_string().contains("not a package written by `healthplug pack`"),
        "{e}"
    );
    let e = read(b"[plugin]\nid = \"p\"\n").unwrap_err();
    assert!(matches!(e, PackageError::NotAPackage(_)), "{e}");
    assert_eq!(read(&[]), Err(PackageError::NotAPackage("it holds no members".into())));
    assert_eq!(
        read(&[0; 1024]),
        Err(PackageError::NotAPackage("it holds no members".into()))
    );
}

#[test]
fn members_over_their_cap_are_refused_without_trusting_the_header() {
    // A header claiming one byte over the platform's component cap is
    // refused before a byte of it is read or allocated.
    let mut bytes = header(COMPONENT_MEMBER, EntryType::Regular, MAX_COMPONENT_BYTES as u64 + 1)
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(&[0; 512]);
    assert_eq!(
        read(&bytes),
        Err(PackageError::TooLarge {
            member: "component.wasm".into(),
            limit: MAX_COMPONENT_BYTES
        })
    );
    // Real data over a (shrunk) cap, for each member.
    let p = sample(Some("{\"a\": 1}"));
    let bytes = p.to_bytes().unwrap();
    for (member, limits) in [
        (
            MANIFEST_FILE,
            Limits {
                manifest: 10,
                ..Limits::default()
            },
        ),
        (
            COMPONENT_MEMBER,
            Limits {
                component: 100,
                ..Limits::default()
            },
        ),
        (
            DIGEST_MEMBER,
            Limits {
                digest: 20,
                ..Limits::default()
            },
        ),
        (
            APPROVAL_FILE,
            Limits {
                approval: 3,
                ..Limits::default()
            },
        ),
    ] {
        let e = Package::read_limited(bytes.as_slice(), &limits).unwrap_err();
        assert!(
            matches!(&e, PackageError::TooLarge { member: m, .. } if m == member),
            "{member}: {e}"
        );
    }
    assert_eq!(Package::read_limited(bytes.as_slice(), &Limits::default()), Ok(p));
}

#[test]
fn text_members_must_be_utf8() {
    let mut m = members(&sample(Some("{}")));
    m[3].2 = vec![0xff, 0xfe];
    assert_eq!(
        read(&build(&m)),
        Err(PackageError::NotText("healthplug.approval".into()))
    );
}

#[test]
fn anything_after_the_end_or_in_the_framing_is_refused() {
    let mut bytes = sample(None).to_bytes().unwrap();
    bytes.extend_from_slice(b"hidden");
    assert_eq!(read(&bytes), Err(PackageError::TrailingData));
    // A member hidden after the end marker.
    let mut bytes = sample(None).to_bytes().unwrap();
    bytes.extend_from_slice(&archive(&[("notes.txt", EntryType::Regular, b"hi")]));
    assert_eq!(read(&bytes), Err(PackageError::TrailingData));
    // Bytes hidden in a member's padding, or a changed mtime: the members
    // are intact but the file is not what `pack` writes.
    let p = sample(None);
    let mut bytes = p.to_bytes().unwrap();
    let padding = 512 + p.manifest.len() + 3;
    bytes[padding] = b'!';
    assert_eq!(read(&bytes), Err(PackageError::NotCanonical));
    let mut m = members(&p);
    m.swap(0, 1);
    assert_eq!(read(&build(&m)), Err(PackageError::NotCanonical));
    let mut h = header(MANIFEST_FILE, EntryType::Regular, p.manifest.len() as u64);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    let mut bytes = p.to_bytes().unwrap();
    bytes[..512].copy_from_slice(h.as_bytes());
    assert_eq!(read(&bytes), Err(PackageError::NotCanonical));
}
