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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(clean("a\u{1b}[31mred\u{0}\nline\u{9b}"), "a[31mred line");
    }
}
