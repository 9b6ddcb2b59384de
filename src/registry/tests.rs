//! Tests of the registry sources, look-ups and compiled facts.

use super::*;

/// The evaluation time of these tests.
const NOW: OffsetDateTime = time::macros::datetime!(2026-09-01 0:00 UTC);

#[cfg(unix)]
#[test]
fn an_index_entry_that_is_a_link_or_a_device_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("re/ge")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("re/ge/regex")).unwrap();
    let folder = DirIndex {
        root: dir.path().to_path_buf(),
    };
    let cache = CargoCache {
        root: dir.path().to_path_buf(),
    };
    for source in [&folder as &dyn IndexSource, &cache] {
        let error = source.entry("regex").unwrap_err().to_string();
        assert!(
            error.contains("a symbolic link, not a regular file"),
            "{error}"
        );
        // A name that is no index path is never looked up, whichever source.
        assert!(source.entry("../../../../dev/zero").unwrap().is_none());
    }
}

#[test]
fn a_hostile_crate_name_cannot_place_a_cache_entry_outside_the_cache_folder() {
    let top = tempfile::tempdir().unwrap();
    let cache = top.path().join("cache");
    let options = crate::net::HttpOptions::new(false, std::time::Duration::from_secs(2));
    let http = crate::net::Http::new(options).unwrap();
    // Nothing listens there: a request would be an error, not `None`.
    let index = HttpIndex {
        base: "http://127.0.0.1:9/".to_owned(),
        http: &http,
        cache: Some(cache.clone()),
    };
    let hostile = [
        "../../escape",
        "..",
        "a/../../b",
        "/etc/passwd",
        "é",
        "a\\..\\b",
    ];
    for name in hostile {
        assert!(index.entry(name).unwrap().is_none(), "{name}");
    }
    let v = semver::Version::new(1, 0, 0);
    let lookups = Lookups::fetch(&index, hostile.iter().map(|n| (*n, &v)), NOW, None).unwrap();
    assert!(
        lookups
            .entries
            .values()
            .all(|e| matches!(e, Entry::Unknown(why) if why.contains("not a crate name")))
    );
    let written: Vec<_> = std::fs::read_dir(top.path()).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
}

/// `mid`'s index entry: 1.0.0 depends on `a`, 1.1.0 on `b`.
const MID: &str = concat!(
    r#"{"name":"mid","vers":"1.0.0","deps":[{"name":"a","req":"^1"}]}"#,
    "\n",
    r#"{"name":"mid","vers":"1.1.0","deps":[{"name":"b","req":"^1"}]}"#,
    "\n"
);

/// An index folder whose entries were written long enough ago to be kept compiled.
fn settled_index(entries: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in entries {
        let file = dir.path().join("index").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("compiled")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    dir
}

/// A settled index folder whose one entry is `mid`'s, the folder read as an index, and the
/// folder its compiled facts are kept in.
fn settled_mid(entry: &str) -> (tempfile::TempDir, DirIndex, PathBuf) {
    let dir = settled_index(&[("3/m/mid", entry)]);
    let index = DirIndex {
        root: dir.path().join("index"),
    };
    let folder = dir.path().join("compiled");
    (dir, index, folder)
}

fn requires_of(lookups: &Lookups, name: &str, version: &str) -> Option<Vec<String>> {
    let version = semver::Version::parse(version).unwrap();
    lookups
        .all_versions(name)?
        .iter()
        .find(|v| v.version == version)?
        .requires
        .as_ref()
        .map(|r| r.iter().map(|r| r.name.clone()).collect())
}

#[test]
fn compiled_entries_are_used_only_unchanged_and_with_the_dependencies_asked_for() {
    let entry = MID;
    let (dir, index, folder) = settled_mid(entry);
    let v1_0 = semver::Version::new(1, 0, 0);
    let v1_1 = semver::Version::new(1, 1, 0);
    let cold = Lookups::fetch(&index, [("mid", &v1_0)], NOW, Some(&folder)).unwrap();
    assert_eq!(requires_of(&cold, "mid", "1.0.0").unwrap(), ["a"]);
    assert_eq!(requires_of(&cold, "mid", "1.1.0"), None, "not asked for");
    let kept: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "the settled entry is kept");
    let written = std::fs::metadata(&kept[0]).unwrap().modified().unwrap();
    let file = dir.path().join("index/3/m/mid");
    // The kept entry answers, and nothing is written again.
    let warm = Lookups::fetch(&index, [("mid", &v1_0)], NOW, Some(&folder)).unwrap();
    assert_eq!(requires_of(&warm, "mid", "1.0.0").unwrap(), ["a"]);
    let now = std::fs::metadata(&kept[0]).unwrap().modified().unwrap();
    assert_eq!(now, written, "the compiled file was written again");
    // Another locked version needs dependencies the kept entry lacks: the file is read.
    let other = Lookups::fetch(&index, [("mid", &v1_1)], NOW, Some(&folder)).unwrap();
    assert_eq!(requires_of(&other, "mid", "1.1.0").unwrap(), ["b"]);
    // An entry edited (the same size) is read again, not taken from the compiled file.
    std::fs::write(&file, entry.replace(r#""name":"a""#, r#""name":"c""#)).unwrap();
    let edited = Lookups::fetch(&index, [("mid", &v1_0)], NOW, Some(&folder)).unwrap();
    assert_eq!(requires_of(&edited, "mid", "1.0.0").unwrap(), ["c"]);
    // An entry removed is no entry, whatever was kept.
    std::fs::remove_file(&file).unwrap();
    let removed = Lookups::fetch(&index, [("mid", &v1_0)], NOW, Some(&folder)).unwrap();
    assert!(matches!(removed.entries["mid"], Entry::Unknown(_)));
}

#[test]
fn an_entry_unreadable_for_one_locked_version_is_not_kept_for_another() {
    let entry = concat!(
        r#"{"name":"mid","vers":"1.0.0","deps":"bad"}"#,
        "\n",
        r#"{"name":"mid","vers":"2.0.0","yanked":true}"#,
        "\n"
    );
    let (_dir, index, folder) = settled_mid(entry);
    let (v1, v2) = (semver::Version::new(1, 0, 0), semver::Version::new(2, 0, 0));
    let first = Lookups::fetch(&index, [("mid", &v1)], NOW, Some(&folder)).unwrap();
    assert!(matches!(&first.entries["mid"], Entry::Unknown(why) if why.contains("unreadable")));
    let fresh = Lookups::fetch(&index, [("mid", &v2)], NOW, None).unwrap();
    let warm = Lookups::fetch(&index, [("mid", &v2)], NOW, Some(&folder)).unwrap();
    assert_eq!(
        format!("{:?}", warm.entries),
        format!("{:?}", fresh.entries)
    );
    assert!(warm.all_versions("mid").unwrap()[1].yanked);
}

#[test]
fn a_publication_time_past_the_year_9999_in_utc_is_read_but_never_kept() {
    // In range with its offset, in the year 10000 in UTC: keeping it once panicked.
    let entry = concat!(
        r#"{"name":"far","vers":"1.0.0","deps":[],"pubtime":"2020-01-01T00:00:00Z"}"#,
        "\n",
        r#"{"name":"far","vers":"99.0.0","deps":[],"pubtime":"9999-12-31T23:59:59-23:59"}"#,
        "\n"
    );
    let near = concat!(
        r#"{"name":"near","vers":"1.0.0","deps":[],"pubtime":"2020-01-01T00:00:00Z"}"#,
        "\n"
    );
    let dir = settled_index(&[("3/f/far", entry), ("ne/ar/near", near)]);
    let index = DirIndex {
        root: dir.path().join("index"),
    };
    let folder = dir.path().join("compiled");
    let v1 = semver::Version::new(1, 0, 0);
    let wanted = [("far", &v1), ("near", &v1)];
    let fresh = Lookups::fetch(&index, wanted, NOW, None).unwrap();
    for _ in 0..2 {
        let run = Lookups::fetch(&index, wanted, NOW, Some(&folder)).unwrap();
        assert_eq!(format!("{:?}", run.entries), format!("{:?}", fresh.entries));
        assert_eq!(run.all_versions("far").unwrap().len(), 2);
    }
    // The other entry is kept: one entry UTC cannot name does not stop the file being written.
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert_eq!(files.len(), 1);
}

/// An index folder that reads from one place while it names another: a link switched
/// while the run reads through it.
struct Switched {
    named: PathBuf,
    read: DirIndex,
}

impl IndexSource for Switched {
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError> {
        self.read.entry(name)
    }
    fn entry_with_metadata(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<std::fs::Metadata>)>, RegistryError> {
        self.read.entry_with_metadata(name)
    }
    fn describe(&self) -> String {
        self.read.describe()
    }
    fn local_root(&self) -> Option<(&'static str, &Path)> {
        Some(("folder", &self.named))
    }
}

#[test]
fn an_entry_is_kept_stamped_by_the_file_it_was_read_from() {
    let real = r#"{"name":"mid","vers":"1.0.0"}"#;
    let other = r#"{"name":"mid","vers":"1.0.0","yanked":true}"#;
    let dir = settled_index(&[("3/m/mid", real)]);
    let elsewhere = settled_index(&[("3/m/mid", other)]);
    let folder = dir.path().join("compiled");
    let v = semver::Version::new(1, 0, 0);
    let switched = Switched {
        named: dir.path().join("index"),
        read: DirIndex {
            root: elsewhere.path().join("index"),
        },
    };
    let read = Lookups::fetch(&switched, [("mid", &v)], NOW, Some(&folder)).unwrap();
    assert!(read.all_versions("mid").unwrap()[0].yanked);
    // The folder itself: its own entry, not the one read elsewhere under its name.
    let index = DirIndex {
        root: dir.path().join("index"),
    };
    let warm = Lookups::fetch(&index, [("mid", &v)], NOW, Some(&folder)).unwrap();
    assert!(!warm.all_versions("mid").unwrap()[0].yanked);
}

#[test]
fn cargo_cache_format_decodes() {
    let mut bytes = vec![3u8, 2, 0, 0, 0];
    bytes.extend_from_slice(b"etag\x001.0.0\x00{\"vers\":\"1.0.0\"}\x001.0.1\x00{\"vers\":\"1.0.1\",\"yanked\":true}\x00");
    let text = decode_cache(&bytes).unwrap();
    let versions = index::parse(&text).unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions[1].yanked);
}

#[test]
fn a_kept_entry_that_does_not_decode_is_read_again_and_written_anew() {
    let entry = concat!(
        r#"{"name":"mid","vers":"1.0.0","deps":[{"name":"a","req":"^1"}]}"#,
        "\n"
    );
    let (dir, index, folder) = settled_mid(entry);
    let meta = std::fs::symlink_metadata(dir.path().join("index/3/m/mid")).unwrap();
    let (stamp, _) = crate::compiled::Stamp::of(&meta, None);
    let (slot, key) = compiled::slot_file("folder", &index.root, &folder).unwrap();
    let payload = compiled::tests::payload_of(&[("3/m/mid", stamp, b"\xff\xff")]);
    std::fs::write(&slot, compiled::frame(&payload, &key)).unwrap();
    assert_eq!(
        compiled::read_bytes(&std::fs::read(&slot).unwrap(), &key),
        Some(0)
    );
    let v = semver::Version::new(1, 0, 0);
    let fresh = Lookups::fetch(&index, [("mid", &v)], NOW, None).unwrap();
    let run = Lookups::fetch(&index, [("mid", &v)], NOW, Some(&folder)).unwrap();
    assert_eq!(format!("{:?}", run.entries), format!("{:?}", fresh.entries));
    assert_eq!(requires_of(&run, "mid", "1.0.0").unwrap(), ["a"]);
    // Written again with the entry as read.
    assert_eq!(
        compiled::read_bytes(&std::fs::read(&slot).unwrap(), &key),
        Some(1)
    );
}

#[test]
fn kept_entries_are_checked_alike_when_opened_or_when_looked_up() {
    let entry = r#"{"name":"mid","vers":"1.0.0","deps":[]}"#;
    let (_dir, index, folder) = settled_mid(entry);
    let root = index.root.clone();
    let v = semver::Version::new(1, 0, 0);
    Lookups::fetch(&index, [("mid", &v)], NOW, Some(&folder)).unwrap();
    let keep = facts::Keep::new([&v], NOW);
    let look = |check_when_looked_up: bool| {
        let mut compiled = compiled::Compiled::open("folder", &root, &folder).unwrap();
        if check_when_looked_up {
            compiled.check_when_looked_up();
        }
        matches!(
            compiled.look("3/m/mid", &[&v], &keep),
            compiled::Look::Kept(_)
        )
    };
    assert!(look(false) && look(true), "kept and unchanged");
    std::fs::write(root.join("3/m/mid"), format!("{entry}\n")).unwrap();
    assert!(!look(false) && !look(true), "changed: read again");
}

/// An index folder that counts the entries it is asked for.
struct Counted {
    index: DirIndex,
    asked: std::sync::Mutex<Vec<String>>,
}

impl IndexSource for Counted {
    fn entry(&self, name: &str) -> Result<Option<String>, RegistryError> {
        self.asked.lock().unwrap().push(name.to_owned());
        self.index.entry(name)
    }
    fn entry_with_metadata(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<std::fs::Metadata>)>, RegistryError> {
        self.asked.lock().unwrap().push(name.to_owned());
        self.index.entry_with_metadata(name)
    }
    fn describe(&self) -> String {
        self.index.describe()
    }
    fn local_root(&self) -> Option<(&'static str, &Path)> {
        self.index.local_root()
    }
}

#[test]
fn names_that_share_an_entry_ask_for_it_once_and_each_get_their_own_answer() {
    let entry = MID;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("3/m/mid");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, entry).unwrap();
    let index = Counted {
        index: DirIndex {
            root: dir.path().to_path_buf(),
        },
        asked: Default::default(),
    };
    let v1_0 = semver::Version::new(1, 0, 0);
    let v1_1 = semver::Version::new(1, 1, 0);
    let lookups = Lookups::fetch(
        &index,
        [
            ("mid", &v1_0),
            ("MID", &v1_1),
            ("nowhere", &v1_0),
            ("not/a/name", &v1_0),
            ("mid", &v1_1),
        ],
        NOW,
        None,
    )
    .unwrap();
    // One read of the shared entry, asked by the first name in order ("MID" sorts first).
    let mut asked = index.asked.into_inner().unwrap();
    asked.sort();
    assert_eq!(asked, ["MID", "nowhere"]);
    // The entry's own name: both locked versions' dependencies, whichever name asked for them.
    assert_eq!(requires_of(&lookups, "mid", "1.0.0").unwrap(), ["a"]);
    assert_eq!(requires_of(&lookups, "mid", "1.1.0").unwrap(), ["b"]);
    match &lookups.entries["MID"] {
        Entry::Unknown(why) => assert!(why.contains(r#"as "mid", not "MID""#), "{why}"),
        Entry::Known(_) => panic!("a name the entry does not list is not known"),
    }
    match &lookups.entries["nowhere"] {
        Entry::Unknown(why) => assert!(why.contains("has no entry"), "{why}"),
        Entry::Known(_) => panic!("no entry"),
    }
    match &lookups.entries["not/a/name"] {
        Entry::Unknown(why) => assert!(why.contains("not a crate name"), "{why}"),
        Entry::Known(_) => panic!("not a name"),
    }
    assert_eq!(lookups.entries.len(), 4);
}
