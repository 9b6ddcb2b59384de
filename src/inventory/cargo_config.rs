//! Which of the audited project's cargo configuration reaches `cargo metadata`.
//!
//! cargo runs from a folder outside the project (see [`super::workdir`]), so it does not read
//! the project's `.cargo/config.toml` itself: the parts that only say where sources are
//! (vendored folders, registry index URLs) are handed to it with `--config`, and nothing else.
//!
//! A registry is named in a manifest (`registry = "company"`) and cargo's built-in credential
//! provider finds its token by that name. So a project that defines a registry under a name the
//! auditor holds a token for would receive that token at a URL of its choosing. A registry name
//! the auditor's own configuration mentions (`$CARGO_HOME/config.toml`, `credentials.toml`, a
//! `.cargo/config.toml` above the folder cargo starts from, or a `CARGO_REGISTRIES_<NAME>_*`
//! variable) therefore keeps the auditor's definition: the project's index for it is dropped.
//! A name the auditor holds nothing for cannot lead cargo to an auditor's token.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How much of one cargo configuration file is read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// `$CARGO_HOME`, or `~/.cargo` as cargo defaults to.
pub(crate) fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// The registry names the auditor's own cargo configuration mentions.
#[derive(Debug, Default)]
pub(crate) struct AuditorRegistries {
    /// Names from configuration files, upper-cased with `-` as `_` (as cargo's variables).
    names: BTreeSet<String>,
    /// What follows `CARGO_REGISTRIES_` in each such variable set for cargo.
    variables: Vec<String>,
}

impl AuditorRegistries {
    /// Reads the configuration cargo started in `workdir` reads besides the project's.
    pub(crate) fn read(workdir: &Path) -> AuditorRegistries {
        let mut files = Vec::new();
        if let Some(home) = cargo_home() {
            for name in ["config.toml", "config", "credentials.toml", "credentials"] {
                files.push(home.join(name));
            }
        }
        for dir in workdir.ancestors() {
            for name in ["config.toml", "config"] {
                files.push(dir.join(".cargo").join(name));
            }
        }
        let mut names = BTreeSet::new();
        for file in files {
            let Some(table) = read_table(&file) else {
                continue;
            };
            if let Some(registries) = table.get("registries").and_then(|r| r.as_table()) {
                names.extend(registries.keys().map(|name| variable_form(name)));
            }
        }
        let variables = std::env::vars_os()
            .filter_map(|(key, _)| {
                key.to_str()?
                    .strip_prefix("CARGO_REGISTRIES_")
                    .map(str::to_owned)
            })
            .collect();
        AuditorRegistries { names, variables }
    }

    /// Whether the auditor's configuration says anything about the registry `name`.
    pub(crate) fn mentions(&self, name: &str) -> bool {
        let key = variable_form(name);
        let prefix = format!("{key}_");
        self.names.contains(&key) || self.variables.iter().any(|v| v.starts_with(&prefix))
    }
}

/// A registry name as cargo spells it in an environment variable.
fn variable_form(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

fn read_table(path: &Path) -> Option<toml::Table> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_CONFIG_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    text.parse().ok()
}

/// The project's cargo configuration files, outermost first, so the innermost wins as it would
/// for cargo started in the project.
pub(crate) fn project_configs(manifest: &Path) -> Vec<PathBuf> {
    let home = cargo_home().map(|home| std::path::absolute(&home).unwrap_or(home));
    let mut found = Vec::new();
    let Some(start) = manifest.parent() else {
        return found;
    };
    for dir in start.ancestors() {
        let cargo_dir = dir.join(".cargo");
        if home.as_deref() == Some(cargo_dir.as_path()) {
            continue;
        }
        for name in ["config.toml", "config"] {
            let candidate = cargo_dir.join(name);
            if candidate.is_file() {
                found.push(candidate);
                break;
            }
        }
    }
    found.reverse();
    found
}

/// The parts of a project's cargo configuration that only say where sources are: `[source.*]`
/// (with relative folders made absolute, as cargo would resolve them) and the `index` of each
/// `[registries.*]` the auditor does not define itself. Everything else (credential providers,
/// tokens, `build.rustc`, aliases) is left out: the audited project is untrusted input.
pub(crate) fn sanitized_config(path: &Path, auditor: &AuditorRegistries) -> Option<String> {
    let table = read_table(path)?;
    // cargo resolves relative paths in a config file against the folder holding `.cargo`.
    let base = path.parent().and_then(Path::parent)?;
    let mut out = toml::Table::new();
    if let Some(sources) = table.get("source").and_then(|s| s.as_table()) {
        let mut kept = toml::Table::new();
        for (name, source) in sources {
            // A replacement source is its own namespace for cargo, but a name the auditor uses
            // for a registry is never the project's to define, here either.
            let Some(source) = source.as_table().filter(|_| !auditor.mentions(name)) else {
                continue;
            };
            let mut entry = toml::Table::new();
            for key in ["replace-with", "registry", "git", "branch", "tag", "rev"] {
                if let Some(value @ toml::Value::String(_)) = source.get(key) {
                    entry.insert(key.to_owned(), value.clone());
                }
            }
            for key in ["directory", "local-registry"] {
                if let Some(folder) = source.get(key).and_then(|v| v.as_str()) {
                    let folder = base.join(folder);
                    entry.insert(
                        key.to_owned(),
                        toml::Value::String(folder.to_string_lossy().into_owned()),
                    );
                }
            }
            kept.insert(name.clone(), toml::Value::Table(entry));
        }
        out.insert("source".to_owned(), toml::Value::Table(kept));
    }
    if let Some(registries) = table.get("registries").and_then(|r| r.as_table()) {
        let mut kept = toml::Table::new();
        for (name, registry) in registries {
            if auditor.mentions(name) {
                continue;
            }
            if let Some(index @ toml::Value::String(_)) = registry.get("index") {
                let mut entry = toml::Table::new();
                entry.insert("index".to_owned(), index.clone());
                kept.insert(name.clone(), toml::Value::Table(entry));
            }
        }
        out.insert("registries".to_owned(), toml::Value::Table(kept));
    }
    toml::to_string(&out).ok()
}
