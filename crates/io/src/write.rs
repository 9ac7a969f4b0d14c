//! The atomic writer.

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::read::FileKind;
use crate::shown;

/// A file that was not written. The original (if any) is as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Creating, writing, flushing or renaming failed.
    #[error("cannot write `{}`: {source}", shown(.path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The target is a directory.
    #[error("cannot write `{}`: it is {kind}", shown(.path))]
    NotAFile { path: PathBuf, kind: FileKind },
    /// [`create_atomic`]: the target exists already.
    #[error("`{}` already exists", shown(.path))]
    Exists { path: PathBuf },
}

impl WriteError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Replaces (or creates) the file at `path` with `bytes`, atomically.
///
/// The new file keeps the permission bits (and, where allowed, the owner) of the file it
/// replaces, from the moment it is created; a new file gets the usual `0666` less the umask. A
/// symbolic link is followed: its target is replaced, the link stays. A target that is not a
/// regular file (`/dev/stdout`, a pipe) cannot be replaced and is written directly.
///
/// # Errors
/// [`WriteError`]; the original is untouched and no temporary file is left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let target = follow_link(path)?;
    let existing = match std::fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(WriteError::io(path, e)),
    };
    match existing.as_ref().map(|m| (m, FileKind::of(m))) {
        Some((_, Some(FileKind::Directory))) => {
            return Err(WriteError::NotAFile {
                path: path.to_path_buf(),
                kind: FileKind::Directory,
            });
        }
        Some((_, Some(_))) => return write_in_place(path, &target, bytes),
        _ => {}
    }
    let temp = Temp::create(&target, existing.as_ref())?;
    temp.finish(bytes, |from| {
        std::fs::rename(from, &target).map_err(|e| WriteError::io(path, e))
    })?;
    sync_dir(&target).map_err(|e| WriteError::io(path, e))
}

/// Creates the file at `path` with `bytes`, atomically, and only if nothing is there yet (an
/// existing file is never replaced). Its permission bits are those of `like` (the file it
/// copies, say) from the moment it is created.
///
/// # Errors
/// [`WriteError::Exists`] when `path` exists; [`WriteError::Io`] otherwise. Nothing is left
/// behind on error.
pub fn create_atomic(path: &Path, bytes: &[u8], like: Option<&Metadata>) -> Result<(), WriteError> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(WriteError::Exists {
            path: path.to_path_buf(),
        });
    }
    let temp = Temp::create(path, like)?;
    temp.finish(bytes, |from| match std::fs::hard_link(from, path) {
        // A hard link never replaces: the no-overwrite rename. The temporary name goes after.
        Ok(()) => {
            let _ = std::fs::remove_file(from);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(WriteError::Exists {
            path: path.to_path_buf(),
        }),
        // A file system without hard links: look again, then rename.
        Err(_) => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(WriteError::Exists {
                    path: path.to_path_buf(),
                });
            }
            std::fs::rename(from, path).map_err(|e| WriteError::io(path, e))
        }
    })?;
    sync_dir(path).map_err(|e| WriteError::io(path, e))
}

/// The file a symbolic link points to (the path itself otherwise).
fn follow_link(path: &Path) -> Result<PathBuf, WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| WriteError::io(path, e))
        }
        _ => Ok(path.to_path_buf()),
    }
}

/// `/dev/stdout`, a pipe, a terminal: nothing to rename over, so the bytes go straight in.
fn write_in_place(path: &Path, target: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    OpenOptions::new()
        .write(true)
        .open(target)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
        .map_err(|e| WriteError::io(path, e))
}

/// A temporary file beside the target, removed unless it was put in place.
struct Temp {
    path: PathBuf,
    file: Option<File>,
    /// The target, for messages.
    target: PathBuf,
}

impl Temp {
    /// Creates `.NAME.RANDOM.eksgate-tmp` in the target's directory, with the permission bits of
    /// `like` from the start (the umask can only narrow them; they are set exactly right after).
    fn create(target: &Path, like: Option<&Metadata>) -> Result<Self, WriteError> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut last = None;
        for _ in 0..16 {
            let path = dir.join(format!(".{name}.{:08x}.eksgate-tmp", fastrand::u32(..)));
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
                let mode = like.map_or(0o666, |m| m.permissions().mode() & 0o7777);
                options.mode(mode);
            }
            match options.open(&path) {
                Ok(file) => {
                    let temp = Self {
                        path,
                        file: Some(file),
                        target: target.to_path_buf(),
                    };
                    if let Some(meta) = like {
                        temp.copy_owner_and_mode(meta)?;
                    }
                    return Ok(temp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(WriteError::io(target, e)),
            }
        }
        Err(WriteError::io(
            target,
            last.unwrap_or_else(|| std::io::Error::other("no free temporary name")),
        ))
    }

    fn copy_owner_and_mode(&self, meta: &Metadata) -> Result<(), WriteError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            // Keep the owner where allowed (root editing someone's file); else it is ours.
            let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
        }
        let permissions: Permissions = meta.permissions();
        file.set_permissions(permissions)
            .map_err(|e| WriteError::io(&self.target, e))
    }

    /// Writes and flushes `bytes`, then hands the temporary path to `place` (which puts it where
    /// it belongs). The temporary file is removed if anything fails.
    fn finish(
        mut self,
        bytes: &[u8],
        place: impl FnOnce(&Path) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        if let Some(mut file) = self.file.take() {
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| WriteError::io(&self.target, e))?;
        }
        place(&self.path)?;
        // In place: nothing to remove any more.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Flushes the directory entry of `path` (the rename), where the platform allows it.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        match File::open(dir).and_then(|d| d.sync_all()) {
            // Some file systems cannot flush a directory; the rename happened all the same.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".eksgate-tmp"))
            .collect()
    }

    #[test]
    fn replaces_and_creates() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.json");
        write_atomic(&file, b"{}").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"{}");
        write_atomic(&file, b"[1]").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"[1]");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_and_follows_links() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret.yaml");
        std::fs::write(&file, "a").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_atomic(&link, b"b").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"b");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err();
        assert!(matches!(err, WriteError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn create_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.bak");
        create_atomic(&file, b"one", None).unwrap();
        let err = create_atomic(&file, b"two", None).unwrap_err();
        assert!(matches!(err, WriteError::Exists { .. }));
        assert_eq!(std::fs::read(&file).unwrap(), b"one");
        assert!(leftovers(dir.path()).is_empty());
    }
}
