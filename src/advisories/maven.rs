//! Maven's version order, as Maven's `ComparableVersion` defines it (the order OSV's Maven
//! ranges are written in): versions split at `.`, `-` and digit/letter changes into numbers,
//! qualifiers and sub-lists; qualifiers ordered alpha < beta < milestone < rc (= cr) <
//! snapshot < release (`""`, `ga`, `final`, `release`) < sp < any other (alphabetically);
//! trailing zeros and release qualifiers dropped.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// Digits, without leading zeros (compared by length, then lexically: any size).
    Int(String),
    /// A qualifier, as its comparable key.
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The comparable key of the release qualifier (`""`).
const RELEASE: &str = "5";

fn qualifier_key(value: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == value) {
        Some(i) => i.to_string(),
        None => format!("{}-{value}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let value = match (followed_by_digit, value) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, "ga" | "final" | "release") => "",
        (_, "cr") => "rc",
        (_, v) => v,
    };
    Item::Str(qualifier_key(value))
}

fn int_item(digits: &str) -> Item {
    let trimmed = digits.trim_start_matches('0');
    Item::Int(trimmed.to_owned())
}

fn parse_item(digit: bool, text: &str) -> Item {
    if digit {
        int_item(text)
    } else {
        string_item(text, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(v) => v.is_empty(),
            Item::Str(key) => key == RELEASE,
            Item::List(items) => items.is_empty(),
        }
    }

    /// Compares with another item, or with nothing (`None`: a missing item).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(v), None) => {
                if v.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(key), None) => key.as_str().cmp(RELEASE),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => a.cmp(b),
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            (Item::List(items), None) => items.first().map_or(Ordering::Equal, |f| f.compare(None)),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => {
                for i in 0..a.len().max(b.len()) {
                    let result = match (a.get(i), b.get(i)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(r)) => r.compare(None).reverse(),
                        (Some(l), r) => l.compare(r),
                    };
                    if result != Ordering::Equal {
                        return result;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Drops trailing null items of a list (up to the last item that is not a list).
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

/// A Maven version, comparable as Maven compares it.
#[derive(Clone, Debug)]
pub struct MavenVersion(Item);

impl MavenVersion {
    pub fn parse(version: &str) -> MavenVersion {
        let version = version.to_ascii_lowercase();
        let chars: Vec<char> = version.chars().collect();
        // A stack of open lists; each new list is a child of the one below it.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut digit = false;
        let mut start = 0;
        let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let top = stack.len() - 1;
            if c == '.' || c == '-' {
                let item = if i == start {
                    int_item("0")
                } else {
                    parse_item(digit, &text(start, i))
                };
                stack[top].push(item);
                start = i + 1;
                if c == '-' {
                    stack.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !digit && i > start {
                    stack[top].push(string_item(&text(start, i), true));
                    start = i;
                    stack.push(Vec::new());
                }
                digit = true;
            } else {
                if digit && i > start {
                    stack[top].push(parse_item(true, &text(start, i)));
                    start = i;
                    stack.push(Vec::new());
                }
                digit = false;
            }
            i += 1;
        }
        if chars.len() > start {
            let top = stack.len() - 1;
            stack[top].push(parse_item(digit, &text(start, chars.len())));
        }
        // Close the lists from the innermost: each is normalised, then added to its parent.
        while stack.len() > 1 {
            let mut list = stack.pop().unwrap_or_default();
            normalize(&mut list);
            if let Some(parent) = stack.last_mut() {
                parent.push(Item::List(list));
            }
        }
        let mut root = stack.pop().unwrap_or_default();
        normalize(&mut root);
        MavenVersion(Item::List(root))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &MavenVersion) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &MavenVersion) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &MavenVersion) -> Ordering {
        self.0.compare(Some(&other.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> MavenVersion {
        MavenVersion::parse(s)
    }

    #[test]
    fn maven_documented_orders() {
        // Maven's ComparableVersion documentation and its test suite.
        let ascending = [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
            "1.1",
            "2.0",
            "30.0-jre",
            "32.0.0-android",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        for same in [
            ["1", "1.0"],
            ["1", "1.0.0"],
            ["1", "1-ga"],
            ["1", "1-final"],
            ["1.0-rc1", "1.0-cr1"],
            ["1a1", "1-alpha-1"],
        ] {
            assert_eq!(v(same[0]), v(same[1]), "{} = {}", same[0], same[1]);
        }
        assert!(v("2.0.1") > v("2.0"));
        assert!(v("1.0.0-20230101") > v("1.0.0-beta"));
        assert!(v("10") > v("9.9"));
    }
}
