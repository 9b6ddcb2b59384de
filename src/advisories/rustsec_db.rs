//! The RustSec advisory database in its native layout (`crates/NAME/RUSTSEC-*.md`), read one
//! file at a time with the `rustsec` crate, so that one bad file does not hide the others.

use std::path::{Path, PathBuf};

use rustsec::advisory::Informational;

use super::model::{Advisory, Affected, Kind, cvss_score};
use super::{LoadProblem, Loaded};

/// Reads every advisory under `root/crates`. Files that do not parse are returned as problems;
/// the caller decides whether that is fatal.
pub(crate) fn load(root: &Path) -> Result<Loaded, std::io::Error> {
    let crates = root.join("crates");
    let mut files = Vec::new();
    for dir in sorted_entries(&crates)? {
        if !dir.is_dir() {
            continue;
        }
        for file in sorted_entries(&dir)? {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.starts_with('.') || !name.ends_with(".md") {
                continue;
            }
            files.push(file);
        }
    }
    // Parsing is most of the time: spread the files over the cores, keep their order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = files.len().div_ceil(threads).max(1);
    let parts: Vec<Loaded> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|files| scope.spawn(move || load_files(root, files)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Loaded {
                    problems: vec![LoadProblem {
                        file: "crates".to_owned(),
                        reason: "a parser thread stopped unexpectedly (a bug)".to_owned(),
                    }],
                    ..Loaded::default()
                })
            })
            .collect()
    });
    let mut loaded = Loaded::default();
    for part in parts {
        loaded.advisories.extend(part.advisories);
        loaded.problems.extend(part.problems);
    }
    let mut digest = super::ContentDigest::default();
    for file in &files {
        digest.file(&relative(root, file), &std::fs::read(file)?);
    }
    loaded.digest = Some(digest.finish());
    Ok(loaded)
}

fn load_files(root: &Path, files: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    for file in files {
        match rustsec::Advisory::load_file(file) {
            Ok(advisory) => {
                if let Some(advisory) =
                    convert(&advisory, &relative(root, file), &mut loaded.problems)
                {
                    loaded.advisories.push(advisory);
                }
            }
            Err(error) => loaded.problems.push(LoadProblem {
                file: relative(root, file),
                // rustsec names the file by the path it was given: say it as the report does.
                reason: error_chain(&error)
                    .replace(&file.display().to_string(), &relative(root, file)),
            }),
        }
    }
    loaded
}

fn convert(
    advisory: &rustsec::Advisory,
    file: &str,
    problems: &mut Vec<LoadProblem>,
) -> Option<Advisory> {
    let meta = &advisory.metadata;
    let date = parse_date(meta.date.as_str());
    let Some(date) = date else {
        problems.push(LoadProblem {
            file: file.to_owned(),
            reason: format!("date `{}` is not a date", meta.date.as_str()),
        });
        return None;
    };
    let kind = match &meta.informational {
        None => Kind::Vulnerability,
        Some(Informational::Unmaintained) => Kind::Unmaintained,
        Some(Informational::Unsound) => Kind::Unsound,
        Some(_) => Kind::Notice,
    };
    let mut references: Vec<String> = meta.url.iter().map(ToString::to_string).collect();
    references.extend(meta.references.iter().map(ToString::to_string));
    Some(Advisory {
        id: meta.id.as_str().to_owned(),
        aliases: meta.aliases.iter().map(|a| a.as_str().to_owned()).collect(),
        package: meta.package.as_str().to_owned(),
        crates_io: meta.source.as_ref().is_none_or(|s| s.is_default_registry()),
        kind,
        title: meta.title.clone(),
        date,
        withdrawn: meta.withdrawn.is_some(),
        affected: Affected::Requirements(advisory.versions.clone()),
        ecosystem: "crates.io".to_owned(),
        scores: meta
            .cvss
            .iter()
            .map(|cvss| cvss_score(&cvss.to_string(), super::RUSTSEC))
            .collect(),
        references,
        source: super::RUSTSEC.to_owned(),
    })
}

/// `YYYY-MM-DD` (also the date part of an RFC 3339 time).
pub(crate) fn parse_date(text: &str) -> Option<time::Date> {
    let day = text.get(..10)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, &format).ok()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    Ok(entries)
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| file.display().to_string())
}

/// rustsec's errors say "error parsing FILE" and keep the reason as their source.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        parts.push(inner.to_string());
        source = inner.source();
    }
    parts.join(": ")
}
