//! Files the user names, through the built binary: non-regular files (a FIFO made with
//! `mkfifo`, `/dev/zero`) are refused at once with an error that names them, wherever a file is
//! read (inputs, `--policy`, `--crd`, `migrate`); an oversized file is refused from its size;
//! writes (`migrate --write` and its backup, `-o`) are atomic and keep the original's mode.
//! Every run is killed after `common::DEADLINE`, so a read that blocks fails the test.
#![cfg(unix)]
#![allow(
    clippy::disallowed_methods,
    reason = "end-to-end tests read and write files and run the binary"
)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Output, diagnostics, eksgate};

const POOL: &str = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        name: default
      requirements: []
  disruption:
    consolidationPolicy: WhenUnderutilized
    expireAfter: 720h
";

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo failed");
    path
}

/// A usage/I-O error (exit 2) that names `what`, well before the deadline.
fn refused(run: &Output, what: &str) {
    run.assert_no_panic();
    assert_eq!(run.code, 2, "{}\n{}", run.shown, run.stderr);
    assert!(
        run.stderr.starts_with("eksgate: error: ") && run.stderr.contains(what),
        "`{}` should say `{what}`:\n{}",
        run.shown,
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "`{}` took {:?}",
        run.shown,
        run.elapsed
    );
}

#[test]
fn a_fifo_is_refused_as_input_policy_crd_and_migrate_target() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = fifo(dir.path(), "pipe.yaml");
    fs::write(dir.path().join("pool.yaml"), POOL).unwrap();
    let fifo_error = "`pipe.yaml`: is a named pipe (FIFO), not a regular file";
    let in_dir = |args: &[&str]| eksgate(args).current_dir(dir.path()).run();

    refused(&in_dir(&["check", "pipe.yaml"]), fifo_error);
    refused(
        &in_dir(&["check", "--crd", "pipe.yaml", "pool.yaml"]),
        fifo_error,
    );
    refused(&in_dir(&["migrate", "pipe.yaml"]), fifo_error);
    refused(&in_dir(&["migrate", "--write", "pipe.yaml"]), fifo_error);
    refused(
        &in_dir(&["check", "--policy", "pipe.yaml", "pool.yaml"]),
        "cannot read policy `pipe.yaml`: is a named pipe (FIFO), not a regular file",
    );
    // Nothing was written beside it, and the pipe is still a pipe.
    assert!(!dir.path().join("pipe.yaml.v1beta1.bak").exists());
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &fs::metadata(&pipe).unwrap().file_type()
    ));
}

#[test]
fn a_fifo_inside_a_checked_directory_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    fifo(dir.path(), "stream.yaml");
    fs::write(dir.path().join("pool.yaml"), POOL).unwrap();
    let run = eksgate(["check", "--format", "json", "."])
        .current_dir(dir.path())
        .run();
    run.assert_no_panic();
    assert_eq!(run.json()["summary"]["files"], 1, "{}", run.stdout);
}

#[test]
fn dev_zero_is_refused_as_policy_input_and_migrate_target() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pool.yaml"), POOL).unwrap();
    let device = "is a character device, not a regular file";
    let in_dir = |args: &[&str]| eksgate(args).current_dir(dir.path()).run();
    refused(
        &in_dir(&["check", "--policy", "/dev/zero", "pool.yaml"]),
        &format!("cannot read policy `/dev/zero`: {device}"),
    );
    refused(
        &in_dir(&["check", "/dev/zero"]),
        &format!("`/dev/zero`: {device}"),
    );
    refused(
        &in_dir(&["check", "--crd", "/dev/zero", "pool.yaml"]),
        &format!("`/dev/zero`: {device}"),
    );
    refused(
        &in_dir(&["migrate", "/dev/zero"]),
        &format!("`/dev/zero`: {device}"),
    );
    refused(
        &in_dir(&["check", "--policy", ".", "pool.yaml"]),
        "cannot read policy `.`: is a directory, not a regular file",
    );
}

#[test]
fn an_oversized_file_is_refused_from_its_size() {
    // 1 TiB by its metadata, no blocks on disk: reading it would take hours and all memory.
    let dir = tempfile::tempdir().unwrap();
    let huge = fs::File::create(dir.path().join("huge.yaml")).unwrap();
    huge.set_len(1 << 40).unwrap();
    let in_dir = |args: &[&str]| eksgate(args).current_dir(dir.path()).run();

    // As an input it is a YAML001 finding on that file, as before.
    let run = in_dir(&["check", "--format", "json", "huge.yaml"]);
    run.assert_no_panic();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let found = diagnostics(&report);
    assert_eq!(found.len(), 1, "{}", run.stdout);
    assert_eq!(found[0]["rule"], "YAML001");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("1099511627776"),
        "{}",
        found[0]
    );
    assert!(run.elapsed < Duration::from_secs(5));

    refused(
        &in_dir(&["check", "--policy", "huge.yaml", "huge.yaml"]),
        "cannot read policy `huge.yaml`: is 1099511627776 bytes, more than the limit of",
    );
    refused(
        &in_dir(&["migrate", "huge.yaml"]),
        "`huge.yaml` is larger than 33554432 bytes",
    );
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("eksgate-tmp"))
        .collect()
}

#[test]
fn migrate_write_keeps_a_private_file_private() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pool.yaml");
    fs::write(&file, POOL).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let run = eksgate(["migrate", "--write", "pool.yaml"])
        .current_dir(dir.path())
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let backup = dir.path().join("pool.yaml.v1beta1.bak");
    assert_eq!(fs::read_to_string(&backup).unwrap(), POOL);
    assert!(
        fs::read_to_string(&file)
            .unwrap()
            .contains("karpenter.sh/v1\n")
    );
    assert_eq!(mode(&file), 0o600, "the converted file");
    assert_eq!(mode(&backup), 0o600, "the backup");
    assert!(temp_files(dir.path()).is_empty());

    // A group-readable file stays group-readable, whatever the umask.
    let shared = dir.path().join("shared.yaml");
    fs::write(&shared, POOL).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o664)).unwrap();
    let run = eksgate(["migrate", "--write", "shared.yaml"])
        .current_dir(dir.path())
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&shared), 0o664);
    assert_eq!(mode(&dir.path().join("shared.yaml.v1beta1.bak")), 0o664);
}

/// Runs eksgate with a file-size limit (`prlimit --fsize`) and SIGXFSZ ignored, so writing past
/// `bytes` fails with EFBIG, as a full disk would fail it.
fn with_file_size_limit(dir: &Path, bytes: usize, args: &[&str]) -> Output {
    let mut all = vec![
        "-c".to_string(),
        "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"".to_string(),
        bytes.to_string(),
        env!("CARGO_BIN_EXE_eksgate").to_string(),
    ];
    all.extend(args.iter().map(|a| (*a).to_string()));
    // A shell that starts the binary under the limit (it exits long before any deadline).
    let out = std::process::Command::new("sh")
        .args(&all)
        .current_dir(dir)
        .env_remove("EKSGATE_POLICY")
        .output()
        .expect("sh runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
        shown: format!("prlimit --fsize={bytes} eksgate {}", args.join(" ")),
    }
}

#[test]
fn a_failed_write_leaves_the_original_byte_identical() {
    if !std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("prlimit unavailable; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pool.yaml");
    fs::write(&file, POOL).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let converted = eksgate(["migrate", "pool.yaml"])
        .current_dir(dir.path())
        .run();
    assert!(
        converted.stdout.len() > POOL.len(),
        "the conversion grows the file"
    );

    // Room for the backup (the original's size), not for the converted text.
    let run = with_file_size_limit(dir.path(), POOL.len(), &["migrate", "--write", "pool.yaml"]);
    assert_eq!(run.code, 2, "{}\n{}", run.shown, run.stderr);
    assert!(
        run.stderr.contains("cannot write `pool.yaml`")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read(&file).unwrap(),
        POOL.as_bytes(),
        "the original is untouched"
    );
    assert_eq!(mode(&file), 0o600);
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    assert!(
        !dir.path().join("pool.yaml.v1beta1.bak").exists(),
        "no backup of a file that was not changed"
    );

    // No room for the backup either: refused before the file is touched.
    let run = with_file_size_limit(dir.path(), 16, &["migrate", "--write", "pool.yaml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("(the backup); nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&file).unwrap(), POOL.as_bytes());
    assert!(temp_files(dir.path()).is_empty());
    assert!(!dir.path().join("pool.yaml.v1beta1.bak").exists());

    // A report that cannot be written whole leaves the previous one as it was.
    let report = dir.path().join("report.json");
    fs::write(&report, "previous").unwrap();
    let run = with_file_size_limit(
        dir.path(),
        16,
        &[
            "check",
            "--format",
            "json",
            "-o",
            "report.json",
            "pool.yaml",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write `report.json`"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&report).unwrap(), "previous");
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn reports_replace_the_previous_one_and_keep_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pool.yaml"), POOL).unwrap();
    let report = dir.path().join("out.sarif");
    fs::write(&report, "old").unwrap();
    fs::set_permissions(&report, fs::Permissions::from_mode(0o640)).unwrap();
    let run = eksgate([
        "check",
        "--format",
        "json",
        "--report",
        "sarif=out.sarif",
        "pool.yaml",
    ])
    .current_dir(dir.path())
    .run();
    run.assert_no_panic();
    let sarif: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap())
        .expect("the SARIF report is whole");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(mode(&report), 0o640);
    assert!(temp_files(dir.path()).is_empty());
}
