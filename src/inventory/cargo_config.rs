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

/// cargo's home, resolved as cargo resolves it, made absolute: `$CARGO_HOME` when set and not
/// empty, else `.cargo` in the user's home, which is `$HOME` or, when that is unset, the home the
/// password database records (cargo's `home` crate calls `std::env::home_dir` on Unix, as here;
/// no dependency is needed for the same answer). The result is handed to cargo as `CARGO_HOME`
/// so both sides read the same files whatever the environment says.
pub(crate) fn cargo_home() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok();
    resolve_cargo_home(
        std::env::var_os("CARGO_HOME"),
        std::env::home_dir,
        cwd.as_deref(),
    )
}

/// [`cargo_home`] with its inputs given: the `CARGO_HOME` variable, the user's home (`$HOME`,
/// else the password database) and the folder a relative path is taken from.
pub(crate) fn resolve_cargo_home(
    variable: Option<std::ffi::OsString>,
    home_dir: impl FnOnce() -> Option<PathBuf>,
    cwd: Option<&Path>,
) -> Option<PathBuf> {
    let home = match variable.filter(|home| !home.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => home_dir()
            .filter(|h| !h.as_os_str().is_empty())?
            .join(".cargo"),
    };
    if home.is_absolute() {
        Some(home)
    } else {
        // A relative home would be read from two different folders by us and by cargo.
        Some(cwd?.join(home))
    }
}

/// The registry names the auditor's own cargo configuration mentions.
#[derive(Debug, Default)]
pub(crate) struct AuditorRegistries {
    /// Names from configuration files, upper-cased with `-` as `_` (as cargo's variables).
    names: BTreeSet<String>,
    /// What follows `CARGO_REGISTRIES_` in each such variable set for cargo.
    variables: Vec<String>,
    /// No cargo home could be found: the auditor's own files are unknown, so every registry
    /// name counts as the auditor's and the project defines none.
    every_name: bool,
}

impl AuditorRegistries {
    /// Reads the configuration cargo started in `workdir` with `home` as its home (`None`: none
    /// could be found) reads besides the project's.
    pub(crate) fn read_with_home(workdir: &Path, home: Option<&Path>) -> AuditorRegistries {
        let mut files = Vec::new();
        if let Some(home) = home {
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
        AuditorRegistries {
            names,
            variables,
            every_name: home.is_none(),
        }
    }

    /// Whether the auditor's configuration says anything about the registry `name`.
    pub(crate) fn mentions(&self, name: &str) -> bool {
        let key = variable_form(name);
        let prefix = format!("{key}_");
        self.every_name
            || self.names.contains(&key)
            || self.variables.iter().any(|v| v.starts_with(&prefix))
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
    let home = cargo_home();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The user's home as the password database records it, when `$HOME` is unset.
    fn passwd_home() -> Option<PathBuf> {
        Some(PathBuf::from("/home/auditor"))
    }

    #[test]
    fn without_home_or_cargo_home_the_password_database_home_is_cargos_home() {
        let home = resolve_cargo_home(None, passwd_home, Some(Path::new("/work")));
        assert_eq!(home, Some(PathBuf::from("/home/auditor/.cargo")));
        // An empty variable counts as unset, as for cargo.
        let home = resolve_cargo_home(Some("".into()), passwd_home, Some(Path::new("/work")));
        assert_eq!(home, Some(PathBuf::from("/home/auditor/.cargo")));
    }

    #[test]
    fn cargo_home_is_handed_on_absolute() {
        let home = resolve_cargo_home(Some("rel/home".into()), passwd_home, Some(Path::new("/w")));
        assert_eq!(home, Some(PathBuf::from("/w/rel/home")));
        let home = resolve_cargo_home(Some("/abs".into()), || None, None);
        assert_eq!(home, Some(PathBuf::from("/abs")));
    }

    #[test]
    fn no_cargo_home_found_means_the_project_defines_no_registry() {
        assert_eq!(
            resolve_cargo_home(None, || None, Some(Path::new("/w"))),
            None
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join(".cargo").join("config.toml");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(
            &config,
            "[registries.anything]\nindex = \"sparse+https://attacker.example/\"\n",
        )
        .unwrap();
        let neutral = tempfile::tempdir().unwrap();
        let auditor = AuditorRegistries::read_with_home(neutral.path(), None);
        let text = sanitized_config(&config, &auditor).unwrap();
        assert!(!text.contains("attacker"), "{text}");
        // With a home that says nothing of the name, the project's index is kept.
        let home = tempfile::tempdir().unwrap();
        let auditor = AuditorRegistries::read_with_home(neutral.path(), Some(home.path()));
        assert!(
            sanitized_config(&config, &auditor)
                .unwrap()
                .contains("attacker")
        );
    }
}
