//! The compiled registry facts of an index folder or of cargo's index cache: each index entry
//! read (its versions, yanked flags, publication times and the locked versions' dependencies)
//! kept in one file in the user's cache folder, so that the next run looks at each entry's
//! metadata (`stat` relative to the index folder, held open; the entry itself not opened)
//! instead of reading and parsing it. The folder is the one at the index's path when the run
//! began: an index folder swapped for another during the run has its entries checked in the
//! one the run began with. Reading the 866 entries of
//! nushell's lockfile was more than half of a warm offline audit (234 M of 433 M instructions
//! under callgrind); the container's rules are `crate::compiled`'s.
//!
//! An entry is used only while its file's [`Stamp`] is the one it was read with, and only if
//! it holds the dependencies of every version the run asks for; anything else is read again.
//! An entry modified in the last two seconds is not kept. The cache folder is the caller's,
//! already checked to be this user's and writable by no one else.
//!
//! Each entry is kept as its own postcard bytes inside the payload, its versions newest first,
//! so that a run decodes only the entries it looks up, and of those only the newest versions
//! down to the ones it keeps ([`Keep`]): decoding all 35,238 versions of nushell's 866 entries
//! into memory before the lockfile was read was a tenth of a warm offline audit's CPU time and
//! 3 MiB of its peak memory, and decoding them all to keep a few was still 20 M of its 100 M
//! instructions (callgrind, the SHA-256 digests aside); newest first, about a tenth of that.
//! An entry whose bytes do not decode is read again from the index and not written back.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use time::OffsetDateTime;

use super::facts::Keep;
use super::index::{IndexVersion, Parsed};
use super::wire::RawVersion;
use crate::compiled::{Folder, Stamp};

/// Bumped whenever the payload's shape changes (the advisory database's format is 1; 5: each
/// entry its own bytes, versions newest first, publication times as UTC parts).
const FORMAT: u32 = 5;
/// Kept entries at most whose files are checked (a `stat` each) as the compiled file is
/// opened, on the thread that reads it while the lockfile is parsed, rather than when each is
/// looked up: a file holding more (the entries of many projects) is checked entry by entry.
const PRE_STAT: usize = 4096;
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
    /// The entry, as [`encode_entry`] writes it.
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
    /// The index folder, held open: its entries are stamped relative to it.
    root: Option<Folder>,
    /// The compiled file as read (empty when there was none that was ours), and where each
    /// kept entry's stamp and bytes are in it. Hashed, not ordered: a run looks up each of its
    /// crates here and in `unchanged`, on the thread that waits for the answers, and the
    /// ordered maps' string comparisons were a twentieth of the time the registry facts took
    /// (perf); the file is written in path order from an ordered map all the same (`save`).
    file: Vec<u8>,
    kept: HashMap<String, (Stamp, Range<usize>)>,
    /// Whether each kept entry's file is unchanged, found when the file was opened (see
    /// [`PRE_STAT`]); `None` then: found when the entry is looked up.
    unchanged: Option<HashSet<String>>,
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
            None => (Vec::new(), HashMap::new()),
        };
        let racy_after = crate::compiled::racy_after();
        let root = Folder::open(&root);
        let unchanged = (kept.len() <= PRE_STAT).then(|| {
            kept.iter()
                .filter(|(path, (stamp, _))| {
                    stamp_of(root.as_ref(), path, racy_after) == Some(*stamp)
                })
                .map(|(path, _)| path.clone())
                .collect()
        });
        Some(Compiled {
            path,
            key,
            root,
            file,
            kept,
            unchanged,
            spoiled: BTreeSet::new(),
            fresh: BTreeMap::new(),
            racy_after,
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
        let unchanged = match &self.unchanged {
            Some(unchanged) => unchanged.contains(relative),
            None => stamp_of(self.root.as_ref(), relative, self.racy_after) == Some(*stamp),
        };
        if !unchanged {
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

    /// Checks each kept entry when it is looked up, as a file of more than [`PRE_STAT`] entries
    /// is: for the tests of that path.
    #[cfg(test)]
    pub(crate) fn check_when_looked_up(&mut self) {
        self.unchanged = None;
    }

    /// The bytes an entry read anew is kept as, or `None` when it is not kept: an unreadable
    /// one (whether it is unreadable can depend on the versions asked for, which the next run
    /// may not share), and one with a publication time UTC cannot name. Made as each entry is
    /// read, before its versions are pruned, so that the whole entries are never all in memory
    /// at once (they were 3 MiB of a cold audit's peak).
    pub(crate) fn encoded(parsed: &Parsed) -> Option<Vec<u8>> {
        if parsed.unreadable.is_none() && parsed.compilable() {
            encode_entry(parsed)
        } else {
            None
        }
    }

    /// Keeps an entry's [`Compiled::encoded`] bytes for the next run, stamped with `meta`, the
    /// metadata of the open file its text was read from (so that a path that led elsewhere
    /// while it was read, an index folder reached through a link that was switched, stamps the
    /// file actually read); not an entry modified in the last two seconds.
    pub(crate) fn keep(&mut self, relative: &str, meta: &std::fs::Metadata, bytes: Vec<u8>) {
        let (stamp, settled) = Stamp::of(meta, self.racy_after);
        if settled {
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

/// The stamp of the index entry at `relative` under `root`, if it is a regular file.
fn stamp_of(
    root: Option<&Folder>,
    relative: &str,
    racy_after: Option<std::time::SystemTime>,
) -> Option<Stamp> {
    let (stamp, _) = root?.stamp_of(relative, racy_after)?;
    (stamp.kind == Stamp::FILE).then_some(stamp)
}

/// Where each entry of the compiled `file` is, if it is one this version wrote for `key`: its
/// paths in order, each once, at most [`MAX_ENTRIES`].
fn index(file: &[u8], key: &[u8; 32]) -> Option<HashMap<String, (Stamp, Range<usize>)>> {
    let payload = crate::compiled::unframe(file, FORMAT, key)?;
    let (payload, rest) = postcard::take_from_bytes::<Payload>(payload).ok()?;
    if !rest.is_empty() || payload.entries.len() > MAX_ENTRIES {
        return None;
    }
    let base = file.as_ptr() as usize;
    let mut kept = HashMap::with_capacity(payload.entries.len());
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

/// An entry as kept: its [`Parsed`], the versions written newest first (each with its place in
/// the entry, ties by place, later first) as a byte string of their own, so that a run reads
/// only the newest versions down to the ones it keeps and stops there.
#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    listed: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    unreadable: Option<Cow<'a, str>>,
    /// `(place, version)` pairs, one after another.
    #[serde(with = "raw")]
    versions: &'a [u8],
}

/// The bytes an entry is kept as, or `None` when they would be too large.
fn encode_entry(parsed: &Parsed) -> Option<Vec<u8>> {
    let mut order: Vec<(u32, &IndexVersion)> = parsed
        .versions
        .iter()
        .enumerate()
        .map(|(at, v)| u32::try_from(at).ok().map(|at| (at, v)))
        .collect::<Option<_>>()?;
    order.sort_by(|(a_at, a), (b_at, b)| b.version.cmp(&a.version).then(b_at.cmp(a_at)));
    let mut versions = Vec::new();
    for pair in order {
        versions.extend(crate::compiled::encode(&pair)?);
    }
    crate::compiled::encode(&Entry {
        listed: parsed
            .listed
            .iter()
            .map(|l| Cow::Borrowed(l.as_str()))
            .collect(),
        unreadable: parsed.unreadable.as_deref().map(Cow::Borrowed),
        versions: &versions,
    })
}

/// A kept entry's bytes as a [`Parsed`] with only the versions `keep` keeps, or `None` when
/// they are not one. The versions are read newest first: every one at or above the lowest
/// wanted version, then the first below it that is a release existing at the evaluation time
/// (the newest, of equal versions the later: what `facts::newest` would name), and no further.
/// Equal to [`Keep::prune`] of the whole entry (`kept_entries_read_back_*`).
fn decode_entry(bytes: &[u8], keep: &Keep) -> Option<Parsed> {
    let (entry, rest) = postcard::take_from_bytes::<Entry>(bytes).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut kept: Vec<(u32, IndexVersion)> = Vec::new();
    let mut rest = entry.versions;
    let mut previous: Option<(u32, RawVersion)> = None;
    while !rest.is_empty() {
        let ((at, version), after) = postcard::take_from_bytes::<(u32, RawVersion)>(rest).ok()?;
        rest = after;
        // Newest first, as written: anything else is not an entry this version wrote.
        if let Some((last_at, last)) = &previous
            && last.cmp_raw(&version).then(last_at.cmp(&at)) != Ordering::Greater
        {
            return None;
        }
        let below = keep
            .lowest()
            .is_some_and(|lowest| version.cmp_version(lowest) == Ordering::Less);
        if !below {
            previous = Some((at, version.clone()));
            kept.push((at, version.cook()?));
        } else if version.release_at(keep.now())? {
            kept.push((at, version.cook()?));
            break;
        } else {
            previous = Some((at, version));
        }
    }
    kept.sort_unstable_by_key(|(at, _)| *at);
    Some(Parsed {
        listed: entry.listed.into_iter().map(Cow::into_owned).collect(),
        unreadable: entry.unreadable.map(Cow::into_owned),
        versions: kept.into_iter().map(|(_, v)| v).collect(),
    })
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
    let everything = Keep::new([], OffsetDateTime::UNIX_EPOCH);
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
            let bytes = encode_entry(&parsed).unwrap();
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

    #[test]
    fn of_equal_versions_below_the_lowest_wanted_the_later_is_kept_as_newest_names_it() {
        let at = |day: u8| Some(OffsetDateTime::UNIX_EPOCH + time::Duration::days(i64::from(day)));
        let version = |text: &str, yanked: bool, pubtime| IndexVersion {
            version: semver::Version::parse(text).unwrap(),
            yanked,
            pubtime,
            requires: None,
        };
        let parsed = Parsed {
            listed: vec!["mid".to_owned()],
            unreadable: None,
            versions: vec![
                version("1.0.0", false, at(1)),
                version("1.0.0", false, at(2)),
                version("1.0.0", true, at(3)),
                version("1.1.0", false, at(9)),
                version("2.0.0", false, at(4)),
                version("0.9.0", false, at(5)),
            ],
        };
        let now = datetime!(2026-09-01 0:00 UTC);
        let wanted = semver::Version::new(2, 0, 0);
        let keep = Keep::new([&wanted], now);
        let pruned = keep.prune(parsed.versions.clone());
        let kept: Vec<_> = pruned
            .iter()
            .map(|v| (v.version.to_string(), v.pubtime))
            .collect();
        assert_eq!(
            kept,
            [("1.1.0".to_owned(), at(9)), ("2.0.0".to_owned(), at(4))]
        );
        let decoded = decode_entry(&encode_entry(&parsed).unwrap(), &keep).unwrap();
        assert_eq!(decoded.versions, pruned);
        // Without 1.1.0, the newest below is 1.0.0: the later of the two releases.
        let mut older = parsed.clone();
        older.versions.remove(3);
        let pruned = keep.prune(older.versions.clone());
        assert_eq!(pruned[0].pubtime, at(2));
        let decoded = decode_entry(&encode_entry(&older).unwrap(), &keep).unwrap();
        assert_eq!(decoded.versions, pruned);
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
        let entry = encode_entry(&Parsed::default()).unwrap();
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
