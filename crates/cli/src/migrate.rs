//! `eksgate migrate FILE`: prints the Karpenter v1 form of a file of v1beta1 NodePools and
//! EC2NodeClasses, or rewrites the file (`--write`) after keeping a copy of the original.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use eksgate_policy::migrate::{self, Level};
use eksgate_policy::render::escape::visible;
use eksgate_policy::{Limits, SourceFile};

const MIGRATE_AFTER: &str = "\
Converts what moved or changed between karpenter.sh/v1beta1 and karpenter.sh/v1 (and
karpenter.k8s.aws/v1beta1 and v1): apiVersion, nodeClassRef.group and kind, expireAfter,
WhenUnderutilized, consolidateAfter, kubelet (into the EC2NodeClass of the same file), amiFamily
(into an amiSelectorTerms alias), and the do-not-evict annotation and disruption taint in pod
templates. Comments and untouched lines are kept as they are. Notes go to standard error as
FILE:LINE:COLUMN: note|warning|error: MESSAGE, with the original file's positions.

Examples:
  eksgate migrate k8s/karpenter.yaml > k8s/karpenter.v1.yaml
  eksgate migrate --write k8s/karpenter.yaml    (keeps k8s/karpenter.yaml.v1beta1.bak)
  helm template charts/karpenter-pools | eksgate migrate -

Exit codes: 0 converted (or nothing to convert), 1 something needs converting by hand (see the
`error:` notes; the output has everything else converted), 2 usage or I/O error.";

/// `eksgate migrate` arguments.
#[derive(Debug, Args)]
#[command(after_help = MIGRATE_AFTER)]
pub struct MigrateArgs {
    /// The file to convert (YAML or JSON, several documents allowed); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Rewrite FILE in place instead of printing the result. The original is first copied to
    /// FILE.v1beta1.bak; an existing backup is never overwritten (the command stops instead).
    #[arg(long)]
    pub write: bool,
}

/// The suffix of the copy `--write` keeps of the original.
pub const BACKUP_SUFFIX: &str = ".v1beta1.bak";

/// Runs `eksgate migrate`; the exit code, or a usage or I/O error (exit 2).
pub fn run(args: MigrateArgs) -> Result<u8, String> {
    let limits = Limits::default();
    let from_stdin = args.file.as_os_str() == "-";
    if from_stdin && args.write {
        return Err(
            "`--write` rewrites a file; standard input (`-`) cannot be rewritten, so \
                    redirect the output instead"
                .to_string(),
        );
    }
    // Shown with control characters escaped: a file name cannot break a line of the notes.
    let name = if from_stdin {
        "<stdin>".to_string()
    } else {
        eksgate_io::shown(&args.file)
    };
    let too_large = || {
        format!(
            "`{name}` is larger than {} bytes; eksgate does not convert files that big",
            limits.max_source_bytes
        )
    };
    let limit = limits.max_source_bytes as u64;
    let bytes = if from_stdin {
        eksgate_io::read_bounded(std::io::stdin().lock(), limit)
            .map_err(|e| format!("standard input: {e}"))?
    } else {
        match eksgate_io::read_user_file(&args.file, limit) {
            Ok(bytes) => bytes,
            Err(eksgate_io::ReadError {
                kind: eksgate_io::ReadErrorKind::TooLarge { .. },
                ..
            }) => return Err(too_large()),
            Err(e) => return Err(e.to_string()),
        }
    };
    if bytes.len() > limits.max_source_bytes {
        return Err(too_large());
    }
    let original = bytes.clone();
    let source = SourceFile::from_bytes(name.clone(), bytes, &limits)
        .map_err(|(fault, _)| format!("`{name}`: {fault}"))?;
    let migration = migrate::to_v1_with(&source, &limits);

    let mut err = anstream::stderr();
    for note in &migration.notes {
        let _ = writeln!(
            err,
            "{name}:{}:{}: {}: {}",
            note.line,
            note.column,
            note.level.as_str(),
            visible(&note.message)
        );
    }
    let manual = migration
        .notes
        .iter()
        .filter(|n| n.level == Level::Error)
        .count();

    if args.write {
        if migration.changed {
            let backup = backup_path(&args.file);
            write_backup(&args.file, &backup, &original)?;
            if let Err(e) = eksgate_io::write_atomic(&args.file, migration.text.as_bytes()) {
                // The original is untouched, so the backup made a moment ago is not needed (and
                // would stop the next `--write`).
                let _ = std::fs::remove_file(&backup);
                return Err(format!("{e}; nothing was changed"));
            }
            let _ = writeln!(
                err,
                "{name}: {}; the original is in {}",
                summary(&migration, manual),
                visible(&backup.display().to_string())
            );
        } else {
            let _ = writeln!(
                err,
                "{name}: {}; the file was not changed",
                summary(&migration, manual)
            );
        }
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(migration.text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write output: {e}"))?;
        let _ = writeln!(err, "{name}: {}", summary(&migration, manual));
    }
    Ok(if migration.is_complete() { 0 } else { 1 })
}

/// One line on what happened.
fn summary(migration: &migrate::Migration, manual: usize) -> String {
    let objects = match migration.objects {
        1 => "1 object".to_string(),
        n => format!("{n} objects"),
    };
    let todo = match manual {
        1 => "1 thing needs converting by hand (see the error above)".to_string(),
        n => format!("{n} things need converting by hand (see the errors above)"),
    };
    match (migration.changed, manual) {
        (true, 0) => format!("converted {objects} to Karpenter v1"),
        (true, _) => format!("converted {objects} to Karpenter v1; {todo}"),
        (false, 0) => "nothing to migrate (no Karpenter v1beta1 objects or fields)".to_string(),
        (false, _) => format!("nothing was converted; {todo}"),
    }
}

/// `FILE.v1beta1.bak` beside FILE.
pub fn backup_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// Writes `original` (the bytes that were converted) to `backup`, atomically and with the
/// permission bits of `file` from the start, refusing to overwrite an existing backup.
fn write_backup(file: &Path, backup: &Path, original: &[u8]) -> Result<(), String> {
    let shown = eksgate_io::shown(backup);
    let like = std::fs::metadata(file).ok();
    eksgate_io::create_atomic(backup, original, like.as_ref()).map_err(|e| match e {
        eksgate_io::WriteError::Exists { .. } => format!(
            "`{shown}` already exists (a backup of an earlier `--write`?); move it away or \
             delete it, then run again. Nothing was changed"
        ),
        other => format!("{other} (the backup); nothing was changed"),
    })
}
