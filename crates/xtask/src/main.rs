//! `cargo run -p xtask -- generate` writes the generated files; `check` says which are stale.

use std::process::ExitCode;

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let update = match command.as_str() {
        "generate" => true,
        "check" => false,
        _ => {
            eprintln!("usage: cargo run -p xtask -- generate|check");
            return ExitCode::from(2);
        }
    };
    match xtask::sync(&xtask::repository_root(), update) {
        Ok(stale) if stale.is_empty() => ExitCode::SUCCESS,
        Ok(stale) => {
            for path in &stale {
                let verb = if update { "wrote" } else { "stale" };
                eprintln!("{verb}: {}", path.display());
            }
            if update {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::from(2)
        }
    }
}
