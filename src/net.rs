//! HTTP for every remote this tool speaks to (advisory database download, sparse registry
//! index): one client with connect and total timeouts, bounded retries with backoff on 429 and
//! 5xx, capped response sizes, and the proxy variables (`HTTPS_PROXY`, `NO_PROXY`) honoured.
//! `--offline` is enforced here: an offline client refuses before opening any socket.
//!
//! The timeout is a deadline for the whole answer (connect, headers and body), not for each
//! read: a server that sends one byte a second cannot keep a run going. reqwest's blocking
//! client bounds each read only, so the body is read on a thread of its own and given up at
//! the deadline. Redirects are followed at most [`MAX_REDIRECTS`] times, never from `https`
//! to `http`.
//!
//! Many small answers (index entries, OSV records) are asked for [`IN_FLIGHT`] at once
//! ([`concurrently`]) on the one client, whose pool of connections they share, over HTTP/2
//! when the server offers it (ALPN); [`cache`] keeps them between runs and asks the server
//! only whether they changed.

use std::io::Read;
use std::time::{Duration, Instant};

pub mod cache;
mod concurrent;

pub use concurrent::{IN_FLIGHT, concurrently};

/// Redirects followed for one request, at most.
pub const MAX_REDIRECTS: usize = 10;

/// How patient to be.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub offline: bool,
    /// The whole exchange, per attempt.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// The first backoff; doubled each retry, never more than `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl HttpOptions {
    pub fn new(offline: bool, timeout: Duration) -> HttpOptions {
        HttpOptions {
            offline,
            timeout,
            connect_timeout: Duration::from_secs(10).min(timeout),
            attempts: 3,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
        }
    }
}

/// Why a request gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url}: not fetched, because --offline forbids the network")]
    Offline { url: String },
    #[error("{url}: could not connect ({detail}); check the address, your network or HTTPS_PROXY")]
    Connect { url: String, detail: String },
    #[error("{url}: no complete answer within {seconds} s; try again, or raise --http-timeout")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: the server answered {status} after {attempts} attempt(s)")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("{url}: the answer is larger than the {limit}-byte limit; refusing to read it")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {detail}")]
    Other { url: String, detail: String },
    #[error("{url}: redirect refused: {detail}")]
    Redirect { url: String, detail: String },
    #[error("could not start the HTTP client: {0}")]
    Client(String),
}

/// A successful answer: 200 with its body, or 404 (absent).
#[derive(Debug)]
pub enum Fetched {
    Body(Vec<u8>),
    NotFound,
}

/// What identifies the version of an answer a cache holds, sent back to ask whether it is
/// still current (`If-None-Match`, `If-Modified-Since`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Revalidated {
    /// 200: a body, and how to ask about it next time.
    Body(Vec<u8>, Validators),
    /// 304: what the cache holds is current (no body was sent).
    NotModified,
    NotFound,
}

/// The one HTTP client.
#[derive(Debug)]
pub struct Http {
    client: Option<reqwest::blocking::Client>,
    options: HttpOptions,
}

impl Http {
    pub fn new(options: HttpOptions) -> Result<Http, HttpError> {
        if options.offline {
            return Ok(Http {
                client: None,
                options,
            });
        }
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("charter-audit/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .https_only(false)
            .redirect(reqwest::redirect::Policy::custom(
                |attempt| match redirect_allowed(attempt.previous(), attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refusal) => attempt.error(refusal),
                },
            ))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(Http {
            client: Some(client),
            options,
        })
    }

    /// Whether this client refuses every request (`--offline`).
    pub fn is_offline(&self) -> bool {
        self.client.is_none()
    }

    /// GETs `url`, reading at most `limit` bytes, retrying 429, 5xx and failed connections.
    pub fn get(&self, url: &str, limit: u64) -> Result<Fetched, HttpError> {
        self.get_with(url, limit, None)
    }

    /// As [`Http::get`], with a progress bar labelled `what` on a terminal (for downloads).
    pub fn download(&self, url: &str, limit: u64, what: &str) -> Result<Fetched, HttpError> {
        self.get_with(url, limit, Some(what))
    }

    /// POSTs a JSON `body` to `url`, as [`Http::get`] reads the answer.
    pub fn post_json(&self, url: &str, body: &[u8], limit: u64) -> Result<Fetched, HttpError> {
        plain(url, self.request(url, Some(body), limit, None, None)?)
    }

    /// As [`Http::get`], asking only for a body newer than the one `known` identifies: the
    /// server answers `304 Not Modified`, with no body, when it has none.
    pub fn get_if_changed(
        &self,
        url: &str,
        limit: u64,
        known: Option<&Validators>,
    ) -> Result<Revalidated, HttpError> {
        self.request(url, None, limit, None, known.filter(|k| !k.is_empty()))
    }

    fn get_with(&self, url: &str, limit: u64, what: Option<&str>) -> Result<Fetched, HttpError> {
        plain(url, self.request(url, None, limit, what, None)?)
    }

    fn request(
        &self,
        url: &str,
        body: Option<&[u8]>,
        limit: u64,
        what: Option<&str>,
        known: Option<&Validators>,
    ) -> Result<Revalidated, HttpError> {
        let Some(client) = &self.client else {
            return Err(HttpError::Offline {
                url: url.to_owned(),
            });
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.options.attempts;
            match self.attempt(client, url, body, limit, what, known) {
                Ok(fetched) => return Ok(fetched),
                Err(Retry::No(error)) => return Err(error),
                Err(Retry::After(error, wait)) if last => {
                    let _ = wait;
                    return Err(match error {
                        HttpError::Status { url, status, .. } => HttpError::Status {
                            url,
                            status,
                            attempts: attempt,
                        },
                        other => other,
                    });
                }
                Err(Retry::After(_, wait)) => {
                    let backoff = self
                        .options
                        .backoff
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.options.max_backoff);
                    std::thread::sleep(wait.unwrap_or(backoff).min(self.options.max_backoff));
                }
            }
        }
    }

    fn attempt(
        &self,
        client: &reqwest::blocking::Client,
        url: &str,
        body: Option<&[u8]>,
        limit: u64,
        what: Option<&str>,
        known: Option<&Validators>,
    ) -> Result<Revalidated, Retry> {
        use reqwest::header;
        // One deadline for the whole answer: connect, headers and body.
        let deadline = Instant::now() + self.options.timeout;
        let mut request = match body {
            Some(body) => client
                .post(url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
            None => client.get(url),
        };
        if let Some(known) = known {
            if let Some(etag) = &known.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &known.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date);
            }
        }
        let response = request.send().map_err(|e| self.transport(url, &e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Revalidated::NotFound);
        }
        // A 304 answers only a question asked; to any other request it is a refusal.
        if status == reqwest::StatusCode::NOT_MODIFIED && known.is_some() {
            return Ok(Revalidated::NotModified);
        }
        check_status(url, &response)?;
        let validator = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.len() <= MAX_VALIDATOR_LEN)
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: validator(header::ETAG),
            last_modified: validator(header::LAST_MODIFIED),
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(Retry::No(HttpError::TooLarge {
                url: url.to_owned(),
                limit,
            }));
        }
        let bar = what.map(|what| crate::progress::bytes(response.content_length(), what));
        let read = read_before(response, limit, deadline, bar.clone());
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let body = read.map_err(|e| Retry::No(self.body_error(url, e)))?;
        if body.len() as u64 > limit {
            return Err(Retry::No(HttpError::TooLarge {
                url: url.to_owned(),
                limit,
            }));
        }
        Ok(Revalidated::Body(body, validators))
    }

    /// Why the body could not be read: too slow, or broken off.
    fn body_error(&self, url: &str, error: BodyError) -> HttpError {
        match error {
            BodyError::Late => self.timeout(url),
            BodyError::Io(e) => {
                let timed_out = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                    .is_some_and(reqwest::Error::is_timeout)
                    || e.kind() == std::io::ErrorKind::TimedOut;
                if timed_out {
                    self.timeout(url)
                } else {
                    HttpError::Other {
                        url: url.to_owned(),
                        detail: format!("the answer broke off: {e}"),
                    }
                }
            }
        }
    }

    fn transport(&self, url: &str, error: &reqwest::Error) -> Retry {
        if error.is_timeout() {
            return Retry::No(self.timeout(url));
        }
        if error.is_redirect() {
            return Retry::No(HttpError::Redirect {
                url: url.to_owned(),
                detail: deepest(error),
            });
        }
        let failure = HttpError::Connect {
            url: url.to_owned(),
            detail: deepest(error),
        };
        if error.is_connect() {
            Retry::After(failure, None)
        } else {
            Retry::No(HttpError::Other {
                url: url.to_owned(),
                detail: error.to_string(),
            })
        }
    }

    fn timeout(&self, url: &str) -> HttpError {
        HttpError::Timeout {
            url: url.to_owned(),
            seconds: self.options.timeout.as_secs().max(1),
        }
    }
}

/// The longest `ETag` or `Last-Modified` kept (longer ones are not sent back; a real one is
/// tens of bytes).
const MAX_VALIDATOR_LEN: usize = 1024;

/// The answer to a request that asked no question: a 304 cannot come back (see `attempt`).
fn plain(url: &str, answer: Revalidated) -> Result<Fetched, HttpError> {
    match answer {
        Revalidated::Body(body, _) => Ok(Fetched::Body(body)),
        Revalidated::NotFound => Ok(Fetched::NotFound),
        Revalidated::NotModified => Err(HttpError::Status {
            url: url.to_owned(),
            status: 304,
            attempts: 1,
        }),
    }
}

enum Retry {
    After(HttpError, Option<Duration>),
    No(HttpError),
}

/// A status other than success (404 aside) refuses the answer: a busy server (429) or a
/// failing one (5xx) is asked again, after its `Retry-After` when it names one; any other not.
fn check_status(url: &str, response: &reqwest::blocking::Response) -> Result<(), Retry> {
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(Retry::After(
            HttpError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                attempts: 1,
            },
            wait,
        ));
    }
    if !status.is_success() {
        return Err(Retry::No(HttpError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            attempts: 1,
        }));
    }
    Ok(())
}

/// The deepest cause says what happened ("Connection refused", "dns error...").
fn deepest(error: &dyn std::error::Error) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    detail
}

/// Why a redirect is not followed.
#[derive(Debug, thiserror::Error)]
enum RedirectRefusal {
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
    #[error("from https to http ({0}): an answer that was to be encrypted would not be")]
    Downgrade(String),
}

/// Whether to follow a redirect to `next`, having visited `previous` (the first request
/// included): at most [`MAX_REDIRECTS`], and never from `https` to anything else.
fn redirect_allowed(previous: &[url::Url], next: &url::Url) -> Result<(), RedirectRefusal> {
    if previous.len() > MAX_REDIRECTS {
        return Err(RedirectRefusal::TooMany);
    }
    if previous.iter().any(|u| u.scheme() == "https") && next.scheme() != "https" {
        return Err(RedirectRefusal::Downgrade(next.as_str().to_owned()));
    }
    Ok(())
}

enum BodyError {
    /// The deadline passed first.
    Late,
    Io(std::io::Error),
}

/// Reads at most `limit + 1` bytes of `response`, giving up at `deadline`. The reading runs on
/// a thread of its own, so that a read the server keeps waiting cannot outlast the deadline;
/// a thread given up on ends at its own next read (reqwest bounds each) or deadline check.
fn read_before(
    response: reqwest::blocking::Response,
    limit: u64,
    deadline: Instant,
    bar: Option<indicatif::ProgressBar>,
) -> Result<Vec<u8>, BodyError> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader: Box<dyn Read> = match bar {
            Some(bar) => Box::new(bar.wrap_read(response.take(limit + 1))),
            None => Box::new(response.take(limit + 1)),
        };
        let mut body = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let result = loop {
            if Instant::now() >= deadline {
                break Err(BodyError::Late);
            }
            match reader.read(&mut buf) {
                Ok(0) => break Ok(body),
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(BodyError::Io(e)),
            }
        };
        let _ = send.send(result);
    });
    let wait = deadline.saturating_duration_since(Instant::now());
    match receive.recv_timeout(wait) {
        Ok(result) => result,
        Err(_) => Err(BodyError::Late),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_redirect_never_leaves_https_for_http() {
        let start = [url("https://example.org/db.tar.gz")];
        assert!(redirect_allowed(&start, &url("https://mirror.example.org/db.tar.gz")).is_ok());
        assert!(redirect_allowed(&start, &url("http://mirror.example.org/db.tar.gz")).is_err());
        // Not even after another https hop.
        let two = [url("https://a.example/"), url("https://b.example/")];
        assert!(redirect_allowed(&two, &url("http://c.example/")).is_err());
        // http to https is an upgrade, and allowed.
        assert!(redirect_allowed(&[url("http://a.example/")], &url("https://a.example/")).is_ok());
    }

    #[test]
    fn redirects_are_followed_at_most_ten_times() {
        let visited: Vec<url::Url> = (0..=MAX_REDIRECTS)
            .map(|i| url(&format!("http://127.0.0.1/{i}")))
            .collect();
        assert!(redirect_allowed(&visited[..MAX_REDIRECTS], &url("http://127.0.0.1/x")).is_ok());
        assert!(redirect_allowed(&visited, &url("http://127.0.0.1/x")).is_err());
    }
}
