//! The compiled registry facts of an index folder or of cargo's index cache: each index entry
//! read (its versions, yanked flags, publication times and the locked versions' dependencies)
//! kept in one file in the user's cache folder, so that the next run looks at each entry's
//! metadata (`stat`, no open) instead of reading and parsing it. Reading the 866 entries of
//! nushell's lockfile was more than half of a warm offline audit (234 M of 433 M instructions
//! under callgrind); the container's rules are `crate::compiled`'s.
//!
//! An entry is used only while its file's [`Stamp`] is the one it was read with, and only if
//! it holds the dependencies of every version the run asks for; anything else is read again.
//! An entry modified in the last two seconds is not kept. The cache folder is the caller's,
//! already checked to be this user's and writable by no one else.
//!
//! Each entry is kept as its own postcard bytes inside the payload, so that a run decodes only
//! the entries it looks up, and of those only the versions it keeps ([`Keep`]): decoding all
//! 35,238 versions of nushell's 866 entries into memory before the lockfile was read was a
//! tenth of a warm offline audit's CPU time and 3 MiB of its peak memory. An entry whose bytes
//! do not decode is read again from the index and not written back.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::facts::Keep;
use super::index::{IndexVersion, Parsed};
use crate::compiled::Stamp;

/// Bumped whenever the payload's shape changes (the advisory database's format is 1; 5: each
/// entry's parsed form is its own bytes).
const FORMAT: u32 = 5;
/// Entries kept at most in one file: a file holds the entries of the projects audited against
/// one index, and a crates.io mirror has fewer than 250,000 crates.
const MAX_ENTRIES: usize = 250_000;

/// The payload: every entry kept, by index path (`re/ge/regex`), in path order, each path once.
#[derive(Default, Serialize, Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    entries: Vec<Stored<'a>>,
}

#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    path: &'a str,
    stamp: Stamp,
    /// The entry's [`Parsed`], postcard.
    #[serde(with = "raw")]
    parsed: &'a [u8],
}

mod raw {
    //! Bytes as postcard writes a byte string (a length, then the bytes), borrowed on reading.
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &&[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'de [u8], D::Error> {
        <&'de [u8]>::deserialize(d)
    }
}

/// The compiled facts of one index folder, as read at the start of a run, and what the run
/// read anew.
pub(crate) struct Compiled {
    path: PathBuf,
    key: [u8; 32],
    root: PathBuf,
    /// The compiled file as read (empty when there was none that was ours), and where each
    /// kept entry's stamp and bytes are in it.
    file: Vec<u8>,
    kept: BTreeMap<String, (Stamp, Range<usize>)>,
    /// Kept entries whose bytes did not decode: not written back.
    spoiled: BTreeSet<String>,
    fresh: BTreeMap<String, (Stamp, Vec<u8>)>,
    racy_after: Option<std::time::SystemTime>,
}

/// What the compiled facts say of one entry.
pub(crate) enum Look {
    /// Kept, its file unchanged: the versions the run keeps of it.
    Kept(Parsed),
    /// Not kept, changed, or without what the run needs: read it (and keep it with
    /// [`Compiled::keep`], stamped with the metadata of the file that was read).
    Read,
}

impl Compiled {
    /// The compiled facts of the index at `root` (`kind` tells a folder from cargo's cache) in
    /// `folder`, or `None` when `root` cannot be named.
    pub(crate) fn open(kind: &str, root: &Path, folder: &Path) -> Option<Compiled> {
        let root = std::fs::canonicalize(root).ok()?;
        let mut name = Sha256::new();
        name.update(b"registry\0");
        name.update(kind.as_bytes());
        name.update([0]);
        name.update(root.as_os_str().as_encoded_bytes());
        let key: [u8; 32] = name.finalize().into();
        let path = folder.join(format!("registry-{}.bin", hex::encode(&key[..16])));
        let file = crate::regular_file::read(&path, crate::compiled::MAX_BYTES).unwrap_or_default();
        let (file, kept) = match index(&file, &key) {
            Some(kept) => (file, kept),
            None => (Vec::new(), BTreeMap::new()),
        };
        Some(Compiled {
            path,
            key,
            root,
            file,
            kept,
            spoiled: BTreeSet::new(),
            fresh: BTreeMap::new(),
            racy_after: crate::compiled::racy_after(),
        })
    }

    /// Whether the entry at index path `relative` may be taken as kept, for a run that needs
    /// the dependencies of the versions in `wanted` and keeps what `keep` keeps.
    pub(crate) fn look(
        &mut self,
        relative: &str,
        wanted: &[&semver::Version],
        keep: &Keep,
    ) -> Look {
        let Some((stamp, at)) = self.kept.get(relative) else {
            return Look::Read;
        };
        let Ok(meta) = std::fs::symlink_metadata(self.root.join(relative)) else {
            return Look::Read;
        };
        if !meta.is_file() || Stamp::of(&meta, self.racy_after).0 != *stamp {
            return Look::Read;
        }
        let Some(parsed) = self
            .file
            .get(at.clone())
            .and_then(|b| decode_entry(b, keep))
        else {
            self.spoiled.insert(relative.to_owned());
            return Look::Read;
        };
        if parsed.has_requires_of(wanted.iter().copied()) {
            Look::Kept(parsed)
        } else {
            Look::Read
        }
    }

    /// Keeps an entry for the next run, stamped with `meta`, the metadata of the open file its
    /// text was read from (so that a path that led elsewhere while it was read, an index folder
    /// reached through a link that was switched, stamps the file actually read). Not kept: an
    /// entry modified in the last two seconds, an unreadable one (whether it is unreadable
    /// can depend on the versions asked for, which the next run may not share), and one with a
    /// publication time UTC cannot name.
    pub(crate) fn keep(&mut self, relative: &str, meta: &std::fs::Metadata, parsed: &Parsed) {
        let (stamp, settled) = Stamp::of(meta, self.racy_after);
        if settled
            && parsed.unreadable.is_none()
            && parsed.compilable()
            && let Some(bytes) = crate::compiled::encode(parsed)
        {
            self.fresh.insert(relative.to_owned(), (stamp, bytes));
        }
    }

    /// Writes the file again if anything was read anew or did not decode; a failure is not an
    /// error.
    pub(crate) fn save(self) {
        if self.fresh.is_empty() && self.spoiled.is_empty() {
            return;
        }
        let mut entries: BTreeMap<&str, (Stamp, &[u8])> = BTreeMap::new();
        for (path, (stamp, at)) in &self.kept {
            if !self.spoiled.contains(path)
                && let Some(bytes) = self.file.get(at.clone())
            {
                entries.insert(path, (*stamp, bytes));
            }
        }
        for (path, (stamp, bytes)) in &self.fresh {
            entries.insert(path, (*stamp, bytes));
        }
        if entries.len() > MAX_ENTRIES {
            return;
        }
        let payload = Payload {
            entries: entries
                .into_iter()
                .map(|(path, (stamp, parsed))| Stored {
                    path,
                    stamp,
                    parsed,
                })
                .collect(),
        };
        crate::compiled::write(&self.path, FORMAT, &self.key, &payload);
    }
}

/// Where each entry of the compiled `file` is, if it is one this version wrote for `key`: its
/// paths in order, each once, at most [`MAX_ENTRIES`].
fn index(file: &[u8], key: &[u8; 32]) -> Option<BTreeMap<String, (Stamp, Range<usize>)>> {
    let payload = crate::compiled::unframe(file, FORMAT, key)?;
    let (payload, rest) = postcard::take_from_bytes::<Payload>(payload).ok()?;
    if !rest.is_empty() || payload.entries.len() > MAX_ENTRIES {
        return None;
    }
    let base = file.as_ptr() as usize;
    let mut kept = BTreeMap::new();
    let mut last: Option<&str> = None;
    for stored in payload.entries {
        if last.is_some_and(|last| last >= stored.path) {
            return None;
        }
        last = Some(stored.path);
        // The bytes were borrowed from `file`: their place in it.
        let start = (stored.parsed.as_ptr() as usize).checked_sub(base)?;
        let at = start..start.checked_add(stored.parsed.len())?;
        if !std::ptr::eq(file.get(at.clone())?, stored.parsed) {
            return None;
        }
        kept.insert(stored.path.to_owned(), (stored.stamp, at));
    }
    Some(kept)
}

/// A kept entry's bytes as a [`Parsed`] with only the versions `keep` keeps, read one at a
/// time: the layout `Parsed`'s own `Deserialize` reads (`kept_entries_read_back_*` holds the
/// two together), or `None` when they are not one.
fn decode_entry(bytes: &[u8], keep: &Keep) -> Option<Parsed> {
    let mut decoder = postcard::Deserializer::from_bytes(bytes);
    let parsed = ParsedSeed(keep).deserialize(&mut decoder).ok()?;
    decoder.finalize().ok()?.is_empty().then_some(parsed)
}

struct ParsedSeed<'k>(&'k Keep);

impl<'de> DeserializeSeed<'de> for ParsedSeed<'_> {
    type Value = Parsed;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_struct("Parsed", &["listed", "unreadable", "versions"], self)
    }
}

impl<'de> Visitor<'de> for ParsedSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a kept index entry")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let missing = |at| serde::de::Error::invalid_length(at, &"three fields");
        let listed = seq.next_element()?.ok_or_else(|| missing(0))?;
        let unreadable = seq.next_element()?.ok_or_else(|| missing(1))?;
        let versions = seq
            .next_element_seed(VersionsSeed(self.0))?
            .ok_or_else(|| missing(2))?;
        Ok(Parsed {
            listed,
            unreadable,
            versions,
        })
    }
}

struct VersionsSeed<'k>(&'k Keep);

impl<'de> DeserializeSeed<'de> for VersionsSeed<'_> {
    type Value = Vec<IndexVersion>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VersionsSeed<'_> {
    type Value = Vec<IndexVersion>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the versions of a kept index entry")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut kept = self.0.start(seq.size_hint().unwrap_or(0));
        while let Some(version) = seq.next_element()? {
            kept.offer(version);
        }
        Ok(kept.finish())
    }
}

/// Where the compiled facts of the index at `root` would be kept in `folder`, and the key they
/// must carry: for tests and the fuzz harness, which plant files there.
pub fn slot_file(kind: &str, root: &Path, folder: &Path) -> Option<(PathBuf, [u8; 32])> {
    Compiled::open(kind, root, folder).map(|c| (c.path, c.key))
}

/// The number of entries a compiled file holds that decode, if `bytes` is one for `key`: the
/// reader the fuzz target and the property test drive.
pub fn read_bytes(bytes: &[u8], key: &[u8; 32]) -> Option<usize> {
    let kept = index(bytes, key)?;
    let everything = Keep::new([], time::OffsetDateTime::UNIX_EPOCH);
    let mut read = 0;
    for at in kept.values().map(|(_, at)| at.clone()) {
        read += usize::from(decode_entry(bytes.get(at)?, &everything).is_some());
    }
    Some(read)
}

/// Frames `payload` as a compiled file for `key`: for the fuzz harness.
pub fn frame(payload: &[u8], key: &[u8; 32]) -> Vec<u8> {
    crate::compiled::frame(FORMAT, payload, key)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    /// A kept entry's bytes: one version with its dependencies (as the locked ones have).
    fn arb_parsed() -> impl Strategy<Value = Parsed> {
        (
            proptest::collection::vec("[a-zA-Z_-]{1,6}", 0..3),
            proptest::option::of("[ -~]{0,12}"),
            proptest::collection::vec(
                (
                    super::super::facts::tests::arb_version(),
                    proptest::option::weighted(
                        0.2,
                        proptest::collection::vec(("[a-z]{1,4}", "[ -~]{0,6}"), 0..3),
                    ),
                ),
                0..12,
            ),
        )
            .prop_map(|(listed, unreadable, versions)| Parsed {
                listed,
                unreadable,
                versions: versions
                    .into_iter()
                    .map(|(mut version, requires)| {
                        version.requires = requires.map(|r| {
                            r.into_iter()
                                .map(|(name, req_text)| super::super::index::Required {
                                    req: semver::VersionReq::parse(&req_text).ok(),
                                    name,
                                    req_text,
                                    registry: None,
                                })
                                .collect()
                        });
                        version
                    })
                    .collect(),
            })
    }

    proptest! {
        /// A kept entry, decoded one version at a time, is the entry `Parsed`'s own
        /// `Serialize` wrote, with the versions the run keeps; anything cut short or longer
        /// is no entry.
        #[test]
        fn kept_entries_read_back_as_written_with_the_versions_kept(
            parsed in arb_parsed(),
            wanted in proptest::collection::vec(super::super::facts::tests::arb_version(), 0..3),
            cut in any::<proptest::sample::Index>(),
        ) {
            let now = datetime!(2026-09-01 0:00 UTC);
            let bytes = crate::compiled::encode(&parsed).unwrap();
            let everything = Keep::new([], now);
            prop_assert_eq!(decode_entry(&bytes, &everything), Some(parsed.clone()));
            let keep = Keep::new(wanted.iter().map(|v| &v.version), now);
            let mut expected = parsed.clone();
            expected.versions = keep.prune(expected.versions);
            prop_assert_eq!(decode_entry(&bytes, &keep), Some(expected));
            let short = &bytes[..cut.index(bytes.len())];
            prop_assert_eq!(decode_entry(short, &everything), None);
            let mut long = bytes.clone();
            long.push(0);
            prop_assert_eq!(decode_entry(&long, &everything), None);
        }
    }

    /// A payload as [`Compiled::save`] writes it, of `entries` as they are given: for tests
    /// that plant a file.
    pub(crate) fn payload_of(entries: &[(&str, Stamp, &[u8])]) -> Vec<u8> {
        crate::compiled::encode(&Payload {
            entries: entries
                .iter()
                .map(|(path, stamp, parsed)| Stored {
                    path,
                    stamp: *stamp,
                    parsed,
                })
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn a_payload_with_paths_out_of_order_or_twice_is_not_ours() {
        let key = [3u8; 32];
        let stamp = Stamp {
            kind: 3,
            len: 1,
            modified: (1, 2),
            changed: (3, 4),
            inode: 5,
            device: 6,
        };
        let entry = crate::compiled::encode(&Parsed::default()).unwrap();
        let file = |entries: &[(&str, Stamp, &[u8])]| frame(&payload_of(entries), &key);
        let good = file(&[("1/a", stamp, &entry), ("2/ab", stamp, &entry)]);
        assert_eq!(index(&good, &key).map(|kept| kept.len()), Some(2));
        assert_eq!(read_bytes(&good, &key), Some(2));
        for bad in [
            file(&[("2/ab", stamp, &entry), ("1/a", stamp, &entry)]),
            file(&[("1/a", stamp, &entry), ("1/a", stamp, &entry)]),
        ] {
            assert!(index(&bad, &key).is_none());
        }
        // An entry that does not decode is indexed (its bytes are ours) but reads as nothing.
        let spoiled = file(&[("1/a", stamp, &entry), ("2/ab", stamp, b"\xff")]);
        assert_eq!(read_bytes(&spoiled, &key), Some(1));
    }
}
