//! The reader against real non-regular files (a FIFO made with `mkfifo`, `/dev/zero`), each
//! read on a thread with a deadline: a read that blocks fails the test instead of hanging it.
#![cfg(unix)]
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use eksgate_io::{FileKind, ReadErrorKind, read_user_file};

/// Reads on another thread; panics if it takes longer than two seconds.
fn read_with_deadline(path: &Path, limit: u64) -> Result<Vec<u8>, eksgate_io::ReadError> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(read_user_file(&owned, limit));
    });
    rx.recv_timeout(Duration::from_secs(2))
        .unwrap_or_else(|_| panic!("reading `{}` blocked", path.display()))
}

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo failed");
    path
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = fifo(dir.path(), "pools.yaml");
    let started = Instant::now();
    let err = read_with_deadline(&pipe, 1024).unwrap_err();
    assert!(
        matches!(err.kind, ReadErrorKind::NotRegular(FileKind::Fifo)),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("pools.yaml`: is a named pipe (FIFO), not a regular file; eksgate reads only regular files"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_link_to_a_fifo_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = fifo(dir.path(), "pipe");
    let link = dir.path().join("policy.yaml");
    std::os::unix::fs::symlink(&pipe, &link).unwrap();
    let err = read_with_deadline(&link, 1024).unwrap_err();
    assert!(matches!(
        err.kind,
        ReadErrorKind::NotRegular(FileKind::Fifo)
    ));
}

#[test]
fn dev_zero_is_refused_before_a_byte_is_read() {
    let err = read_with_deadline(Path::new("/dev/zero"), u64::MAX - 1).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ReadErrorKind::NotRegular(FileKind::CharacterDevice)
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "`/dev/zero`: is a character device, not a regular file; eksgate reads only regular files"
    );
}

#[test]
fn a_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = read_with_deadline(&path, 1024).unwrap_err();
    assert!(matches!(
        err.kind,
        ReadErrorKind::NotRegular(FileKind::Socket)
    ));
}

#[test]
fn a_sparse_file_past_the_limit_is_refused_from_its_size() {
    // 1 TiB by its metadata, no blocks on disk: reading it would take hours.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 40).unwrap();
    let started = Instant::now();
    let err = read_with_deadline(&path, 32 << 20).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ReadErrorKind::TooLarge {
                size: 1_099_511_627_776,
                limit: 33_554_432
            }
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}
