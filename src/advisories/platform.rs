//! Which platforms an advisory is about, and whether it can apply to the target an audit judges
//! for. RustSec records `affected.os` and `affected.arch` (a Windows-only flaw, say) and
//! `affected.functions` (the paths of the functions at fault); RustSec's OSV export carries the
//! same under `ecosystem_specific.affects`.
//!
//! The target is the one the inventory was resolved for: the host, or `--target TRIPLE`. With
//! `--target all` or a bare lockfile, which do not say what the product is built for, every
//! advisory is kept.

use serde::{Deserialize, Serialize};

/// What an advisory says of where it applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Operating systems (`target_os` values: `windows`, `linux`...); empty is every one.
    pub os: Vec<String>,
    /// Architectures (`target_arch` values: `x86_64`, `aarch64`...); empty is every one.
    pub arch: Vec<String>,
    /// The functions at fault (`crate::module::function`), when the advisory names them.
    pub functions: Vec<String>,
}

impl Scope {
    /// From a RustSec advisory's `[affected]` table.
    pub(crate) fn from_rustsec(affected: Option<&rustsec::advisory::Affected>) -> Scope {
        let Some(affected) = affected else {
            return Scope::default();
        };
        let mut scope = Scope {
            os: affected
                .os
                .iter()
                .map(|os| os.as_str().to_owned())
                .collect(),
            arch: affected
                .arch
                .iter()
                .map(|arch| arch.as_str().to_owned())
                .collect(),
            functions: affected.functions.keys().map(ToString::to_string).collect(),
        };
        scope.normalise();
        scope
    }

    /// From an OSV `affected[].ecosystem_specific` (RustSec's export: `affects.os`,
    /// `affects.arch`, `affects.functions`). Anything not a list of strings is ignored, which
    /// leaves the advisory applying everywhere.
    pub(crate) fn from_osv(specific: Option<&serde_json::Value>) -> Scope {
        let list = |key: &str| -> Vec<String> {
            specific
                .and_then(|s| s.get("affects"))
                .and_then(|a| a.get(key))
                .and_then(|v| v.as_array())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut scope = Scope {
            os: list("os"),
            arch: list("arch"),
            functions: list("functions"),
        };
        scope.normalise();
        scope
    }

    fn normalise(&mut self) {
        for list in [&mut self.os, &mut self.arch, &mut self.functions] {
            list.sort();
            list.dedup();
        }
    }

    /// Why the advisory cannot apply to `target` (`affects windows only`), or `None` when it
    /// can, or when the target is one this tool does not know (then it is kept).
    fn excludes(&self, target: &str) -> Option<String> {
        if self.os.is_empty() && self.arch.is_empty() {
            return None;
        }
        let platform = rustsec::platforms::Platform::find(target)?;
        let os = platform.target_os.as_str();
        let arch = platform.target_arch.as_str();
        let os_excluded = !self.os.is_empty() && !self.os.iter().any(|o| o == os);
        let arch_excluded = !self.arch.is_empty() && !self.arch.iter().any(|a| a == arch);
        if !os_excluded && !arch_excluded {
            return None;
        }
        let mut parts = Vec::new();
        if !self.os.is_empty() {
            parts.push(self.os.join(", "));
        }
        if !self.arch.is_empty() {
            parts.push(self.arch.join(", "));
        }
        Some(format!("affects {} only", parts.join(" on ")))
    }
}

/// How the target was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetFrom {
    /// The host cargo resolved for.
    Host,
    /// `--target TRIPLE`.
    Flag,
    /// `--target all`.
    All,
    /// A lockfile read without cargo: no target is known.
    Lockfile,
    /// A supplier's SBOM: no target is known.
    Sbom,
    /// A built binary: its list is of its own target, which the list does not name.
    Binary,
}

/// The target an audit judges platform-specific advisories for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRecord {
    /// The target triple (`x86_64-unknown-linux-gnu`), or `all`.
    pub triple: String,
    /// How it was chosen: `host`, `flag` (`--target`), `all` (`--target all`), `lockfile`,
    /// `sbom` or `binary`.
    pub from: TargetFrom,
    /// What that means for platform-specific advisories.
    pub note: String,
    /// A built binary's format (`ELF`, `PE`, `Mach-O`, `WebAssembly`): advisories limited to
    /// operating systems that cannot run it are not applicable, as `cargo audit bin` judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_format: Option<String>,
}

impl TargetRecord {
    /// The target of an inventory.
    pub fn of(origin: &crate::inventory::Origin) -> TargetRecord {
        use crate::inventory::{Origin, Target};
        let one = |triple: &str, from| TargetRecord {
            triple: triple.to_owned(),
            from,
            binary_format: None,
            note: format!(
                "advisories limited to other operating systems or architectures are information: not applicable to {triple}"
            ),
        };
        match origin {
            Origin::CargoMetadata {
                target: Target::Host,
                rustc,
                ..
            } => one(&rustc.host, TargetFrom::Host),
            Origin::CargoMetadata {
                target: Target::Triple(triple),
                ..
            } => one(triple, TargetFrom::Flag),
            Origin::CargoMetadata {
                target: Target::All,
                ..
            } => TargetRecord {
                triple: "all".to_owned(),
                from: TargetFrom::All,
                binary_format: None,
                note: "--target all: every advisory is judged, whichever platform it is limited to"
                    .to_owned(),
            },
            Origin::Lockfile { .. } => TargetRecord {
                triple: "all".to_owned(),
                from: TargetFrom::Lockfile,
                binary_format: None,
                note: "a lockfile does not say which target the product is built for: every advisory is judged, whichever platform it is limited to"
                    .to_owned(),
            },
            Origin::Binary(file) => TargetRecord {
                triple: "all".to_owned(),
                from: TargetFrom::Binary,
                binary_format: Some(file.format.to_owned()),
                note: format!(
                    "a binary's embedded list holds what was compiled in for its target, but does not name the target: advisories limited to operating systems that cannot run it ({}) are information, as cargo audit bin judges them",
                    file.format
                ),
            },
        }
    }

    /// A supplier's SBOM: it does not say which target its components were built for.
    pub fn sbom() -> TargetRecord {
        TargetRecord {
            triple: "all".to_owned(),
            from: TargetFrom::Sbom,
            binary_format: None,
            note: "an SBOM does not say which target the product is built for: every advisory is judged, whichever platform it is limited to"
                .to_owned(),
        }
    }

    /// A triple to judge for, or `None` when every advisory is kept.
    pub fn triple(&self) -> Option<&str> {
        matches!(self.from, TargetFrom::Host | TargetFrom::Flag).then_some(self.triple.as_str())
    }
}

/// Marks each finding whose every record is limited to platforms other than the target's as
/// not applicable (the policy makes it information). Nothing is marked without a target.
pub fn mark(findings: &mut [super::Finding], target: &TargetRecord) {
    if let Some(format) = &target.binary_format {
        for finding in findings.iter_mut().filter(|f| !f.scopes.is_empty()) {
            finding.not_applicable = not_runnable(&finding.scopes, format);
        }
        return;
    }
    let Some(triple) = target.triple() else {
        return;
    };
    for finding in findings {
        if !finding.scopes.is_empty() {
            finding.not_applicable = not_applicable(&finding.scopes, triple);
        }
    }
}

/// Why a merged group of records cannot apply to `target`: only when every record is limited
/// to platforms that exclude it (a record without limits applies everywhere).
pub(crate) fn not_applicable<'a>(
    scopes: impl IntoIterator<Item = &'a Scope>,
    target: &str,
) -> Option<String> {
    let mut reasons = Vec::new();
    for scope in scopes {
        reasons.push(scope.excludes(target)?);
    }
    reasons.sort();
    reasons.dedup();
    (!reasons.is_empty()).then(|| format!("not applicable to {target}: {}", reasons.join("; ")))
}

/// Why a merged group of records cannot apply to a binary of `format`: every record is limited
/// to operating systems that cannot run it (the rule of `cargo audit bin`: a PE runs on
/// Windows, a Mach-O on Apple's systems, an ELF on any other, WebAssembly on `unknown` or
/// `none`). A format this tool does not know keeps every advisory.
fn not_runnable(scopes: &[Scope], format: &str) -> Option<String> {
    let apple = |os: &str| {
        rustsec::platforms::Platform::ALL
            .iter()
            .any(|p| p.target_triple.contains("apple") && p.target_os.as_str() == os)
    };
    let runs = |os: &str| match format {
        "PE" => os == "windows",
        "Mach-O" => apple(os),
        "ELF" => os != "windows" && !apple(os),
        "WebAssembly" => os == "unknown" || os == "none",
        _ => true,
    };
    let mut reasons = Vec::new();
    for scope in scopes {
        if scope.os.is_empty() || scope.os.iter().any(|os| runs(os)) {
            return None;
        }
        reasons.push(format!("affects {} only", scope.os.join(", ")));
    }
    reasons.sort();
    reasons.dedup();
    (!reasons.is_empty()).then(|| {
        format!(
            "not applicable to this binary ({format}): {}",
            reasons.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(os: &[&str], arch: &[&str]) -> Scope {
        Scope {
            os: os.iter().map(|s| (*s).to_owned()).collect(),
            arch: arch.iter().map(|s| (*s).to_owned()).collect(),
            functions: Vec::new(),
        }
    }

    #[test]
    fn platform_limits_are_read_against_the_targets_os_and_arch() {
        let linux = "x86_64-unknown-linux-gnu";
        let windows = scope(&["windows"], &[]);
        assert_eq!(
            not_applicable([&windows], linux).as_deref(),
            Some("not applicable to x86_64-unknown-linux-gnu: affects windows only")
        );
        assert_eq!(not_applicable([&windows], "x86_64-pc-windows-msvc"), None);
        let arm = scope(&[], &["aarch64"]);
        assert!(not_applicable([&arm], linux).is_some());
        assert_eq!(not_applicable([&arm], "aarch64-unknown-linux-gnu"), None);
        // A record without limits in the group keeps it applicable.
        assert_eq!(not_applicable([&windows, &Scope::default()], linux), None);
        // A triple this tool does not know keeps it too.
        assert_eq!(not_applicable([&windows], "x86_64-unknown-nowhere"), None);
    }

    #[test]
    fn a_binary_format_excludes_the_systems_that_cannot_run_it() {
        let windows = scope(&["windows"], &[]);
        let macos = scope(&["macos"], &[]);
        assert!(not_runnable(std::slice::from_ref(&windows), "ELF").is_some());
        assert_eq!(not_runnable(std::slice::from_ref(&windows), "PE"), None);
        assert!(not_runnable(std::slice::from_ref(&macos), "PE").is_some());
        assert_eq!(not_runnable(std::slice::from_ref(&macos), "Mach-O"), None);
        assert_eq!(not_runnable(&[scope(&["linux"], &[])], "ELF"), None);
        assert_eq!(not_runnable(&[windows, Scope::default()], "ELF"), None);
    }

    #[test]
    fn osv_affects_are_read_and_anything_else_ignored() {
        let specific = serde_json::json!({"affects": {"os": ["windows"], "arch": [], "functions": ["tokio::fs::read"]}});
        let scope = Scope::from_osv(Some(&specific));
        assert_eq!(scope.os, ["windows"]);
        assert_eq!(scope.functions, ["tokio::fs::read"]);
        let odd = serde_json::json!({"affects": {"os": "windows"}});
        assert_eq!(Scope::from_osv(Some(&odd)), Scope::default());
    }
}
