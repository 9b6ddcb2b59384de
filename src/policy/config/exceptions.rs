//! The `[[exception]]` entries of a `charter-audit.toml`: each documented, approved and
//! expiring, none twice. The file is read from the audited project, so its size and the number
//! of exceptions are capped, and every check is one pass (a look-up per exception, never a scan
//! of those before it).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Validator;
use crate::policy::Justification;

/// The most exceptions a configuration may list. Each is a decision someone documented and
/// approved; a file with more is not one a reviewer has read.
pub const MAX_EXCEPTIONS: usize = 10_000;

/// The largest configuration file read (4 MiB): room for every exception allowed, at a few
/// hundred bytes each.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// A documented, expiring exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// An advisory id or one of its aliases.
    pub id: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub reason: String,
    /// Valid through this day (UTC).
    pub expires: String,
    pub approved_by: String,
    /// Why the finding does not affect the product, as OpenVEX names it (optional): the VEX
    /// this run writes gives it, where otherwise the reason alone says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Justification>,
    /// Where it is written, for messages.
    #[serde(skip)]
    pub line: usize,
}

/// The keys an exception may have.
const KEYS: [&str; 7] = [
    "id",
    "package",
    "version",
    "reason",
    "expires",
    "approved-by",
    "justification",
];

/// An exception's fields as written: key → (text, where the value starts).
type Fields = BTreeMap<&'static str, (String, usize)>;

impl<'a> Validator<'a> {
    /// Reads the `exception` list.
    pub(super) fn exceptions(&mut self, value: &Spanned<DeValue<'a>>) -> Vec<Exception> {
        let Some(items) = value.get_ref().as_array() else {
            self.problem(
                value.span().start,
                "`exception` must be a list of tables: write each as [[exception]]".to_owned(),
            );
            return Vec::new();
        };
        if items.len() > self.max_exceptions {
            self.problem(
                value.span().start,
                format!(
                    "{} exceptions: at most {} are read; an exception is a documented, reviewed decision, so list fewer (one per advisory, without `package` or `version`, covers every package it names)",
                    items.len(),
                    self.max_exceptions
                ),
            );
            return Vec::new();
        }
        let mut out: Vec<Exception> = Vec::with_capacity(items.len());
        // Each exception's (id, package, version), and the line of the first: a duplicate is
        // found in one look-up, not by scanning every exception before it.
        let mut seen: HashMap<(String, Option<String>, Option<String>), usize> =
            HashMap::with_capacity(items.len());
        for item in items.iter() {
            let at = item.span().start;
            let Some(table) = item.get_ref().as_table() else {
                self.problem(
                    at,
                    "each exception must be a table: write it as [[exception]]".to_owned(),
                );
                continue;
            };
            let fields = self.exception_fields(table);
            let Some(exception) = self.exception(at, &fields) else {
                continue;
            };
            let key = (
                exception.id.clone(),
                exception.package.clone(),
                exception.version.clone(),
            );
            if let Some(first) = seen.get(&key) {
                self.problem(
                    at,
                    format!(
                        "duplicate exception for `{}` (the first is on line {first}): keep one",
                        exception.id
                    ),
                );
                continue;
            }
            seen.insert(key, exception.line);
            out.push(exception);
        }
        out
    }

    /// The fields of one `[[exception]]` table that are strings (`expires` may be a date);
    /// every other key or value is a problem.
    fn exception_fields(&mut self, table: &DeTable<'a>) -> Fields {
        let mut fields = Fields::new();
        for (key, v) in table.iter() {
            let name = key.get_ref().as_ref();
            let Some(known) = KEYS.iter().find(|k| **k == name).copied() else {
                self.problem(
                    key.span().start,
                    format!(
                        "unknown key `{name}` in [[exception]]; allowed: {}",
                        KEYS.join(", ")
                    ),
                );
                continue;
            };
            let text = match v.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                DeValue::Datetime(d) if name == "expires" => Some(d.to_string()),
                _ => None,
            };
            match text {
                Some(t) => {
                    fields.insert(known, (t, v.span().start));
                }
                None => self.problem(v.span().start, format!("`{name}` must be a string")),
            }
        }
        fields
    }

    /// The exception the fields of the table at `at` make: documented, approved, expiring on
    /// a date, for a version that is one.
    fn exception(&mut self, at: usize, fields: &Fields) -> Option<Exception> {
        let text = |key: &str| fields.get(key).map(|(t, _)| t.clone());
        let missing: Vec<&str> = ["id", "reason", "expires", "approved-by"]
            .into_iter()
            .filter(|required| text(required).is_none_or(|t| t.trim().is_empty()))
            .collect();
        if !missing.is_empty() {
            self.problem(
                at,
                format!(
                    "this exception needs {}: an exception is documented, approved and expires",
                    missing.join(", ")
                ),
            );
            return None;
        }
        let (expires, expires_at) = fields.get("expires").cloned()?;
        if crate::time::parse_day(&expires).is_none() || expires.len() != 10 {
            self.problem(
                expires_at,
                format!("`expires` is `{expires}`, not a date: give one such as 2026-12-31 (valid through that day, UTC)"),
            );
            return None;
        }
        if let Some((version, version_at)) = fields.get("version")
            && semver::Version::parse(version).is_err()
        {
            self.problem(
                *version_at,
                format!("`version` is `{version}`, not a version such as 1.5.4"),
            );
            return None;
        }
        let justification = match fields.get("justification") {
            None => None,
            Some((term, term_at)) => match Justification::parse(term) {
                Some(j) => Some(j),
                None => {
                    self.problem(
                        *term_at,
                        format!(
                            "`justification` is `{term}`, not one of OpenVEX's justifications: give one of {} (or leave it out: the reason then says why)",
                            Justification::allowed()
                        ),
                    );
                    return None;
                }
            },
        };
        let (line, _) = self.position(at);
        Some(Exception {
            id: text("id")?,
            package: text("package"),
            version: text("version"),
            reason: text("reason")?,
            expires,
            approved_by: text("approved-by")?,
            justification,
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError, parse_config_capped};

    fn parse(text: &str, cap: usize) -> Result<Config, ConfigError> {
        parse_config_capped(
            "charter-audit.toml",
            text,
            &|name| crate::policy::builtin(name),
            &crate::policy::names(),
            None,
            cap,
        )
    }

    fn exceptions(count: usize) -> String {
        let mut text = String::new();
        for i in 0..count {
            text.push_str(&format!(
                "[[exception]]\nid = \"RUSTSEC-2099-{i:05}\"\nreason = \"Reviewed\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n"
            ));
        }
        text
    }

    #[test]
    fn forty_thousand_exceptions_are_checked_in_linear_time() {
        // Four times the cap, with the cap lifted: each exception compared with every one
        // before it and its line counted from the top took 68 s (release build) for this many;
        // one pass takes a few seconds even in a debug build on a busy machine. The bound is
        // that generous: speed itself belongs in benchmarks, this catches the quadratic cost.
        let mut text = exceptions(40_000);
        text.push_str("[[exception]]\nid = \"RUSTSEC-2099-00007\"\nreason = \"Again\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n");
        let started = std::time::Instant::now();
        let error = parse(&text, usize::MAX).unwrap_err();
        let took = started.elapsed();
        assert_eq!(error.problems.len(), 1, "{error}");
        assert_eq!(error.problems[0].line, 40_000 * 5 + 1);
        assert_eq!(
            error.problems[0].message,
            "duplicate exception for `RUSTSEC-2099-00007` (the first is on line 36): keep one"
        );
        assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
        let config = parse(&exceptions(2_000), usize::MAX).unwrap();
        assert_eq!(config.exceptions.len(), 2_000);
        assert_eq!(config.exceptions[1_999].line, 1_999 * 5 + 1);
    }

    #[test]
    fn one_exception_over_the_cap_is_refused_whole() {
        let error = parse(&exceptions(11), 10).unwrap_err();
        assert_eq!(error.problems.len(), 1);
        assert!(
            error.problems[0]
                .message
                .starts_with("11 exceptions: at most 10 are read"),
            "{error}"
        );
        assert_eq!(parse(&exceptions(10), 10).unwrap().exceptions.len(), 10);
    }

    #[test]
    fn a_justification_is_one_of_openvexs_or_is_refused_naming_its_line_and_the_terms() {
        let head = "[[exception]]\nid = \"RUSTSEC-2022-0013\"\nreason = \"Only trusted regexes\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n";
        let config = parse(
            &format!("{head}justification = \"vulnerable_code_not_in_execute_path\"\n"),
            10,
        )
        .unwrap();
        assert_eq!(
            config.exceptions[0].justification,
            Some(crate::policy::Justification::VulnerableCodeNotInExecutePath)
        );
        assert_eq!(parse(head, 10).unwrap().exceptions[0].justification, None);
        for bad in ["\"code_not_reachable\"", "\"\"", "3"] {
            let error = parse(&format!("{head}justification = {bad}\n"), 10).unwrap_err();
            assert_eq!(error.problems.len(), 1, "{error}");
            assert_eq!(error.problems[0].line, 6, "{error}");
            let message = &error.problems[0].message;
            if bad != "3" {
                for term in crate::policy::justification::TABLE.map(|(_, t, _)| t) {
                    assert!(message.contains(term), "{message}");
                }
            } else {
                assert_eq!(message, "`justification` must be a string");
            }
        }
    }
}
