//! The OSV API (<https://google.github.io/osv.dev/api/>), opt-in: `POST /v1/querybatch` for the
//! components a supplier's SBOM names (at most 1,000 queries a call, following every
//! `next_page_token`), then `GET /v1/vulns/{id}` once for each record, at most
//! [`MAX_RECORDS`] records a run, [`crate::net::IN_FLIGHT`] at once, each kept in the user's
//! cache folder and asked for again only if changed (`crate::net::cache`). Only public
//! packages are
//! ever sent: never a component without an ecosystem, one whose purl names a private source,
//! or one whose name matches the configuration's `private` patterns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

use super::model::Advisory;
use crate::inventory::purl::Component;
use crate::net::{Fetched, Http};

/// The public OSV API.
pub const DEFAULT_URL: &str = "https://api.osv.dev";
const BATCH: usize = 1_000;
const MAX_ANSWER: u64 = 32 * 1024 * 1024;
const MAX_PAGES: usize = 100;
/// Records fetched in one run, at most: each is one request and up to `MAX_ANSWER` bytes. A
/// large product's SBOM names a few hundred; more than this is a server to stop trusting.
pub const MAX_RECORDS: usize = 5_000;

/// Why the OSV API could not be used (exit 2: an audit must not pass on a partial answer).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Http(#[from] crate::net::HttpError),
    #[error("the OSV API at {url} answered something that is not what it documents: {message}")]
    Answer { url: String, message: String },
    #[error("the OSV API at {0} kept paging past {MAX_PAGES} pages: refusing to go on")]
    Pages(String),
    #[error(
        "the OSV API at {url} named {count} or more records for these components, over the limit of {MAX_RECORDS} a run: refusing to fetch them; check --osv-api, or audit the SBOM in parts"
    )]
    Records { url: String, count: usize },
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    results: Vec<BatchResult>,
}

#[derive(Deserialize, Default)]
struct BatchResult {
    #[serde(default)]
    vulns: Vec<VulnRef>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct VulnRef {
    id: String,
}

/// Whether `name` matches a `private` pattern (`*` any run of characters, `?` one), in any
/// case and with `-`, `_` and `.` alike (as registries such as PyPI treat names).
pub fn is_private(name: &str, patterns: &[String]) -> bool {
    let fold = |s: &str| {
        s.to_lowercase()
            .chars()
            .map(|c| if matches!(c, '_' | '.') { '-' } else { c })
            .collect::<String>()
    };
    let name = fold(name);
    patterns
        .iter()
        .any(|p| glob(fold(p).as_bytes(), name.as_bytes()))
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// The components that may be sent: public, with an ecosystem, not matching `private`.
pub fn sendable<'a>(components: &'a [Component], private: &[String]) -> Vec<&'a Component> {
    components
        .iter()
        .filter(|c| c.private.is_none() && c.ecosystem.is_some() && !c.version.is_empty())
        .filter(|c| !is_private(&c.name, private) && !is_private(&c.raw_name, private))
        .collect()
}

/// Asks the API about `components`; returns every record that applies, parsed, in the order
/// of their ids. `cache` is the user's cache folder, already checked, or `None`.
pub fn query(
    http: &Http,
    base: &str,
    components: &[&Component],
    cache: Option<&Path>,
) -> Result<Vec<Advisory>, ApiError> {
    let base = base.trim_end_matches('/');
    let mut ids = BTreeSet::new();
    for chunk in components.chunks(BATCH) {
        record_ids(http, base, chunk, &mut ids)?;
    }
    let folder = cache.map(|root| crate::net::cache::folder(root, "osv-api", base));
    let ids: Vec<String> = ids.into_iter().collect();
    let records = crate::net::concurrently(&ids, crate::net::IN_FLIGHT, |id| {
        record(http, base, id, folder.as_deref())
    })?;
    Ok(records.into_iter().flatten().collect())
}

/// Where the record `id` is kept: the id comes from the server, so the file is named by its
/// digest, which cannot leave the folder.
fn cache_file(folder: &Path, id: &str) -> PathBuf {
    let digest = sha2::Sha256::digest(id.as_bytes());
    folder
        .join(hex::encode(&digest[..2]))
        .join(hex::encode(digest))
}

/// Adds to `ids` the ids of the records that apply to one batch of components, following
/// every query's page tokens, within [`MAX_PAGES`] and [`MAX_RECORDS`].
fn record_ids(
    http: &Http,
    base: &str,
    chunk: &[&Component],
    ids: &mut BTreeSet<String>,
) -> Result<(), ApiError> {
    // Each query is asked again with its page token until it has none.
    let mut pending: Vec<(usize, Option<String>)> = (0..chunk.len()).map(|i| (i, None)).collect();
    let mut pages = 0;
    while !pending.is_empty() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(ApiError::Pages(base.to_owned()));
        }
        let answer = ask_batch(http, base, chunk, &pending)?;
        let mut next = Vec::new();
        for ((i, _), result) in pending.iter().zip(answer.results) {
            ids.extend(result.vulns.into_iter().map(|v| v.id));
            if ids.len() > MAX_RECORDS {
                return Err(ApiError::Records {
                    url: base.to_owned(),
                    count: ids.len(),
                });
            }
            if let Some(token) = result.next_page_token.filter(|t| !t.is_empty()) {
                next.push((*i, Some(token)));
            }
        }
        pending = next;
    }
    Ok(())
}

/// One `POST /v1/querybatch` of the `pending` queries (components of `chunk`, with their page
/// tokens); its answer has one result for each.
fn ask_batch(
    http: &Http,
    base: &str,
    chunk: &[&Component],
    pending: &[(usize, Option<String>)],
) -> Result<BatchAnswer, ApiError> {
    let batch_url = format!("{base}/v1/querybatch");
    let answer_error = |message: String| ApiError::Answer {
        url: batch_url.clone(),
        message,
    };
    let queries: Vec<serde_json::Value> = pending
        .iter()
        .map(|(i, token)| {
            let c = chunk[*i];
            let mut q = json!({
                "version": c.version,
                "package": {"name": c.name, "ecosystem": c.ecosystem},
            });
            if let Some(token) = token {
                q["page_token"] = json!(token);
            }
            q
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "queries": queries }))
        .map_err(|e| answer_error(e.to_string()))?;
    let bytes = match http.post_json(&batch_url, &body, MAX_ANSWER)? {
        Fetched::Body(bytes) => bytes,
        Fetched::NotFound => return Err(answer_error("404 Not Found".to_owned())),
    };
    let answer: BatchAnswer =
        serde_json::from_slice(&bytes).map_err(|e| answer_error(e.to_string()))?;
    if answer.results.len() != pending.len() {
        return Err(answer_error(format!(
            "{} results for {} queries",
            answer.results.len(),
            pending.len()
        )));
    }
    Ok(answer)
}

/// `GET /v1/vulns/{id}`: the record the batch answer named, parsed, as the API's.
fn record(
    http: &Http,
    base: &str,
    id: &str,
    folder: Option<&Path>,
) -> Result<Vec<Advisory>, ApiError> {
    let url = format!(
        "{base}/v1/vulns/{}",
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    let file = folder.map(|folder| cache_file(folder, id));
    let bytes = match crate::net::cache::get(http, &url, MAX_ANSWER, file.as_deref())? {
        Fetched::Body(bytes) => bytes,
        Fetched::NotFound => {
            return Err(ApiError::Answer {
                url,
                message: format!("the record {id} it named does not exist"),
            });
        }
    };
    let mut parsed = super::osv::parse_record(&bytes).map_err(|message| ApiError::Answer {
        url: url.clone(),
        message,
    })?;
    for advisory in &mut parsed {
        advisory.source = super::OSV_API.to_owned();
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_id_from_the_server_cannot_name_a_cache_file_outside_the_folder() {
        let folder = Path::new("/cache/osv-api/x");
        for id in ["../../../etc/passwd", "/abs", "..", "", "a/b", "GHSA-xxxx"] {
            let file = cache_file(folder, id);
            let inside = file.strip_prefix(folder).unwrap();
            assert_eq!(inside.components().count(), 2, "{id}: {}", file.display());
            assert!(
                inside
                    .to_str()
                    .unwrap()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'/'),
                "{id}"
            );
        }
    }

    #[test]
    fn private_patterns() {
        let private = vec!["@example-health/*".to_owned(), "nhs-?ogin".to_owned()];
        assert!(is_private("@example-health/nhs-login", &private));
        assert!(is_private("nhs-login", &private));
        assert!(!is_private("lodash", &private));
        assert!(!is_private("@example-healthy/x", &private));
        // Any case, and PyPI's separators alike.
        let private = vec!["Example_Health*".to_owned()];
        assert!(is_private("example-health-core", &private));
    }
}
