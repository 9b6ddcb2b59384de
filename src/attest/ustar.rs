//! The tar bytes of a submission bundle, written and read by hand: plain ustar headers for a
//! few regular files, the two zero blocks that end an archive, and nothing else.
//!
//! Why not the `tar` crate: readers of tar disagree about its extensions. GNU tar and Python's
//! `tarfile` take an entry's name from a PAX `GNU.sparse.name` record and prefer a PAX `path` to
//! a GNU long name, where the `tar` crate does neither, so one archive could name one file to
//! `verify --bundle` and another to the person who unpacks it. A bundle needs none of the
//! extensions (its files have short fixed names), so this reader accepts only the header this
//! writer makes for a name, a size and a time, byte for byte: nothing is left for two readers to
//! read differently. The writer's headers are the ones the `tar` crate wrote for bundles before
//! (a test holds that), so those bundles still read.

use std::io::{Read, Write};

/// A tar block.
pub const BLOCK: usize = 512;
/// The mode of every file: `rw-r--r--`.
const MODE: u64 = 0o644;
/// The longest name the plain `name` field holds (no `prefix` field, no extensions).
const MAX_NAME: usize = 99;
/// The largest size the 11 octal digits of the `size` field hold.
const MAX_SIZE: u64 = 0o77_777_777_777;

/// Why bytes are not the tar of a bundle.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UstarError {
    #[error("more than {0} bytes once unpacked")]
    TooLarge(u64),
    #[error("it ends inside an entry (truncated)")]
    Truncated,
    #[error("the padding after entry `{0}` is not zeros")]
    Padding(String),
    #[error("it holds data after its archive (a second gzip member or trailing bytes)")]
    Trailing,
    #[error("not a gzip'd tar archive: {0}")]
    Io(String),
}

/// The one header written for a regular file `name` of `size` bytes modified at `mtime`:
/// ustar magic, mode 0644, owner and group 0 with no names, no link, no prefix. `None` if the
/// name or size does not fit a plain ustar header.
pub fn header(name: &str, size: u64, mtime: u64) -> Option<[u8; BLOCK]> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains('\0') || size > MAX_SIZE {
        return None;
    }
    let mut block = [0u8; BLOCK];
    block[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut block[100..108], MODE)?;
    octal(&mut block[108..116], 0)?;
    octal(&mut block[116..124], 0)?;
    octal(&mut block[124..136], size)?;
    octal(&mut block[136..148], mtime)?;
    block[156] = b'0';
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    // The checksum is of the header with its own field as spaces.
    block[148..156].copy_from_slice(b"        ");
    let sum: u64 = block.iter().map(|b| u64::from(*b)).sum();
    block[148..156].fill(0);
    octal(&mut block[148..156], sum)?;
    Some(block)
}

/// Writes `value` as zero-padded octal digits filling all but the field's last byte (a NUL).
fn octal(field: &mut [u8], value: u64) -> Option<()> {
    let digits = format!("{value:0width$o}", width = field.len() - 1);
    if digits.len() != field.len() - 1 {
        return None;
    }
    field[..digits.len()].copy_from_slice(digits.as_bytes());
    Some(())
}

/// Reads an octal field as [`octal`] writes it, and nothing else.
pub fn parse_octal(field: &[u8]) -> Option<u64> {
    let (last, digits) = field.split_last()?;
    if *last != 0 || !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, b| {
        n.checked_mul(8)?.checked_add(u64::from(b - b'0'))
    })
}

/// How many zero bytes pad `size` bytes of content to a whole block.
fn padding(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64 - size
}

/// Writes one file: its header, its bytes, zeros to the block.
pub fn write_file(
    out: &mut impl Write,
    name: &str,
    bytes: &[u8],
    mtime: u64,
) -> std::io::Result<()> {
    let header = header(name, bytes.len() as u64, mtime).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{name}` does not fit a plain tar header"),
        )
    })?;
    out.write_all(&header)?;
    out.write_all(bytes)?;
    let zeros = [0u8; BLOCK];
    out.write_all(&zeros[..padding(bytes.len() as u64) as usize])
}

/// Writes the end of an archive: two zero blocks.
pub fn write_end(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

/// A header as read: its raw block, and the name and size fields as this writer makes them.
#[derive(Debug)]
pub struct Header {
    pub raw: [u8; BLOCK],
    /// The `name` field up to its first NUL (lossy UTF-8, for messages and comparison).
    pub name: String,
    /// The type flag: `b'0'` for a regular file.
    pub kind: u8,
    /// The size, if the field is one this writer makes.
    pub size: Option<u64>,
    /// The time, if the field is one this writer makes.
    pub mtime: Option<u64>,
}

/// Reads a tar stream block by block, never more than `limit` bytes in all (headers, contents,
/// padding and whatever follows the archive), holding no more than one block itself.
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    read: u64,
    limit: u64,
    /// The current entry: its name, bytes of content left, then bytes of padding.
    entry: Option<(String, u64, u64)>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R, limit: u64) -> Reader<R> {
        Reader {
            inner,
            read: 0,
            limit,
            entry: None,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.read
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), UstarError> {
        if self.read + buf.len() as u64 > self.limit {
            return Err(UstarError::TooLarge(self.limit));
        }
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => UstarError::Truncated,
            _ => UstarError::Io(e.to_string()),
        })?;
        self.read += buf.len() as u64;
        Ok(())
    }

    /// The next header, or `None` at the zero block that ends the archive. The previous
    /// entry's content must have been read whole.
    pub fn next_header(&mut self) -> Result<Option<Header>, UstarError> {
        if let Some((name, left, pad)) = self.entry.take() {
            if left > 0 {
                return Err(UstarError::Io(format!("entry `{name}` was not read whole")));
            }
            let mut zeros = [0u8; BLOCK];
            let pad = &mut zeros[..pad as usize];
            self.fill(pad)?;
            if pad.iter().any(|b| *b != 0) {
                return Err(UstarError::Padding(name));
            }
        }
        let mut raw = [0u8; BLOCK];
        self.fill(&mut raw)?;
        if raw.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let end = raw[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&raw[..end]).into_owned();
        let size = parse_octal(&raw[124..136]);
        Ok(Some(Header {
            name,
            kind: raw[156],
            size,
            mtime: parse_octal(&raw[136..148]),
            raw,
        }))
    }

    /// Starts reading an entry of `size` bytes whose header was just read; refused at once if
    /// it would pass the limit.
    pub fn begin(&mut self, name: &str, size: u64) -> Result<(), UstarError> {
        let end = self
            .read
            .checked_add(size)
            .and_then(|n| n.checked_add(padding(size)));
        if end.is_none_or(|end| end > self.limit) {
            return Err(UstarError::TooLarge(self.limit));
        }
        self.entry = Some((name.to_owned(), size, padding(size)));
        Ok(())
    }

    /// After the zero block that ends the archive: only zeros, at least one more block of
    /// them, whole blocks, then the end of the stream; read in small pieces, never kept.
    pub fn finish(mut self) -> Result<R, UstarError> {
        const CHUNK: usize = 64 * 1024;
        static NOTHING: [u8; CHUNK] = [0; CHUNK];
        let mut chunk = [0u8; CHUNK];
        let mut zeros = BLOCK as u64;
        loop {
            let n = self
                .inner
                .read(&mut chunk)
                .map_err(|e| UstarError::Io(e.to_string()))?;
            if n == 0 {
                break;
            }
            self.read += n as u64;
            if self.read > self.limit {
                return Err(UstarError::TooLarge(self.limit));
            }
            // Compared as slices (a `memcmp`), not byte by byte: hundreds of MiB may pass here.
            if chunk[..n] != NOTHING[..n] {
                return Err(UstarError::Trailing);
            }
            zeros += n as u64;
        }
        if zeros < 2 * BLOCK as u64 || !zeros.is_multiple_of(BLOCK as u64) {
            return Err(UstarError::Trailing);
        }
        Ok(self.inner)
    }
}

/// The current entry's content, read through the archive's limit.
impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((_, left, _)) = self.entry.as_mut() else {
            return Ok(0);
        };
        let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                UstarError::Truncated,
            ));
        }
        *left -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_the_ones_bundles_were_made_with() {
        // The `tar` crate made bundles before this writer; those still read.
        for (name, size, mtime) in [
            ("README.txt", 0u64, 0u64),
            ("sbom.cdx.json", 123_456, 1_787_000_000),
            (
                "attestations.intoto.jsonl",
                512 * 1024 * 1024,
                4_000_000_000,
            ),
        ] {
            let mut expected = tar::Header::new_ustar();
            expected.set_size(size);
            expected.set_mode(0o644);
            expected.set_mtime(mtime);
            expected.set_uid(0);
            expected.set_gid(0);
            expected.set_entry_type(tar::EntryType::Regular);
            expected.set_path(name).unwrap();
            expected.set_cksum();
            assert_eq!(
                header(name, size, mtime).unwrap(),
                *expected.as_bytes(),
                "{name}"
            );
        }
        assert!(header(&"a".repeat(100), 0, 0).is_none());
        assert!(header("a", MAX_SIZE + 1, 0).is_none());
    }

    #[test]
    fn octal_fields_read_only_as_written() {
        assert_eq!(parse_octal(b"0000644\0"), Some(0o644));
        assert_eq!(parse_octal(b" 000644\0"), None);
        assert_eq!(parse_octal(b"0000644 "), None);
        assert_eq!(parse_octal(b"0000648\0"), None);
    }

    #[test]
    fn entries_and_the_end_round_trip() {
        let mut out = Vec::new();
        write_file(&mut out, "a", b"hello", 7).unwrap();
        write_end(&mut out).unwrap();
        let mut reader = Reader::new(out.as_slice(), 10_000);
        let header = reader.next_header().unwrap().unwrap();
        assert_eq!(
            (header.name.as_str(), header.size, header.mtime),
            ("a", Some(5), Some(7))
        );
        reader.begin("a", 5).unwrap();
        let mut content = Vec::new();
        reader.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"hello");
        assert!(reader.next_header().unwrap().is_none());
        assert!(reader.finish().unwrap().is_empty());
        // A size past the limit is refused before it is read.
        let mut reader = Reader::new(out.as_slice(), 600);
        reader.next_header().unwrap();
        assert_eq!(reader.begin("a", 5_000), Err(UstarError::TooLarge(600)));
    }

    /// A small deterministic generator (xorshift64*): property tests without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn no_header_changed_in_one_byte_is_the_one_written() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2_000 {
            let name: String = (0..1 + rng.next() % 40)
                .map(|_| char::from(b'a' + (rng.next() % 26) as u8))
                .collect();
            let size = rng.next() % (MAX_SIZE + 1);
            let mtime = rng.next() % (MAX_SIZE + 1);
            let written = header(&name, size, mtime).unwrap();
            let mut reader = Reader::new(&written[..], BLOCK as u64);
            let read = reader.next_header().unwrap().unwrap();
            assert_eq!(
                (&read.name, read.size, read.mtime),
                (&name, Some(size), Some(mtime))
            );
            // Any one byte changed: never the header written for what it then says.
            let mut changed = written;
            let at = (rng.next() % BLOCK as u64) as usize;
            changed[at] ^= 1 + (rng.next() % 255) as u8;
            let mut reader = Reader::new(&changed[..], BLOCK as u64);
            if let Ok(Some(read)) = reader.next_header()
                && let (Some(size), Some(mtime)) = (read.size, read.mtime)
            {
                assert_ne!(header(&read.name, size, mtime), Some(changed), "byte {at}");
            }
        }
    }

    #[test]
    fn any_bytes_are_read_within_the_limit_without_a_panic() {
        let mut rng = Rng(42);
        for round in 0..2_000 {
            let len = (rng.next() % 4096) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Some start as a real entry, so the content and end paths run too.
            if round % 2 == 0 {
                let mut start = Vec::new();
                write_file(&mut start, "a", &bytes[..len.min(700)], 1).unwrap();
                start.extend_from_slice(&bytes);
                bytes = start;
            }
            let limit = rng.next() % 6000;
            let mut reader = Reader::new(bytes.as_slice(), limit);
            loop {
                match reader.next_header() {
                    Ok(Some(h)) => {
                        let size = h.size.unwrap_or(0);
                        if reader.begin(&h.name, size).is_err() {
                            break;
                        }
                        if std::io::copy(&mut reader, &mut std::io::sink()).is_err() {
                            break;
                        }
                    }
                    Ok(None) => {
                        let _ = reader.finish();
                        break;
                    }
                    Err(_) => break,
                }
                assert!(reader.position() <= limit);
            }
        }
    }
}
