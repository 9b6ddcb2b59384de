//! `Cargo.lock` as cargo writes it, read line by line, with the full TOML parser as the
//! fallback for anything else.
//!
//! Why by hand: `toml::from_str` lexes the whole text into tokens, then into events, then into
//! a table of spanned values before serde sees a field; for nushell's 1,035-package lockfile
//! (269 kB) that was 14% of a warm offline audit's CPU time (perf) and 3 MiB of its peak heap
//! (heaptrack: 1.8 MiB of tokens, 1.3 MiB of events); this reader takes 600 fewer page faults
//! and 1.5 MiB less peak memory. Cargo writes a lockfile in a few line shapes, always the
//! same; this reader takes those shapes and nothing else.
//!
//! It never reads a text differently from the TOML parser, because it reads only texts whose
//! every line is one of these, which TOML can read only one way:
//!
//! - an empty line, or a comment (`#` then no control character but tab);
//! - before any table, `version = N` (decimal digits, no leading zero, fits `u32`);
//! - `[[package]]`;
//! - in a package, `name`, `version`, `source` or `checksum` `= "S"`, each at most once, where
//!   `S` has no `"`, no `\` and no control character; `dependencies = [`, then lines
//!   ` "S",`, then `]`.
//!
//! Any other line (another key or table, a CR, an escape, a tab outside a comment, a trailing
//! comment, a key written twice, a package without its name or version, an unclosed list)
//! makes it give up, and the caller parses the text with `toml`, which reads it or says what is
//! wrong. The
//! property tests below hold the two readers to the same answer (an independent review also ran
//! every Unicode scalar value in each place and some millions of random and edited lockfiles
//! through both, with no disagreement); the `lockfile` fuzz target reaches both readers but does
//! not compare them.

use std::collections::BTreeMap;

use super::{RawLockfile, RawPackage};

/// A package as its lines are read.
#[derive(Default)]
struct Building {
    name: Option<toml::Spanned<String>>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Option<Vec<String>>,
}

impl Building {
    fn finish(self) -> Option<RawPackage> {
        Some(RawPackage {
            name: self.name?,
            version: self.version?,
            source: self.source,
            checksum: self.checksum,
            dependencies: self.dependencies.unwrap_or_default(),
        })
    }
}

/// Where the reader is.
enum State {
    /// Before the first table.
    Top,
    /// In a `[[package]]` table.
    Package,
    /// In a package's `dependencies = [` list.
    Dependencies,
}

/// The lockfile `text`, if every line of it is one cargo writes; else `None` (parse it with
/// `toml`).
pub(super) fn parse(text: &str) -> Option<RawLockfile> {
    if text.contains('\r') {
        return None;
    }
    let mut version: Option<u32> = None;
    let mut packages: Vec<RawPackage> = Vec::new();
    let mut current: Option<Building> = None;
    let mut state = State::Top;
    let mut at = 0usize;
    for line in lines(text) {
        let start = at;
        at += line.len() + 1;
        if let State::Dependencies = state {
            let building = current.as_mut()?;
            if line == "]" {
                state = State::Package;
            } else {
                let text = line.strip_prefix(" \"")?.strip_suffix("\",")?;
                plain(text)?;
                building
                    .dependencies
                    .get_or_insert_with(Vec::new)
                    .push(text.to_owned());
            }
            continue;
        }
        if line.is_empty() || comment(line) {
            continue;
        }
        if line == "[[package]]" {
            if let Some(done) = current.take() {
                packages.push(done.finish()?);
            }
            current = Some(Building::default());
            state = State::Package;
            continue;
        }
        let (key, value) = split_key(line)?;
        match state {
            State::Top if key == "version" && version.is_none() => {
                version = Some(integer(value)?);
            }
            State::Package => {
                let building = current.as_mut()?;
                if key == "dependencies" {
                    if value != "[" || building.dependencies.is_some() {
                        return None;
                    }
                    building.dependencies = Some(Vec::new());
                    state = State::Dependencies;
                    continue;
                }
                let string = value.strip_prefix('"')?.strip_suffix('"')?;
                plain(string)?;
                let slot = match key {
                    "version" => &mut building.version,
                    "source" => &mut building.source,
                    "checksum" => &mut building.checksum,
                    "name" => {
                        if building.name.is_some() {
                            return None;
                        }
                        let from = start + key.len() + " = ".len();
                        let span = from..from + value.len();
                        building.name = Some(toml::Spanned::new(span, string.to_owned()));
                        continue;
                    }
                    _ => return None,
                };
                if slot.is_some() {
                    return None;
                }
                *slot = Some(string.to_owned());
            }
            _ => return None,
        }
    }
    if let State::Dependencies = state {
        return None;
    }
    if let Some(done) = current {
        packages.push(done.finish()?);
    }
    Some(RawLockfile {
        version,
        package: packages,
        root: None,
        metadata: BTreeMap::new(),
    })
}

/// The lines of `text`, as `text.split('\n')` gives them (the last one after the last
/// newline, empty or not), each found with `memchr`: `split`'s searcher, set up per line, was
/// a fifth of this reader's instructions (15,848 lines for nushell's lockfile).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b'\n', current.as_bytes()) {
            Some(at) => {
                // A newline is one byte: both sides of it are character boundaries.
                let (line, after) = current.split_at(at);
                rest = after.get(1..);
                Some(line)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// A comment TOML reads as one: `#`, then no control character but tab.
fn comment(line: &str) -> bool {
    line.strip_prefix('#')
        .is_some_and(|rest| !rest.chars().any(|c| c != '\t' && c.is_control()))
}

/// The text before and after the first ` = ` of `line`: `split_once(" = ")` without setting up
/// a substring search per line (a fifth of this reader's instructions).
fn split_key(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    loop {
        let equals = from + bytes.get(from..)?.iter().position(|b| *b == b'=')?;
        if equals > 0
            && bytes.get(equals - 1) == Some(&b' ')
            && bytes.get(equals + 1) == Some(&b' ')
        {
            return Some((line.get(..equals - 1)?, line.get(equals + 2..)?));
        }
        from = equals + 1;
    }
}

/// The text of a basic string that needs no unescaping: no quote, no backslash, no control
/// character. Read as bytes: a control character is U+0000 to U+001F, U+007F, or U+0080 to
/// U+009F (UTF-8 `C2 80` to `C2 9F`), and no other character's encoding holds those bytes.
fn plain(text: &str) -> Option<()> {
    let bytes = text.as_bytes();
    let control = |at: usize, b: u8| {
        b < 0x20
            || b == 0x7f
            || (b == 0xc2
                && bytes
                    .get(at + 1)
                    .is_some_and(|next| (0x80..=0x9f).contains(next)))
    };
    (!bytes
        .iter()
        .enumerate()
        .any(|(at, &b)| b == b'"' || b == b'\\' || control(at, b)))
    .then_some(())
}

/// A decimal integer as TOML writes one without sign or underscores, if it fits a `u32`.
fn integer(text: &str) -> Option<u32> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if !digits || leading_zero {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The byte-level helpers say what their `str` forms say, for any text (the control
        /// characters, their neighbours, and any other character alike).
        #[test]
        fn byte_level_helpers_agree_with_their_str_forms(
            text in proptest::collection::vec(
                prop_oneof![
                    proptest::char::range('\u{0}', '\u{a0}'),
                    Just('='),
                    Just(' '),
                    Just('\n'),
                    proptest::char::any(),
                ],
                0..24,
            ).prop_map(|chars| chars.into_iter().collect::<String>()),
        ) {
            prop_assert_eq!(split_key(&text), text.split_once(" = "));
            prop_assert_eq!(lines(&text).collect::<Vec<_>>(), text.split('\n').collect::<Vec<_>>());
            let by_chars = !text.chars().any(|c| c == '"' || c == '\\' || c.is_control());
            prop_assert_eq!(plain(&text).is_some(), by_chars);
        }
    }

    /// What `toml` reads, with each name's line (the only use of its span).
    fn slow(text: &str) -> Option<RawLockfile> {
        toml::from_str(text).ok()
    }

    fn line_of(text: &str, offset: usize) -> usize {
        text[..offset].matches('\n').count() + 1
    }

    /// The two readings are the same, field by field, names on the same line.
    fn same(text: &str, fast: &RawLockfile, slow: &RawLockfile) -> Result<(), String> {
        let shape = |raw: &RawLockfile| {
            (
                raw.version,
                raw.root.is_some(),
                raw.metadata.len(),
                raw.package
                    .iter()
                    .map(|p| {
                        (
                            p.name.get_ref().clone(),
                            line_of(text, p.name.span().start),
                            p.version.clone(),
                            p.source.clone(),
                            p.checksum.clone(),
                            p.dependencies.clone(),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let (a, b) = (shape(fast), shape(slow));
        if a == b {
            Ok(())
        } else {
            Err(format!("fast {a:?}\nslow {b:?}"))
        }
    }

    const CANONICAL: &str = "# This file is automatically @generated by Cargo.\n\
# It is not intended for manual editing.\n\
version = 4\n\
\n\
[[package]]\n\
name = \"app\"\n\
version = \"0.1.0\"\n\
dependencies = [\n \"dup 1.0.0\",\n \"serde\",\n]\n\
\n\
[[package]]\n\
name = \"dup\"\n\
version = \"1.0.0\"\n\
source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
checksum = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";

    #[test]
    fn cargos_own_lines_are_read_as_toml_reads_them() {
        let fast = parse(CANONICAL).unwrap();
        same(CANONICAL, &fast, &slow(CANONICAL).unwrap()).unwrap();
        assert_eq!(fast.version, Some(4));
        assert_eq!(fast.package.len(), 2);
        assert_eq!(fast.package[0].dependencies, ["dup 1.0.0", "serde"]);
    }

    #[test]
    fn a_real_lockfile_is_read_here_as_toml_reads_it() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
        let fast = parse(&text).expect("cargo's own lockfile takes the fast path");
        same(&text, &fast, &slow(&text).unwrap()).unwrap();
    }

    #[test]
    fn anything_else_goes_to_toml() {
        for (what, from, to) in [
            ("a CR", "version = 4\n", "version = 4\r\n"),
            ("an escape", "\"app\"", "\"a\\u0070p\""),
            ("a literal string", "\"app\"", "'app'"),
            ("a tab", "name = \"app\"", "name =\t\"app\""),
            ("a trailing comment", "\"app\"\n", "\"app\" # x\n"),
            (
                "a key twice",
                "version = \"0.1.0\"\n",
                "version = \"0.1.0\"\nversion = \"2\"\n",
            ),
            (
                "a name twice",
                "name = \"dup\"\n",
                "name = \"dup\"\nname = \"dup\"\n",
            ),
            ("another key", "source =", "replace ="),
            (
                "another table",
                "[[package]]\nname = \"dup\"",
                "[metadata]\nname = \"dup\"",
            ),
            ("a leading zero", "version = 4", "version = 04"),
            ("a sign", "version = 4", "version = +4"),
            ("too large", "version = 4", "version = 4294967296"),
            ("an indented key", "name = \"app\"", " name = \"app\""),
            (
                "a list on one line",
                "[\n \"dup 1.0.0\",\n \"serde\",\n]",
                "[\"serde\"]",
            ),
            ("an unclosed list", " \"serde\",\n]\n", " \"serde\",\n"),
            ("a missing name", "name = \"dup\"\n", ""),
            ("a control character", "# It is", "# It\u{7}is"),
        ] {
            assert!(CANONICAL.contains(from), "{what}: {from:?}");
            let text = CANONICAL.replacen(from, to, 1);
            assert!(parse(&text).is_none(), "{what}");
        }
    }

    /// A line cargo writes, or a near miss of one.
    fn line() -> impl Strategy<Value = String> {
        let string = prop::sample::select(vec![
            "a", "a b", "a 1.0.0", "1.0.0", "", "é", "a\\u0041", "a\"b", "a\tb", "a#b", "x'y",
        ]);
        let key = prop::sample::select(vec![
            "name",
            "version",
            "source",
            "checksum",
            "dependencies",
            "other",
            "\"name\"",
            "package.name",
        ]);
        prop_oneof![
            Just(String::new()),
            Just("[[package]]".to_owned()),
            Just("[[package]] ".to_owned()),
            Just("[package]".to_owned()),
            Just("[metadata]".to_owned()),
            Just("]".to_owned()),
            Just("dependencies = [".to_owned()),
            Just("dependencies = []".to_owned()),
            Just("# a comment".to_owned()),
            Just("#\u{1}".to_owned()),
            Just("version = 3".to_owned()),
            Just("version = 0".to_owned()),
            Just("version = 007".to_owned()),
            Just("version = 99999999999".to_owned()),
            Just("version = \"4\"".to_owned()),
            string.clone().prop_map(|s| format!(" \"{s}\",")),
            string.clone().prop_map(|s| format!(" \"{s}\"")),
            (key.clone(), string.clone()).prop_map(|(k, s)| format!("{k} = \"{s}\"")),
            (key, string).prop_map(|(k, s)| format!("{k}=\"{s}\"")),
        ]
    }

    /// A lockfile of packages cargo could have written (fields in any order, some missing),
    /// with a few lines of [`line`] put anywhere.
    fn lockfile() -> impl Strategy<Value = String> {
        let field = prop::sample::select(vec!["name", "version", "source", "checksum"]);
        let value = prop::sample::select(vec!["a", "b", "1.0.0", "x y (z)", "", "é"]);
        let package = (
            prop::collection::vec((field, value.clone()), 0..5),
            prop::option::of(prop::collection::vec(value, 0..3)),
        )
            .prop_map(|(fields, deps)| {
                let mut lines = vec!["[[package]]".to_owned()];
                lines.extend(fields.iter().map(|(k, v)| format!("{k} = \"{v}\"")));
                if let Some(deps) = deps {
                    lines.push("dependencies = [".to_owned());
                    lines.extend(deps.iter().map(|d| format!(" \"{d}\",")));
                    lines.push("]".to_owned());
                }
                lines.push(String::new());
                lines
            });
        (
            prop::option::of(0u32..6),
            prop::collection::vec(package, 0..5),
            prop::collection::vec((any::<prop::sample::Index>(), line()), 0..3),
        )
            .prop_map(|(version, packages, noise)| {
                let mut lines: Vec<String> = version
                    .map(|v| vec![format!("version = {v}"), String::new()])
                    .unwrap_or_default();
                lines.extend(packages.into_iter().flatten());
                for (at, line) in noise {
                    let at = at.index(lines.len() + 1);
                    lines.insert(at, line);
                }
                lines.join("\n")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whole lockfiles, near misses among them: the same rule.
        #[test]
        fn the_line_reader_reads_lockfiles_as_toml_does(text in lockfile()) {
            if let Some(fast) = parse(&text) {
                let slow = slow(&text);
                prop_assert!(slow.is_some(), "toml refuses what the line reader took:\n{text}");
                if let Err(diff) = same(&text, &fast, &slow.unwrap()) {
                    prop_assert!(false, "{diff}\n{text}");
                }
            }
        }

        /// Whenever the line reader takes a text, `toml` reads it too, to the same values.
        #[test]
        fn the_line_reader_never_disagrees_with_toml(
            lines in prop::collection::vec(line(), 0..24),
            newline_at_end in any::<bool>(),
        ) {
            let mut text = lines.join("\n");
            if newline_at_end {
                text.push('\n');
            }
            if let Some(fast) = parse(&text) {
                let slow = slow(&text);
                prop_assert!(slow.is_some(), "toml refuses what the line reader took:\n{text}");
                if let Err(diff) = same(&text, &fast, &slow.unwrap()) {
                    prop_assert!(false, "{diff}\n{text}");
                }
            }
        }
    }
}
