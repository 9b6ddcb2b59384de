//! Text from the audited project or an advisory, made safe to show or to write into a document.

/// Removes control characters (escape sequences, NUL...); tabs and line breaks become spaces.
/// Used wherever a string from a manifest or an advisory is shown or written.
pub fn clean(value: &str) -> String {
    value
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect::<String>()
        .trim()
        .to_owned()
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
    fn control_characters_are_dropped() {
        assert_eq!(clean("a\u{1b}[31mred\u{0}\nline\u{9b}"), "a[31mred line");
    }

    #[test]
    fn local_paths_never_absolute() {
        use std::path::Path;
        assert_eq!(local_uri(Path::new("fixtures/db")), "file:fixtures/db");
        assert_eq!(local_uri(Path::new("/home/ci/work/db")), "file:…/db");
    }
}
