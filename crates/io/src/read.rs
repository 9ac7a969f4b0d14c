//! The bounded reader.

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::shown;

/// What a path is, when it is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    Directory,
    /// A named pipe: reading it waits for a writer, and it may never end.
    Fifo,
    /// `/dev/zero`, `/dev/urandom`, a terminal: endless or interactive.
    CharacterDevice,
    BlockDevice,
    Socket,
    /// Anything else that is not a regular file.
    Other,
}

impl FileKind {
    /// What `meta` describes, when it is not a regular file.
    pub(crate) fn of(meta: &Metadata) -> Option<Self> {
        let kind = meta.file_type();
        if kind.is_file() {
            return None;
        }
        if kind.is_dir() {
            return Some(Self::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if kind.is_fifo() {
                return Some(Self::Fifo);
            }
            if kind.is_char_device() {
                return Some(Self::CharacterDevice);
            }
            if kind.is_block_device() {
                return Some(Self::BlockDevice);
            }
            if kind.is_socket() {
                return Some(Self::Socket);
            }
        }
        Some(Self::Other)
    }

    /// `a directory`, `a named pipe (FIFO)`, ...
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Directory => "a directory",
            Self::Fifo => "a named pipe (FIFO)",
            Self::CharacterDevice => "a character device",
            Self::BlockDevice => "a block device",
            Self::Socket => "a socket",
            Self::Other => "not a regular file",
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// Opening or reading failed (missing, no permission, ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a regular file: eksgate does not read pipes, devices, sockets or directories there.
    #[error("is {0}, not a regular file; eksgate reads only regular files")]
    NotRegular(FileKind),
    /// More bytes than the limit. `size` is the file's size, or `limit + 1` when it grew while
    /// it was read.
    #[error("is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
}

/// A file that was not read, and why.
#[derive(Debug, thiserror::Error)]
#[error("`{}`: {kind}", shown(.path))]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub kind: ReadErrorKind,
}

impl ReadError {
    fn new(path: &Path, kind: impl Into<ReadErrorKind>) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: kind.into(),
        }
    }
}

/// Reads the regular file at `path` (following symbolic links), at most `limit` bytes.
///
/// # Errors
/// [`ReadErrorKind::NotRegular`] for a directory, pipe, device or socket (nothing is read and
/// nothing blocks); [`ReadErrorKind::TooLarge`] when the file has more than `limit` bytes;
/// [`ReadErrorKind::Io`] when it cannot be opened or read.
pub fn read_user_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Look before opening: opening a FIFO for reading waits for a writer.
    let before = std::fs::metadata(path).map_err(|e| ReadError::new(path, e))?;
    check(path, &before, limit)?;
    let file = open_nonblocking(path).map_err(|e| ReadError::new(path, e))?;
    // The path may have been replaced between the look and the open: judge what was opened.
    let opened = file.metadata().map_err(|e| ReadError::new(path, e))?;
    check(path, &opened, limit)?;
    let bytes = read_bounded(file, limit).map_err(|e| ReadError::new(path, e))?;
    let size = bytes.len() as u64;
    if size > limit {
        return Err(ReadError::new(
            path,
            ReadErrorKind::TooLarge { size, limit },
        ));
    }
    Ok(bytes)
}

fn check(path: &Path, meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    if let Some(kind) = FileKind::of(meta) {
        return Err(ReadError::new(path, ReadErrorKind::NotRegular(kind)));
    }
    if meta.len() > limit {
        return Err(ReadError::new(
            path,
            ReadErrorKind::TooLarge {
                size: meta.len(),
                limit,
            },
        ));
    }
    Ok(())
}

/// Opens for reading without waiting: a FIFO opens at once (and is then refused), and a
/// terminal does not become the controlling one. A regular file ignores `O_NONBLOCK`.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Reads at most one byte past `limit`, so an endless stream costs no more than the limit.
///
/// # Errors
/// When reading fails.
pub fn read_bounded(reader: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn reads_a_regular_file_and_a_link_to_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pool.yaml");
        std::fs::write(&file, "kind: NodePool\n").unwrap();
        assert_eq!(read_user_file(&file, 100).unwrap(), b"kind: NodePool\n");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.yaml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read_user_file(&link, 100).unwrap(), b"kind: NodePool\n");
        }
    }

    #[test]
    fn a_directory_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_user_file(dir.path(), 100).unwrap_err();
        assert!(matches!(
            err.kind,
            ReadErrorKind::NotRegular(FileKind::Directory)
        ));
        assert!(
            err.to_string()
                .contains("is a directory, not a regular file")
        );
    }

    #[test]
    fn an_oversized_file_is_refused_from_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.yaml");
        std::fs::write(&file, vec![b'#'; 101]).unwrap();
        let err = read_user_file(&file, 100).unwrap_err();
        assert!(
            matches!(
                err.kind,
                ReadErrorKind::TooLarge {
                    size: 101,
                    limit: 100
                }
            ),
            "{err}"
        );
        assert_eq!(read_user_file(&file, 101).unwrap().len(), 101);
    }

    #[cfg(unix)]
    #[test]
    fn a_missing_file_reports_the_os_error() {
        let err = read_user_file(Path::new("no/such/file.yaml"), 100).unwrap_err();
        assert!(matches!(err.kind, ReadErrorKind::Io(_)));
        assert_eq!(
            err.to_string(),
            "`no/such/file.yaml`: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn streams_are_cut_one_byte_past_the_limit() {
        let endless = std::io::repeat(b'x');
        assert_eq!(read_bounded(endless, 10).unwrap().len(), 11);
    }
}
