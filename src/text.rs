//! Text from the audited project or an advisory, made safe to show or to write into a document.
//!
//! Written by hand: the rules are short and particular (what a terminal or the GitHub Actions
//! log would act on), and no crate makes both promises, that nothing of the text can move the
//! cursor or hide itself and that none of it can begin a line.

/// Removes control characters, whole terminal escape sequences (CSI `ESC [ ... final`, OSC
/// `ESC ] ... BEL` or `ESC \\`, and their one-character C1 forms), the bidirectional
/// formatting characters that can make text read differently from what it is and the
/// zero-width ones that hide what it is; tabs and line breaks (a lone carriage return, NEL and
/// the Unicode line and paragraph separators included) become spaces, so the result is one
/// line. Used wherever a string from a project, an SBOM, a database, an index or a server is
/// shown or written.
pub fn clean(value: &str) -> String {
    // Printable ASCII with no space at either end is already clean: most names, versions and
    // URLs are (a thousand crate names an audit, each walked character by character before).
    if value.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !value.starts_with(' ')
        && !value.ends_with(' ')
    {
        return value.to_owned();
    }
    clean_any(value)
}

/// [`clean`] for any text, character by character.
fn clean_any(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            // CSI: parameters and intermediates up to a final byte in @..~.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                skip_csi(&mut chars);
            }
            '\u{9b}' => skip_csi(&mut chars),
            // OSC (and DCS, SOS, PM, APC): a string up to BEL or ST.
            '\u{1b}' if matches!(chars.peek(), Some(']' | 'P' | 'X' | '^' | '_')) => {
                chars.next();
                skip_string(&mut chars);
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            // Any other escape: the escape and the character it introduces.
            '\u{1b}' => {
                chars.next();
            }
            c if c.is_control() || is_bidi(c) || is_invisible(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' if chars.peek() == Some(&'\\') => {
                chars.next();
                break;
            }
            _ => {}
        }
    }
}

/// Bidirectional formatting characters (embeddings, overrides, isolates, marks).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// Zero-width and invisible characters: text that shows as nothing.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{180e}' | '\u{ad}')
}

/// A message for standard error, where GitHub Actions reads every line that begins (after
/// blanks) with `::` as a workflow command: each line cleaned as by [`clean`], and every line
/// after the first marked `  | `, so that no text within the message, ours or a server's,
/// ever begins a line. `lead` (`error: `, `warning: `) is put before the first line.
pub fn for_log(lead: &str, message: &str) -> String {
    let mut out = String::with_capacity(lead.len() + message.len());
    out.push_str(lead);
    for (n, line) in message.split('\n').enumerate() {
        if n > 0 {
            out.push_str("\n  | ");
        }
        out.push_str(&clean(line));
    }
    out
}

/// An advisory's reference as a link a document may hold: an `https` URL in the form `url`
/// serialises it, with only characters RFC 3986 allows outside a host (so no `[`, `]`, quotes,
/// spaces or angle brackets); anything else is no link at all.
pub fn web_link(reference: &str) -> Option<String> {
    let url = url::Url::parse(reference.trim()).ok()?;
    if url.scheme() != "https" || url.host_str().is_none() {
        return None;
    }
    let text = url.as_str();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'()*+,;=%".contains(c);
    text.chars().all(allowed).then(|| text.to_owned())
}

/// Whether `text` is non-empty ASCII letters, digits, `-` and `extra` only: a name or version
/// that a purl or a URL writes as it is, with nothing to encode (the fast paths of
/// `inventory::source::purl` and `sbom::component::crates_io_page`, each held by a property
/// test to what its parser writes).
pub fn plain_ascii(text: &str, extra: u8) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == extra)
}

/// A version as semver writes it (`1.5.4`, `2.0.0-rc.1+build.5`), without the formatting
/// machinery: `Version`'s `Display` supports padding, so it measures before it writes, and an
/// audit writes thousands of versions (9,400 for nushell's lockfile, a twentieth of a warm
/// offline audit's instructions under callgrind, against a fiftieth this way). Equal to
/// `to_string()` (`version_text_is_semvers`).
pub fn version(version: &semver::Version) -> String {
    let mut out = String::with_capacity(16);
    push_version(&mut out, version);
    out
}

/// [`version`], written at the end of `out`.
pub fn push_version(out: &mut String, version: &semver::Version) {
    let mut number = itoa::Buffer::new();
    out.push_str(number.format(version.major));
    out.push('.');
    out.push_str(number.format(version.minor));
    out.push('.');
    out.push_str(number.format(version.patch));
    if !version.pre.is_empty() {
        out.push('-');
        out.push_str(version.pre.as_str());
    }
    if !version.build.is_empty() {
        out.push('+');
        out.push_str(version.build.as_str());
    }
}

/// Bytes as text, each invalid sequence replaced: without a copy or a second scan when they
/// are UTF-8, the usual case (`String::from_utf8_lossy` scans them more slowly, then copies).
pub fn utf8_lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A local path as an output names it: `file:PATH` as given when relative, else `file:…/NAME`
/// (its last component), so that no absolute path of the build machine is ever written.
pub fn local_uri(path: &std::path::Path) -> String {
    if path.is_relative() {
        return format!("file:{}", path.display());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("file:…/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_whole_escape_sequences_are_dropped() {
        assert_eq!(clean("a\u{1b}[31mred\u{0}\nline\u{9b}"), "ared line");
        assert_eq!(
            clean("\u{1b}[2J\u{1b}]8;;http://evil\u{7}click\u{1b}]8;;\u{1b}\\ here"),
            "click here"
        );
        assert_eq!(clean("abc\u{202e}fed\u{202c}"), "abcfed");
        assert_eq!(clean("\u{1b}(0x"), "0x");
        assert_eq!(clean("tail\u{1b}["), "tail");
        assert_eq!(clean("a\rb\u{2028}c\u{2029}d\u{85}e"), "a b c d e");
        assert_eq!(clean("ad\u{200b}min\u{feff}\u{2060}"), "admin");
    }

    #[test]
    fn every_character_of_the_basic_plane_leaves_one_inert_line() {
        // Each character, alone and before a command, between text: what is left is one line
        // with nothing a terminal acts on and nothing invisible, and logged it begins no line.
        for code in 0..=0xffff_u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("a{c}::error::x{c}\n{c}::add-mask::y");
            let cleaned = clean(&text);
            for d in cleaned.chars() {
                assert!(
                    !d.is_control() && !is_bidi(d) && !is_invisible(d),
                    "U+{code:04X} left {d:?} in {cleaned:?}"
                );
                assert!(
                    !matches!(d, '\u{2028}' | '\u{2029}'),
                    "U+{code:04X}: {cleaned:?}"
                );
            }
            for line in for_log("error: ", &text).lines() {
                assert!(
                    !line.trim_start().starts_with("::"),
                    "U+{code:04X}: {line:?}"
                );
            }
        }
    }

    #[test]
    fn no_line_of_a_logged_message_begins_with_its_text() {
        let logged = for_log(
            "error: ",
            "server said:\n::error::pwned\r::add-mask::x\n  ::stop-commands::t",
        );
        assert_eq!(
            logged,
            "error: server said:\n  | ::error::pwned ::add-mask::x\n  | ::stop-commands::t"
        );
        for line in logged.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
        }
    }

    #[test]
    fn only_plain_https_references_are_links() {
        assert_eq!(
            web_link("https://github.com/servo/rust-smallvec/issues/252").as_deref(),
            Some("https://github.com/servo/rust-smallvec/issues/252")
        );
        assert_eq!(web_link("javascript:alert(1)"), None);
        assert_eq!(web_link("http://example.org/"), None);
        assert_eq!(web_link("https://x.example/a)b](javascript:alert(2)"), None);
        assert_eq!(
            web_link("https://x.example/a b").as_deref(),
            Some("https://x.example/a%20b")
        );
    }

    #[test]
    fn local_paths_never_absolute() {
        use std::path::Path;
        assert_eq!(local_uri(Path::new("fixtures/db")), "file:fixtures/db");
        assert_eq!(local_uri(Path::new("/home/ci/work/db")), "file:…/db");
    }

    proptest::proptest! {
        /// Printable ASCII takes the short way, and comes out as the long way makes it.
        #[test]
        fn clean_text_is_cleaned_as_any_text_is(
            value in "[ -~]{0,12}| {0,2}[!-~]{0,8} {0,2}|[\\x00-\\x1f\\x7f-\\u{9f}]{0,3}[ -~]{0,6}|[ -~\\t\\n\\r\u{1b}\u{85}\u{9b}\u{200b}\u{202e}\u{2028}é]{0,12}",
        ) {
            proptest::prop_assert_eq!(clean(&value), clean_any(&value));
        }

        /// A version's text is what semver's `Display` writes, for any version semver reads.
        #[test]
        fn version_text_is_semvers(
            numbers in (proptest::num::u64::ANY, proptest::num::u64::ANY, proptest::num::u64::ANY),
            pre in "([a-z0-9-]{1,6}(\\.[a-z0-9-]{1,6}){0,2})?",
            build in "([A-Za-z0-9-]{1,6}(\\.[A-Za-z0-9-]{1,6}){0,2})?",
        ) {
            let text = format!("{}.{}.{}", numbers.0, numbers.1, numbers.2);
            let text = if pre.is_empty() { text } else { format!("{text}-{pre}") };
            let text = if build.is_empty() { text } else { format!("{text}+{build}") };
            if let Ok(parsed) = semver::Version::parse(&text) {
                proptest::prop_assert_eq!(version(&parsed), parsed.to_string());
                let mut out = "x ".to_owned();
                push_version(&mut out, &parsed);
                proptest::prop_assert_eq!(out, format!("x {parsed}"));
            }
        }
    }
}
