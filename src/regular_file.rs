//! Bounded reads of a file that must be a regular file: opened without following a symbolic
//! link in its last component and without waiting on a FIFO, then checked on the handle itself
//! (so a swap between check and read changes nothing) and read up to a size limit. Shared by
//! every stage that reads a file named by hostile input (lockfile, index entries).

use std::io::Read;
use std::path::Path;

/// Why a file was not read. Callers say which file and what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegularFileError {
    #[error("{what}, not a regular file")]
    NotRegular { what: &'static str },
    #[error("larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl RegularFileError {
    /// The file does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, RegularFileError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads `path` if it is a regular file of at most `limit` bytes; a symbolic link as its last
/// component is refused.
pub(crate) fn read(path: &Path, limit: u64) -> Result<Vec<u8>, RegularFileError> {
    read_with_metadata(path, limit).map(|(bytes, _)| bytes)
}

/// Reads a file the user names (a key), following a symbolic link (a mounted secret is often
/// one), if what it leads to is a regular file of at most `limit` bytes: a FIFO or device is
/// refused, never waited on or read without end.
pub(crate) fn read_named(path: &Path, limit: u64) -> Result<Vec<u8>, RegularFileError> {
    let file = open_named(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(RegularFileError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read`], with the metadata of the file that was read (`fstat` on the open file, so it
/// describes these bytes' file whatever the path leads to by now).
pub(crate) fn read_with_metadata(
    path: &Path,
    limit: u64,
) -> Result<(Vec<u8>, std::fs::Metadata), RegularFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // ELOOP: the last component is a symbolic link.
        #[cfg(unix)]
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(RegularFileError::NotRegular {
                what: "a symbolic link",
            });
        }
        Err(error) => return Err(error.into()),
    };
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(RegularFileError::NotRegular {
            what: "a symbolic link",
        });
    }
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(RegularFileError::NotRegular {
            what: kind(meta.file_type()),
        });
    }
    if meta.len() > limit {
        return Err(RegularFileError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    // It may have grown since: what was read is what counts.
    if bytes.len() as u64 > limit {
        return Err(RegularFileError::TooLarge { limit });
    }
    Ok((bytes, meta))
}

/// Opens a file the user names, following a symbolic link, without waiting on a FIFO, and
/// only if what it leads to is a regular file (checked on the handle).
pub(crate) fn open_named(path: &Path) -> Result<std::fs::File, RegularFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(RegularFileError::NotRegular {
            what: kind(meta.file_type()),
        });
    }
    Ok(file)
}

/// [`read_named`] as UTF-8 text, its refusals as I/O errors that say what is wrong.
pub(crate) fn read_named_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let bytes = read_named(path, limit).map_err(|e| match e {
        RegularFileError::Io(e) => e,
        other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
    })?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// What a file that is not a regular file is, in words.
pub(crate) fn kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;
    if kind.is_symlink() {
        return "a symbolic link";
    }
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    "a special file"
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_devices_and_oversized_files_are_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read(&file, 5).unwrap(), b"12345");
        assert!(matches!(
            read(&file, 4),
            Err(RegularFileError::TooLarge { limit: 4 })
        ));
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(
            read(&link, 1 << 30),
            Err(RegularFileError::NotRegular {
                what: "a symbolic link"
            })
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), 1 << 30),
            Err(RegularFileError::NotRegular { what: "a device" })
        ));
        assert!(
            read(&dir.path().join("absent"), 1)
                .unwrap_err()
                .is_not_found()
        );
    }
}
