//! `eksgate migrate FILE`: prints the Karpenter v1 form of a file of v1beta1 NodePools and
//! EC2NodeClasses, or rewrites the file (`--write`) after keeping a copy of the original.

use std::io::{Read as _, Write as _};
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
        visible(&args.file.display().to_string()).into_owned()
    };
    let bytes = if from_stdin {
        read_bounded(std::io::stdin().lock(), &limits)
            .map_err(|e| format!("standard input: {e}"))?
    } else {
        let file = std::fs::File::open(&args.file).map_err(|e| format!("`{name}`: {e}"))?;
        read_bounded(file, &limits).map_err(|e| format!("`{name}`: {e}"))?
    };
    if bytes.len() > limits.max_source_bytes {
        return Err(format!(
            "`{name}` is larger than {} bytes; eksgate does not convert files that big",
            limits.max_source_bytes
        ));
    }
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
            write_backup(&args.file, &backup)?;
            std::fs::write(&args.file, migration.text.as_bytes()).map_err(|e| {
                format!(
                    "cannot write `{name}`: {e} (the original is in `{}`)",
                    backup.display()
                )
            })?;
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

/// Copies `file` to `backup`, refusing to overwrite an existing backup.
fn write_backup(file: &Path, backup: &Path) -> Result<(), String> {
    let shown = backup.display();
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(backup)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "`{shown}` already exists (a backup of an earlier `--write`?); move it away or \
                     delete it, then run again. Nothing was changed"
                )
            } else {
                format!("cannot create the backup `{shown}`: {e}; nothing was changed")
            }
        })?;
    let copied = std::fs::File::open(file)
        .and_then(|mut original| std::io::copy(&mut original, &mut target))
        .and_then(|_| target.sync_all());
    if let Err(e) = copied {
        let _ = std::fs::remove_file(backup);
        return Err(format!(
            "cannot write the backup `{shown}`: {e}; nothing was changed"
        ));
    }
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(backup, meta.permissions());
    }
    Ok(())
}

/// Reads at most one byte past the limit, so a huge input costs no more than the limit.
fn read_bounded(reader: impl std::io::Read, limits: &Limits) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limits.max_source_bytes as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
