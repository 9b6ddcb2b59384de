//! The policy settings of a policy file or `charter-audit.toml`: each key checked against
//! [`SETTINGS`] and each value against its kind, where it is written, then gathered into the
//! typed [`Settings`].

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::DeValue;

use super::super::model::{Kind, Level, Profile, SETTINGS, Settings, Value, path};

/// The profiles' names, quoted, as messages list them.
fn profile_names() -> String {
    Profile::ALL
        .iter()
        .map(|p| format!("\"{}\"", p.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
use super::{Table, Validator};

/// An SPDX licence id (of the licence list, or `LicenseRef-...`).
fn is_license_id(id: &str) -> bool {
    spdx::license_id(id).is_some()
        || id.strip_prefix("LicenseRef-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
}

impl<'a> Validator<'a> {
    /// The checked settings as the typed [`Settings`]; `None` when a problem was found (or,
    /// should the names of [`SETTINGS`] and the struct ever differ, with a problem saying so).
    pub(super) fn typed(&mut self, settings: &BTreeMap<String, Value>) -> Option<Settings> {
        if !self.problems.is_empty() {
            return None;
        }
        let typed = Settings::from_map(settings);
        if typed.is_none() {
            self.problem(
                0,
                "the settings do not make a complete policy: this is a bug in charter-audit"
                    .to_owned(),
            );
        }
        typed
    }

    /// Reads every policy setting of the document into `settings`; other top-level keys must
    /// be in `also`.
    pub(super) fn settings(
        &mut self,
        table: &Table<'a>,
        settings: &mut BTreeMap<String, Value>,
        also: &[&str],
    ) {
        let sections: Vec<&str> = {
            let mut s: Vec<&str> = SETTINGS
                .iter()
                .map(|(section, _, _, _)| *section)
                .filter(|s| !s.is_empty())
                .collect();
            s.dedup();
            s
        };
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            if also.contains(&name) {
                continue;
            }
            if sections.contains(&name) {
                match value.get_ref().as_table() {
                    Some(inner) => self.section(name, inner, settings),
                    None => self.problem(
                        key.span().start,
                        format!("`{name}` must be a table: write it as [{name}]"),
                    ),
                }
                continue;
            }
            if let Some((_, _, kind, _)) = SETTINGS
                .iter()
                .find(|(s, k, _, _)| s.is_empty() && *k == name)
            {
                if let Some(v) = self.value(name, *kind, value) {
                    settings.insert(name.to_owned(), v);
                }
                continue;
            }
            let mut allowed: Vec<String> = sections.iter().map(|s| format!("[{s}]")).collect();
            allowed.push("description".to_owned());
            allowed.extend(also.iter().map(|a| (*a).to_owned()));
            self.problem(
                key.span().start,
                format!("unknown key `{name}`; allowed here: {}", allowed.join(", ")),
            );
        }
    }

    fn section(
        &mut self,
        section: &str,
        table: &Table<'a>,
        settings: &mut BTreeMap<String, Value>,
    ) {
        let allowed: Vec<&str> = SETTINGS
            .iter()
            .filter(|(s, _, _, _)| *s == section)
            .map(|(_, k, _, _)| *k)
            .collect();
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            match SETTINGS
                .iter()
                .find(|(s, k, _, _)| *s == section && *k == name)
            {
                Some((_, _, kind, _)) => {
                    if let Some(v) = self.value(&path(section, name), *kind, value) {
                        settings.insert(path(section, name), v);
                    }
                }
                None => self.problem(
                    key.span().start,
                    format!(
                        "unknown key `{name}` in [{section}]; allowed: {}",
                        allowed.join(", ")
                    ),
                ),
            }
        }
    }

    fn value(&mut self, setting: &str, kind: Kind, value: &Spanned<DeValue<'a>>) -> Option<Value> {
        let at = value.span().start;
        let parsed = match (kind, value.get_ref()) {
            (Kind::Days, DeValue::Integer(i)) => {
                let digits = i.as_str().replace('_', "");
                match i64::from_str_radix(&digits, i.radix()) {
                    Ok(n) if n < 0 => Err(format!(
                        "`{setting}` is {n}: a number of days cannot be negative"
                    )),
                    Ok(n) if n > 36_500 => Err(format!("`{setting}` is {n}: at most 36500 days")),
                    Ok(n) => Ok(Value::Days(n as u32)),
                    Err(_) => Err(format!("`{setting}` must be a whole number of days")),
                }
            }
            (Kind::Days, _) => Err(format!(
                "`{setting}` must be a whole number of days, such as 14"
            )),
            (Kind::Level, DeValue::String(s)) => {
                Level::parse(s).map(Value::Level).ok_or_else(|| {
                    format!("`{setting}` is `{s}`; allowed: \"warning\", \"violation\"")
                })
            }
            (Kind::Level, _) => Err(format!("`{setting}` must be \"warning\" or \"violation\"")),
            (Kind::Names, DeValue::Array(items)) => {
                let names: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.get_ref().as_str().map(str::to_owned))
                    .collect();
                names.map(Value::Names).ok_or_else(|| {
                    format!("`{setting}` must be a list of names, such as [\"crates.io\"]")
                })
            }
            (Kind::Names, _) => Err(format!(
                "`{setting}` must be a list of names, such as [\"crates.io\"]"
            )),
            (Kind::LicenseAllow | Kind::LicenseDeny, DeValue::Array(items)) => {
                let mut names = Vec::new();
                let mut bad = Vec::new();
                for item in items {
                    match item.get_ref().as_str() {
                        Some(id) if is_license_id(id) => names.push(id.to_owned()),
                        Some(id) => bad.push(format!("`{id}`")),
                        None => bad.push("a value that is not a string".to_owned()),
                    }
                }
                if bad.is_empty() {
                    Ok(Value::Names(names))
                } else {
                    Err(format!(
                        "`{setting}` holds {} that {} not an SPDX licence id; use ids such as \"MIT\", \"Apache-2.0\" or \"LicenseRef-...\" (https://spdx.org/licenses/)",
                        bad.join(", "),
                        if bad.len() == 1 { "is" } else { "are" }
                    ))
                }
            }
            (Kind::LicenseAllow | Kind::LicenseDeny, _) => Err(format!(
                "`{setting}` must be a list of SPDX licence ids, such as [\"MIT\", \"Apache-2.0\"]"
            )),
            (Kind::Text, DeValue::String(s)) => Ok(Value::Text(s.to_string())),
            (Kind::Text, _) => Err(format!("`{setting}` must be a string")),
            (Kind::Profile, DeValue::String(s)) => Profile::parse(s)
                .map(|p| Value::Text(p.as_str().to_owned()))
                .ok_or_else(|| format!("`{setting}` is `{s}`; allowed: {}", profile_names())),
            (Kind::Flag, DeValue::Boolean(b)) => Ok(Value::Flag(*b)),
            (Kind::Flag, _) => Err(format!("`{setting}` must be true or false")),
            (Kind::Profile, _) => Err(format!(
                "`{setting}` must be the name of a profile: {}",
                profile_names()
            )),
        };
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.problem(at, message);
                None
            }
        }
    }
}
