//! The crates.io sparse index format: one JSON object per published version, one file per
//! crate at `1/a`, `2/ab`, `3/a/abc` or `ab/cd/abcd...`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One published version, as the index records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexVersion {
    #[serde(with = "super::wire::version_parts")]
    pub version: semver::Version,
    pub yanked: bool,
    /// When it was published; the index has recorded this since 2025 (older caches lack it).
    #[serde(with = "super::wire::pubtime")]
    pub pubtime: Option<OffsetDateTime>,
    /// The packages this version always depends on: every dependency that is not optional and
    /// not a dev-dependency, for every target. Sorted by name, without repeats. Read only for
    /// the versions asked for (the locked ones: reading every version's dependencies was most
    /// of an offline audit's time); `None` for the others.
    pub requires: Option<Vec<Required>>,
}

/// A dependency a published version always needs, as the index lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Required {
    /// The real name (the index's `package` when the dependency is renamed).
    pub name: String,
    /// The version requirement as the index writes it (`^1.6`).
    pub req_text: String,
    /// The requirement, or `None` when the index's text is not one semver can read (then no
    /// locked version can be shown to meet it).
    pub req: Option<semver::VersionReq>,
    /// The index URL of the registry it comes from; `None` is the index's own registry.
    pub registry: Option<String>,
}

/// What every line is read for; its dependencies (most of its bytes) are skipped unread.
#[derive(Deserialize)]
struct Head<'a> {
    /// The crate's name exactly as the registry spells it.
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    vers: Cow<'a, str>,
    #[serde(default)]
    yanked: bool,
    #[serde(default, borrow)]
    pubtime: Option<Cow<'a, str>>,
}

/// The dependencies of a line whose version was asked for.
#[derive(Deserialize)]
struct Deps {
    #[serde(default)]
    deps: Vec<Dep>,
}

/// One dependency as the index lists it; the fields this tool does not use are ignored.
#[derive(Deserialize)]
struct Dep {
    name: String,
    #[serde(default)]
    optional: bool,
    /// `normal`, `build` or `dev`; absent means normal.
    kind: Option<String>,
    /// The real package name when the dependency is renamed.
    package: Option<String>,
    /// The version requirement; absent only in malformed entries (then read as unreadable).
    #[serde(default)]
    req: String,
    /// The index URL of another registry the dependency comes from.
    registry: Option<String>,
}

/// The dependencies that every build of this version needs, by their real names.
fn required(deps: Vec<Dep>) -> Vec<Required> {
    let mut out: Vec<Required> = deps
        .into_iter()
        .filter(|d| !d.optional && d.kind.as_deref() != Some("dev"))
        .map(|d| Required {
            name: d.package.unwrap_or(d.name),
            req: semver::VersionReq::parse(&d.req).ok(),
            req_text: d.req,
            registry: d.registry,
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.name, &a.req_text, &a.registry).cmp(&(&b.name, &b.req_text, &b.registry))
    });
    out.dedup();
    out
}

/// The longest crate name a registry accepts (crates.io's limit; cargo's for publishing).
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a crate name a registry index can hold: ASCII letters, digits, `-` and
/// `_`, at most [`MAX_NAME_LEN`] long. Anything else (a `/`, `..`, non-ASCII) would not be a
/// path inside the index.
pub fn is_index_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The index path of a crate name, or `None` when it is not a name an index can hold.
pub fn path_of(name: &str) -> Option<String> {
    if !is_index_name(name) {
        return None;
    }
    let name = name.to_ascii_lowercase();
    // Written piece by piece: `format!` here was a fiftieth of a warm offline audit's
    // instructions (three calls per locked name).
    let mut path = String::with_capacity(name.len() + 6);
    match name.len() {
        1 => path.push_str("1/"),
        2 => path.push_str("2/"),
        3 => {
            path.push_str("3/");
            path.push_str(name.get(..1)?);
            path.push('/');
        }
        _ => {
            path.push_str(name.get(..2)?);
            path.push('/');
            path.push_str(name.get(2..4)?);
            path.push('/');
        }
    }
    path.push_str(&name);
    Some(path)
}

/// An index file read: the names its lines give the crate (each once, in the order they first
/// appear), the first line that is not an index entry, and the versions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub listed: Vec<String>,
    pub unreadable: Option<String>,
    pub versions: Vec<IndexVersion>,
}

impl Parsed {
    /// The versions of the locked name `name`, or why the index does not know a package of
    /// exactly that name. The index path is lowercase, so the file of `smallvec` answers for
    /// `SmallVec` too; a line naming the crate otherwise (case, `-` or `_`) means the registry
    /// serves no package spelled `name`, wherever that line is; else a line that is not JSON
    /// makes the entry unreadable.
    pub fn for_name(self, name: &str) -> Result<Vec<IndexVersion>, String> {
        if let Some(listed) = self.listed.iter().find(|listed| *listed != name) {
            let listed: String = listed.chars().take(MAX_NAME_LEN + 1).collect();
            return Err(format!(
                "the registry index lists this crate as {listed:?}, not {name:?}: the registry \
                 serves no package of this exact name (names differing only in case, `-` or `_` \
                 are one crate to crates.io)"
            ));
        }
        match self.unreadable {
            Some(message) => Err(format!("index entry unreadable: {message}")),
            None => Ok(self.versions),
        }
    }

    /// Whether the entry can be kept in the compiled facts: every publication time is one UTC
    /// can name (an index line may give a time whose offset carries it past the year 9999).
    pub fn compilable(&self) -> bool {
        self.versions.iter().all(|v| {
            v.pubtime
                .is_none_or(|t| t.checked_to_offset(time::UtcOffset::UTC).is_some())
        })
    }

    /// Whether the dependencies of every version in `wanted` that the entry lists were read.
    pub fn has_requires_of<'v>(
        &self,
        mut wanted: impl Iterator<Item = &'v semver::Version>,
    ) -> bool {
        wanted.all(|w| {
            self.versions
                .iter()
                .all(|v| v.version != *w || v.requires.is_some())
        })
    }
}

/// Reads an index file, each line once, the dependencies only of the versions `wanted` says
/// yes to.
pub fn parse_entry(text: &str, wanted: impl Fn(&semver::Version) -> bool) -> Parsed {
    let mut parsed = Parsed::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let head = match serde_json::from_str::<Head>(line) {
            Ok(head) => head,
            Err(e) => {
                parsed
                    .unreadable
                    .get_or_insert_with(|| not_an_entry(number, &e));
                continue;
            }
        };
        if let Some(listed) = head.name.as_deref()
            && !parsed.listed.iter().any(|known| known == listed)
        {
            parsed.listed.push(listed.to_owned());
        }
        if parsed.unreadable.is_some() {
            continue;
        }
        let Ok(version) = semver::Version::parse(&head.vers) else {
            continue;
        };
        let requires = if wanted(&version) {
            match serde_json::from_str::<Deps>(line) {
                Ok(deps) => Some(required(deps.deps)),
                Err(e) => {
                    parsed.unreadable = Some(not_an_entry(number, &e));
                    continue;
                }
            }
        } else {
            None
        };
        parsed.versions.push(IndexVersion {
            version,
            yanked: head.yanked,
            pubtime: head
                .pubtime
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()),
            requires,
        });
    }
    parsed
}

/// Parses the index file found for the locked name `name`, every version's dependencies read:
/// its versions, or why the index does not know a package of exactly that name.
pub fn parse_named(text: &str, name: &str) -> Result<Vec<IndexVersion>, String> {
    parse_entry(text, |_| true).for_name(name)
}

/// Parses an index file, every version's dependencies read. Lines that are not versions this
/// tool understands (a version that is not semver) are skipped; a line that is not JSON is an
/// error naming its number.
pub fn parse(text: &str) -> Result<Vec<IndexVersion>, String> {
    let parsed = parse_entry(text, |_| true);
    match parsed.unreadable {
        Some(message) => Err(message),
        None => Ok(parsed.versions),
    }
}

fn not_an_entry(number: usize, error: &serde_json::Error) -> String {
    format!("line {}: not an index entry: {error}", number + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_index_layout() {
        assert_eq!(path_of("a").unwrap(), "1/a");
        assert_eq!(path_of("cc").unwrap(), "2/cc");
        assert_eq!(path_of("Syn").unwrap(), "3/s/syn");
        assert_eq!(path_of("regex").unwrap(), "re/ge/regex");
    }

    #[test]
    fn a_crate_name_cannot_leave_the_index_folder_or_panic() {
        for name in [
            "../../../../dev/zero",
            "a/b",
            "..",
            "é",
            "aé",
            "ééé",
            "",
            "a b",
            &"a".repeat(65),
        ] {
            assert_eq!(path_of(name), None, "{name:?}");
        }
        assert!(path_of(&"a".repeat(64)).is_some());
    }

    #[test]
    fn an_entry_that_spells_the_crate_otherwise_is_no_entry_for_it() {
        let text = "{\"name\":\"smallvec\",\"vers\":\"1.6.0\"}\n";
        assert_eq!(parse_named(text, "smallvec").unwrap().len(), 1);
        for other in ["SmallVec", "small-vec", "small_vec"] {
            let why = parse_named(text, other).unwrap_err();
            assert!(why.contains("lists this crate as \"smallvec\""), "{why}");
        }
        assert!(parse_named("not json", "x").unwrap_err().contains("line 1"));
    }

    #[test]
    fn lines_parse_with_pubtime_and_yanked() {
        let text = "{\"name\":\"x\",\"vers\":\"1.0.0\",\"yanked\":false,\"pubtime\":\"2021-05-06T21:34:36Z\"}\n{\"name\":\"x\",\"vers\":\"1.0.1\",\"yanked\":true}\n";
        let versions = parse(text).unwrap();
        assert_eq!(versions.len(), 2);
        assert!(versions[1].yanked);
        assert!(versions[1].pubtime.is_none());
        assert_eq!(versions[0].pubtime.unwrap().year(), 2021);
        assert!(parse("not json").unwrap_err().starts_with("line 1"));
    }

    #[test]
    fn required_dependencies_are_the_non_optional_non_dev_ones_by_real_name() {
        let text = concat!(
            r#"{"name":"mid","vers":"1.0.0","deps":["#,
            r#"{"name":"smallvec","req":"^1.6","optional":false,"kind":"normal"},"#,
            r#"{"name":"cc","req":"^1","kind":"build"},"#,
            r#"{"name":"libc","req":"^0.2","target":"cfg(unix)"},"#,
            r#"{"name":"sv","req":"^1","package":"smallvec"},"#,
            r#"{"name":"serde","req":"^1","optional":true},"#,
            r#"{"name":"proptest","req":"^1","kind":"dev"}]}"#,
        );
        let versions = parse(text).unwrap();
        let names: Vec<&str> = versions[0]
            .requires
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["cc", "libc", "smallvec", "smallvec"]);
        let smallvec = &versions[0].requires.as_ref().unwrap()[2..];
        assert_eq!(smallvec[0].req_text, "^1");
        assert_eq!(
            smallvec[1].req,
            Some(semver::VersionReq::parse("^1.6").unwrap())
        );
    }

    proptest::proptest! {
        /// Any text parses or is refused, never a panic; and of any list of dependencies, the
        /// required ones are exactly those neither optional nor dev, by their real names.
        #[test]
        fn index_lines_never_panic_and_required_follows_the_flags(
            text in "[ -~\n]{0,200}",
            deps in proptest::collection::vec(
                (
                    "[a-z]{1,4}",
                    proptest::bool::ANY,
                    proptest::sample::select(vec![None, Some("normal"), Some("build"), Some("dev")]),
                    proptest::option::of("[a-z]{1,4}"),
                ),
                0..8,
            ),
        ) {
            let _ = parse(&text);
            let listed: Vec<serde_json::Value> = deps
                .iter()
                .map(|(name, optional, kind, package)| {
                    serde_json::json!({"name": name, "req": "^1", "optional": optional, "kind": kind, "package": package})
                })
                .collect();
            let line = serde_json::json!({"name": "x", "vers": "1.0.0", "deps": listed}).to_string();
            let parsed = parse(&line).map_err(proptest::test_runner::TestCaseError::fail)?;
            let mut names: Vec<String> = parsed[0].requires.iter().flatten().map(|r| r.name.clone()).collect();
            names.dedup();
            let mut expected: Vec<String> = deps
                .iter()
                .filter(|(_, optional, kind, _)| !optional && *kind != Some("dev"))
                .map(|(name, _, _, package)| package.clone().unwrap_or_else(|| name.clone()))
                .collect();
            expected.sort();
            expected.dedup();
            proptest::prop_assert_eq!(&names, &expected);
        }
    }
}
