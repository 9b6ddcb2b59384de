//! Policy files and the supplier's `charter-audit.toml`, parsed with spans and validated in a
//! second pass that collects every problem (file, line, column, what is allowed) at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::model::{Direction, Policy, SETTINGS, Value, direction, path};

mod exceptions;
mod settings;

pub use exceptions::{Exception, MAX_CONFIG_BYTES, MAX_EXCEPTIONS};

/// Every problem of one file.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.file, .problems))]
pub struct ConfigError {
    pub file: String,
    pub problems: Vec<Problem>,
}

/// One problem, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn render(file: &str, problems: &[Problem]) -> String {
    let mut lines = vec![format!(
        "{file}: {} problem(s) in the policy configuration:",
        problems.len()
    )];
    for p in problems {
        lines.push(format!("  {file}:{}:{}: {}", p.line, p.column, p.message));
    }
    lines.join("\n")
}

/// A setting that differs from the base policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub setting: String,
    pub base: Value,
    pub value: Value,
    pub direction: Direction,
}

/// The `[supplier]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SupplierConfig {
    pub name: String,
    pub url: Option<String>,
    pub contact: Option<String>,
}

/// A supplier's configuration: the effective policy and what else it says.
#[derive(Clone, Debug)]
pub struct Config {
    pub policy: Policy,
    pub overrides: Vec<Override>,
    pub supplier: Option<SupplierConfig>,
    pub exceptions: Vec<Exception>,
    /// Package names never sent to an online service (`private = ["@acme/*"]`).
    pub private: Vec<String>,
}

/// Parses a built-in policy: every setting must be there.
pub fn parse_policy(file: &str, base: &str, text: &str) -> Result<Policy, ConfigError> {
    let mut v = Validator::new(file, text);
    let Some(table) = v.document() else {
        return Err(v.finish());
    };
    let mut settings = BTreeMap::new();
    v.settings(&table, &mut settings, &[]);
    for (section, key, _, _) in SETTINGS {
        let p = path(section, key);
        if !settings.contains_key(&p) {
            v.problem(
                0,
                format!("`{p}` is missing: a built-in policy sets every setting"),
            );
        }
    }
    let settings = v.typed(&settings);
    v.result(settings.map(|settings| Policy {
        base: base.to_owned(),
        settings,
    }))
}

/// Parses a supplier's `charter-audit.toml` over the built-in policy it extends.
pub fn parse_config(
    file: &str,
    text: &str,
    builtin: &dyn Fn(&str) -> Option<Policy>,
    names: &[&str],
    forced_base: Option<&str>,
) -> Result<Config, ConfigError> {
    parse_config_capped(file, text, builtin, names, forced_base, MAX_EXCEPTIONS)
}

/// `parse_config` with a cap on the number of exceptions (lifted by tests that measure the
/// cost of checking more than the cap allows).
fn parse_config_capped(
    file: &str,
    text: &str,
    builtin: &dyn Fn(&str) -> Option<Policy>,
    names: &[&str],
    forced_base: Option<&str>,
    max_exceptions: usize,
) -> Result<Config, ConfigError> {
    let mut v = Validator::new(file, text);
    v.max_exceptions = max_exceptions;
    let Some(table) = v.document() else {
        return Err(v.finish());
    };
    let base_name = v.base_name(&table, names, forced_base);
    let base = builtin(&base_name).map(|p| p.settings.to_map());
    if base.is_none() {
        v.problem(
            0,
            format!(
                "`{base_name}` is not a built-in policy: one of {}",
                names.join(", ")
            ),
        );
    }
    let base = base.unwrap_or_default();
    let mut settings = base.clone();
    v.settings(
        &table,
        &mut settings,
        &["extends", "supplier", "exception", "private"],
    );
    let private = v.private(&table);
    let supplier = table.get("supplier").and_then(|s| v.supplier(s));
    let exceptions = match table.get("exception") {
        None => Vec::new(),
        Some(list) => v.exceptions(list),
    };
    let overrides = overrides(&base, &settings);
    let settings = v.typed(&settings);
    v.result(settings.map(|settings| Config {
        policy: Policy {
            base: base_name,
            settings,
        },
        overrides,
        supplier,
        exceptions,
        private,
    }))
}

/// The settings that differ from the base policy's, in the order of [`SETTINGS`].
fn overrides(base: &BTreeMap<String, Value>, settings: &BTreeMap<String, Value>) -> Vec<Override> {
    let mut overrides = Vec::new();
    for (section, key, kind, _) in SETTINGS {
        let p = path(section, key);
        if let (Some(b), Some(value)) = (base.get(&p), settings.get(&p))
            && b != value
        {
            overrides.push(Override {
                setting: p.clone(),
                base: b.clone(),
                value: value.clone(),
                direction: direction(*kind, b, value),
            });
        }
    }
    overrides
}

struct Validator<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
    /// Where each line starts, so that naming the line of an offset is a binary search, not a
    /// count from the top (which made a file of many exceptions quadratic to check).
    line_starts: Vec<usize>,
    /// The most `[[exception]]` entries read.
    max_exceptions: usize,
}

type Table<'a> = DeTable<'a>;

impl<'a> Validator<'a> {
    fn new(file: &'a str, text: &'a str) -> Validator<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Validator {
            file,
            text,
            problems: Vec::new(),
            line_starts,
            max_exceptions: MAX_EXCEPTIONS,
        }
    }

    /// The line and column (both from 1, the column in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let index = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[index.saturating_sub(1)];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |part| part.chars().count());
        (index.max(1), column + 1)
    }

    fn document(&mut self) -> Option<Table<'a>> {
        match DeTable::parse(self.text) {
            Ok(table) => Some(table.into_inner()),
            Err(error) => {
                let at = error.span().map_or(0, |s| s.start);
                let message = error.message().to_owned();
                self.problem(at, format!("not valid TOML: {message}"));
                None
            }
        }
    }

    fn problem(&mut self, offset: usize, message: String) {
        let (line, column) = self.position(offset);
        self.problems.push(Problem {
            line,
            column,
            message,
        });
    }

    fn finish(mut self) -> ConfigError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        ConfigError {
            file: self.file.to_owned(),
            problems: self.problems,
        }
    }

    /// The value, when no problem was found (there is one whenever there is no value).
    fn result<T>(self, value: Option<T>) -> Result<T, ConfigError> {
        match value {
            Some(value) if self.problems.is_empty() => Ok(value),
            _ => Err(self.finish()),
        }
    }

    /// The built-in policy the file extends (`--policy` wins), `nhs-charter` if it names none.
    fn base_name(&mut self, table: &Table<'a>, names: &[&str], forced: Option<&str>) -> String {
        if let Some(forced) = forced {
            return forced.to_owned();
        }
        match table.get("extends") {
            None => "nhs-charter".to_owned(),
            Some(value) => match value.get_ref().as_str() {
                Some(name) if names.contains(&name) => name.to_owned(),
                _ => {
                    self.problem(
                        value.span().start,
                        format!(
                            "`extends` must name a built-in policy: one of {}",
                            names.join(", ")
                        ),
                    );
                    "nhs-charter".to_owned()
                }
            },
        }
    }

    /// The `private` list of package-name patterns.
    fn private(&mut self, table: &Table<'a>) -> Vec<String> {
        let Some(value) = table.get("private") else {
            return Vec::new();
        };
        match value.get_ref() {
            DeValue::Array(items) if items.iter().all(|i| i.get_ref().as_str().is_some()) => items
                .iter()
                .filter_map(|i| i.get_ref().as_str().map(str::to_owned))
                .collect(),
            _ => {
                self.problem(
                    value.span().start,
                    "`private` must be a list of package-name patterns, such as [\"@example-health/*\"]".to_owned(),
                );
                Vec::new()
            }
        }
    }

    fn supplier(&mut self, value: &Spanned<DeValue<'a>>) -> Option<SupplierConfig> {
        let Some(table) = value.get_ref().as_table() else {
            self.problem(
                value.span().start,
                "`supplier` must be a table: write it as [supplier]".to_owned(),
            );
            return None;
        };
        let mut supplier = SupplierConfig::default();
        for (key, v) in table.iter() {
            let name = key.get_ref().as_ref();
            let text = v.get_ref().as_str().map(str::to_owned);
            match (name, text) {
                ("name", Some(t)) => supplier.name = t,
                ("url", Some(t)) => supplier.url = Some(t),
                ("contact", Some(t)) => supplier.contact = Some(t),
                ("name" | "url" | "contact", None) => self.problem(
                    v.span().start,
                    format!("`supplier.{name}` must be a string"),
                ),
                _ => self.problem(
                    key.span().start,
                    format!("unknown key `{name}` in [supplier]; allowed: name, url, contact"),
                ),
            }
        }
        if supplier.name.is_empty() {
            self.problem(value.span().start, "[supplier] needs a `name`".to_owned());
            return None;
        }
        Some(supplier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_config(
            "charter-audit.toml",
            text,
            &|name| super::super::builtin(name),
            &super::super::names(),
            None,
        )
    }

    #[test]
    fn overrides_are_marked_tightening_or_loosening() {
        let config = parse(
            "extends = \"nhs-charter\"\n[patch-age]\nmedium = 21\nlow = 120\n[informational]\nunsound = \"violation\"\n[sources]\nallowed-registries = [\"crates.io\", \"internal\"]\n",
        )
        .unwrap();
        let by: BTreeMap<&str, Direction> = config
            .overrides
            .iter()
            .map(|o| (o.setting.as_str(), o.direction))
            .collect();
        assert_eq!(by["patch-age.medium"], Direction::Tightening);
        assert_eq!(by["patch-age.low"], Direction::Loosening);
        assert_eq!(by["informational.unsound"], Direction::Tightening);
        assert_eq!(by["sources.allowed-registries"], Direction::Loosening);
        assert_eq!(config.policy.settings.patch_age.medium, 21);
        assert_eq!(
            config.policy.settings.patch_age.critical, 14,
            "the rest from the base"
        );
    }

    #[test]
    fn supplier_and_exceptions_are_read() {
        let config = parse(
            "[supplier]\nname = \"Example Health Ltd\"\ncontact = \"security@example.org\"\n\n[[exception]]\nid = \"RUSTSEC-2022-0013\"\npackage = \"regex\"\nversion = \"1.5.4\"\nreason = \"Only trusted regexes are compiled\"\nexpires = 2026-10-01\napproved-by = \"CISO\"\n",
        )
        .unwrap();
        assert_eq!(config.supplier.unwrap().name, "Example Health Ltd");
        assert_eq!(config.exceptions.len(), 1);
        assert_eq!(config.exceptions[0].expires, "2026-10-01");
        assert_eq!(config.policy.base, "nhs-charter");
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let text = r#"extends = "nhs-charter-lenient"
colour = "blue"

[patch-age]
critical = -3
severe = 10
medium = "thirty"

[informational]
unsound = "error"

[licenses]
allow = ["MIT", "Apache 2.0", "GPL"]
deny = "AGPL-3.0-only"

[[exception]]
id = "RUSTSEC-2022-0013"
reason = "trusted input only"
expires = "next week"
approved-by = "CISO"

[[exception]]
id = "RUSTSEC-2021-0003"
reason = "fixed in our fork"
expires = 2026-12-31
approved-by = "CISO"
owner = "me"

[[exception]]
id = "RUSTSEC-2021-0003"
reason = "again"
expires = 2026-12-31
approved-by = "CISO"

[[exception]]
id = "RUSTSEC-2024-0375"
expires = 2026-12-31
"#;
        let error = parse(text).unwrap_err();
        insta::assert_snapshot!(error.to_string());
    }

    #[test]
    fn a_misspelt_setting_is_refused_where_it_is_written_not_read_as_a_default() {
        let error = parse("extends = \"nhs-charter\"\n\n[patch-age]\nmedium = 21\n  critcal = 3\n")
            .unwrap_err();
        assert_eq!(
            error.problems,
            [Problem {
                line: 5,
                column: 3,
                message: "unknown key `critcal` in [patch-age]; allowed: critical, high, unscored, medium, low, no-fix".to_owned(),
            }]
        );
        let error =
            parse("[yanked]\nverdict = \"warning\"\n\n[patchage]\nmedium = 21\n").unwrap_err();
        assert_eq!(error.problems.len(), 1, "{error}");
        assert_eq!((error.problems[0].line, error.problems[0].column), (4, 2));
        assert!(
            error.problems[0]
                .message
                .starts_with("unknown key `patchage`; allowed here: [patch-age], "),
            "{error}"
        );
    }

    #[test]
    fn a_profile_is_read_as_a_typed_setting_and_recorded_as_an_override() {
        let config = parse("[sbom-completeness]\nprofile = \"bsi-tr-03183-2\"\n").unwrap();
        assert_eq!(
            config.policy.settings.sbom_completeness.profile,
            super::super::model::Profile::BsiTr03183_2
        );
        assert_eq!(config.overrides.len(), 1);
        assert_eq!(config.overrides[0].setting, "sbom-completeness.profile");
        assert_eq!(config.overrides[0].direction, Direction::Tightening);
        let error = parse("[sbom-completeness]\nprofile = \"bsi\"\n").unwrap_err();
        assert_eq!(
            error.problems[0].message,
            "`sbom-completeness.profile` is `bsi`; allowed: \"ntia-2021\", \"cisa-2025-draft\", \"bsi-tr-03183-2\""
        );
        assert_eq!((error.problems[0].line, error.problems[0].column), (2, 11));
    }

    #[test]
    fn toml_syntax_errors_have_a_position() {
        let error = parse("[patch-age\ncritical = 14\n").unwrap_err();
        assert_eq!(error.problems.len(), 1);
        assert_eq!(error.problems[0].line, 1);
        assert!(error.problems[0].message.starts_with("not valid TOML"));
    }
}
