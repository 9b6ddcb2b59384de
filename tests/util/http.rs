//! A real HTTP/1.1 server on 127.0.0.1 for the tests of everything spoken over HTTP. It answers
//! from a handler, counts connections, and stops by itself (when dropped, or after a minute).

use std::io::{Read, Write};

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does with one request.
pub enum Reply {
    /// A status and a body, with its Content-Length.
    Body(u16, Vec<u8>),
    /// A 200 that claims a Content-Length of this many bytes and sends a few.
    Claims(u64),
    /// A 200 in chunked encoding of this many bytes (no Content-Length).
    Chunked(usize),
    /// Waits this long before answering anything, then closes.
    Stall(Duration),
    /// A status with a `Retry-After: 0` header.
    RetryAfter(u16),
    /// A 200 sent one byte each `interval`: its headers too when `head` is true, else a
    /// Content-Length of a kilobyte and then the body so.
    Trickle { interval: Duration, head: bool },
    /// A redirect (302) to this location.
    Redirect(String),
    /// A 200 with this body and an `ETag` header of this value (quotes included).
    Tagged { etag: String, body: Vec<u8> },
    /// A 304 Not Modified, no body.
    NotModified,
}

pub struct Server {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

/// A handler that sees each request's body and head too: `(path, nth, body, head)`.
type BodyHandler = dyn Fn(&str, usize, &[u8], &str) -> Reply + Send + Sync;

impl Server {
    /// Starts a server; `handler(path, nth request for that path from 1)`.
    pub fn start(handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_with_body(move |path, nth, _| handler(path, nth))
    }

    /// Starts a server whose handler sees each request's body (for POSTs).
    pub fn start_with_body(
        handler: impl Fn(&str, usize, &[u8]) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::start_with_head(move |path, nth, body, _| handler(path, nth, body))
    }

    /// Starts a server whose handler sees each request's body and its request line and
    /// headers (`head`, as received), for conditional requests.
    pub fn start_with_head(
        handler: impl Fn(&str, usize, &[u8], &str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, p, s) = (connections.clone(), paths.clone(), stop.clone());
        let (b, hd) = (bodies.clone(), heads.clone());
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        let (p, h, s, b) = (p.clone(), handler.clone(), s.clone(), b.clone());
                        let hd = hd.clone();
                        std::thread::spawn(move || serve(stream, &p, &b, &hd, &*h, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            port,
            connections,
            paths,
            bodies,
            heads,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }

    /// Every request body received, in order.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.bodies.lock().unwrap().clone()
    }

    /// Every request's line and headers as received, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A port on which nothing listens (bound, then released).
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn serve(
    mut stream: TcpStream,
    paths: &Mutex<Vec<String>>,
    bodies: &Mutex<Vec<Vec<u8>>>,
    heads: &Mutex<Vec<String>>,
    handler: &BodyHandler,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let text = String::from_utf8_lossy(&request[..head_end]).into_owned();
    let length: usize = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = request[head_end..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    bodies.lock().unwrap().push(body.clone());
    heads.lock().unwrap().push(text.clone());
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let nth = {
        let mut seen = paths.lock().unwrap();
        seen.push(path.clone());
        seen.iter().filter(|p| **p == path).count()
    };
    let _ = match handler(&path, nth, &body, &text) {
        Reply::Body(status, body) => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body))
        }
        Reply::RetryAfter(status) => stream.write_all(
            format!("HTTP/1.1 {status} X\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        Reply::Claims(size) => stream.write_all(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\nabc")
                .as_bytes(),
        ),
        Reply::Chunked(size) => {
            let mut result = stream.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            );
            let chunk = vec![b'x'; 1 << 20];
            let mut sent = 0;
            while result.is_ok() && sent < size && !stop.load(Ordering::SeqCst) {
                let n = chunk.len().min(size - sent);
                result = stream
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|()| stream.write_all(&chunk[..n]))
                    .and_then(|()| stream.write_all(b"\r\n"));
                sent += n;
            }
            result.and_then(|()| stream.write_all(b"0\r\n\r\n"))
        }
        Reply::Trickle { interval, head } => {
            let (at_once, slowly) = if head {
                (String::new(), "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n".to_owned())
            } else {
                (
                    "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n".to_owned(),
                    "x".repeat(1024),
                )
            };
            let mut result = stream.write_all(at_once.as_bytes());
            for byte in slowly.bytes() {
                if result.is_err() || stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(interval);
                result = stream.write_all(&[byte]);
            }
            result
        }
        Reply::Redirect(location) => stream.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        Reply::Tagged { etag, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body))
        }
        Reply::NotModified => stream.write_all(
            b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n",
        ),
        Reply::Stall(wait) => {
            std::thread::sleep(wait);
            Ok(())
        }
    };
}

/// A gzip'd tarball like GitHub's archive of the advisory-db repository: a pax global header
/// naming the commit, then `advisory-db-main/...` entries stamped with the commit time.
pub fn advisory_tarball(revision: &str, mtime: u64) -> Vec<u8> {
    advisory_tarball_with(revision, mtime, &[])
}

/// As [`advisory_tarball`], with `extra` files (`crates/NAME/FILE.md`, contents) too.
pub fn advisory_tarball_with(revision: &str, mtime: u64, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let record = format!("comment={revision}\n");
    let pax = format!("{} {record}", record.len() + 3);
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XGlobalHeader);
    header.set_path("pax_global_header").unwrap();
    header.set_size(pax.len() as u64);
    header.set_mtime(mtime);
    header.set_cksum();
    builder.append(&header, pax.as_bytes()).unwrap();
    let mut add = |path: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_cksum();
        builder.append_data(&mut header, path, data).unwrap();
    };
    add("advisory-db-main/README.md", b"# advisory-db\n");
    let src = super::fixture("advisories/rustsec/crates");
    for name in [
        "regex/RUSTSEC-2022-0013.md",
        "smallvec/RUSTSEC-2021-0003.md",
    ] {
        let data = std::fs::read(src.join(name)).unwrap();
        add(&format!("advisory-db-main/crates/{name}"), &data);
    }
    for (name, data) in extra {
        add(&format!("advisory-db-main/{name}"), data);
    }
    let mut gz = builder.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}
