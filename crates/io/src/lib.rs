//! Every file a user names goes through this crate: one bounded reader and one atomic writer.
//!
//! - [`read_user_file`] reads only regular files (a symbolic link to one is fine). A named pipe,
//!   a device such as `/dev/zero`, a socket or a directory is refused with an error that names
//!   the path and what it is, without blocking and without reading a byte: the path is checked
//!   before it is opened, opened non-blocking (so a pipe swapped in meanwhile cannot hang the
//!   open), and the opened handle is checked again. At most `limit` bytes are read: a file
//!   larger than that is refused from its size, and one that grows while it is read is cut off
//!   one byte past the limit.
//! - [`write_atomic`] replaces a file so that a reader (or a crash, or a full disk) sees the old
//!   bytes or the new ones, never half of them: a temporary file in the same directory, created
//!   with the original's permission bits from the start, written, flushed to disk, renamed over
//!   the target, and the directory flushed too. On any error the original is untouched and the
//!   temporary file is gone. [`create_atomic`] does the same for a file that must not exist yet
//!   (a backup), and never replaces one that does.
//!
//! Standard input is the callers' business: it is a stream, bounded with [`read_bounded`].

mod read;
mod write;

pub use read::{FileKind, ReadError, ReadErrorKind, read_bounded, read_user_file};
pub use write::{WriteError, create_atomic, write_atomic};

/// A path as it appears in messages: control characters (a line break in a file name) are
/// shown escaped, so a name cannot start a new line of output.
#[must_use]
pub fn shown(path: &std::path::Path) -> String {
    eksgate_policy::render::escape::visible(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(
            shown(std::path::Path::new("k8s/pool.yaml")),
            "k8s/pool.yaml"
        );
        assert_eq!(
            shown(std::path::Path::new("a\n::stop-commands::x\r.yaml")),
            "a\\n::stop-commands::x\\r.yaml"
        );
    }
}
