//! `eksgate github`: what the GitHub Action does through the REST API: the pull request comment
//! and the deployment records. Every API failure is a warning in the log (and a note in the job
//! summary), never a failed step: the check's verdict is the exit code of `eksgate check`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use eksgate_github::Runner;
use eksgate_github::api::{Api, ApiError, RetryPolicy};
use eksgate_github::{comment, deployment, event};
use eksgate_policy::render::escape;

const GITHUB_AFTER: &str = "\
Run inside GitHub Actions: the token comes from the environment (`GITHUB_TOKEN`), never from a
flag, and the repository, event, API and run from the runner's variables (`GITHUB_REPOSITORY`,
`GITHUB_EVENT_PATH`, `GITHUB_API_URL`, `GITHUB_SERVER_URL`, `GITHUB_RUN_ID`).

Exit codes: 0 done, or the API failed (a warning says why: the check's verdict is not the
comment's), 2 usage error or an unreadable report.";

#[derive(Debug, Args)]
#[command(after_help = GITHUB_AFTER)]
pub struct GithubArgs {
    #[command(subcommand)]
    pub command: GithubCommand,
}

#[derive(Debug, Subcommand)]
pub enum GithubCommand {
    /// Create or update the pull request comment for a `--format json` report.
    Comment(CommentArgs),
    /// Print a string or number of the run's event (`GITHUB_EVENT_PATH`) at a JSON pointer,
    /// e.g. `/pull_request/base/sha`; nothing when it is absent.
    Event {
        #[arg(long, value_name = "POINTER")]
        pointer: String,
    },
    /// Record a GitHub Deployment: `start` creates it (`in_progress`), `finish` sets the result.
    Deployment {
        #[command(subcommand)]
        command: DeploymentCommand,
    },
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The report of `eksgate check --format json` (or `--report json=FILE`).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// What the checked set is called (paths, working directory): one comment per workflow and
    /// target.
    #[arg(long, value_name = "TEXT", default_value = ".")]
    pub target: String,
    /// The checked directory relative to the repository root, for links to the files.
    #[arg(long, value_name = "DIR", default_value = "")]
    pub path_prefix: String,
}

#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// Create a deployment of this run's commit to an environment, set it `in_progress`, and
    /// write its id to the step output `deployment-id`.
    Start {
        /// The environment (e.g. the job's `environment:` name).
        #[arg(long, value_name = "NAME")]
        environment: String,
        /// The ref deployed (default: `GITHUB_SHA`).
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
        /// Shown with the deployment.
        #[arg(long, value_name = "TEXT", default_value = "eksgate deploy")]
        description: String,
    },
    /// Set the final status of a deployment made by `start`.
    Finish {
        /// The deployment id (`start`'s output).
        #[arg(long, value_name = "ID")]
        id: u64,
        /// The deploy's result.
        #[arg(long, value_enum)]
        result: DeployResult,
        /// The environment's URL (the cluster endpoint).
        #[arg(long, value_name = "URL")]
        environment_url: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DeployResult {
    Success,
    Failure,
    Cancelled,
}

struct Env {
    api_url: String,
    server_url: String,
    repo: String,
    token: String,
    run_url: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env() -> Result<Env, String> {
    let repo = var("GITHUB_REPOSITORY")
        .ok_or("GITHUB_REPOSITORY is not set: `eksgate github` runs inside GitHub Actions")?;
    let token = var("GITHUB_TOKEN").ok_or(
        "GITHUB_TOKEN is not set: pass the action's `github-token` input (default `github.token`)",
    )?;
    let server_url = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
    let run_url = var("GITHUB_RUN_ID").map(|id| {
        format!(
            "{}/{repo}/actions/runs/{}",
            server_url.trim_end_matches('/'),
            escape::visible(&id)
        )
    });
    Ok(Env {
        api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
        server_url,
        repo,
        token,
        run_url,
    })
}

/// Retries for tests: `EKSGATE_GITHUB_RETRY_BASE_MS` shortens the back-off.
fn retry_policy() -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    if let Some(ms) = var("EKSGATE_GITHUB_RETRY_BASE_MS").and_then(|v| v.parse().ok()) {
        policy.base_delay = std::time::Duration::from_millis(ms);
    }
    policy
}

/// Runs `eksgate github ...`.
pub fn run(args: GithubArgs) -> Result<u8, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        match args.command {
            GithubCommand::Comment(args) => comment_run(args).await,
            GithubCommand::Deployment { command } => deployment_run(command).await,
            GithubCommand::Event { pointer } => event_field(&pointer),
        }
    })
}

/// A warning annotation and a note in the job summary; the step still passes.
fn degrade(runner: &Runner, what: &str, error: &ApiError) {
    let hint = if error.is_forbidden() {
        " This is expected on pull requests from forks (their token is read-only): the findings are in the job summary and the annotations."
    } else {
        ""
    };
    let message = format!("{what}: {error}.{hint}");
    print!("{}", eksgate_github::warning_command("eksgate", &message));
    let note = format!(
        "\n> [!NOTE]\n> eksgate: {}\n",
        escape::markdown_inline(&message, escape::MarkdownContext::Block)
    );
    if let Err(e) = runner.append_summary(&note) {
        crate::warning(&e.to_string());
    }
}

fn read_event() -> Result<serde_json::Value, String> {
    let event_path = var("GITHUB_EVENT_PATH").ok_or("GITHUB_EVENT_PATH is not set")?;
    let bytes = eksgate_io::read_user_file(std::path::Path::new(&event_path), 64 * 1024 * 1024)
        .map_err(|e| format!("cannot read the event `{event_path}`: {}", e.kind))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the event `{event_path}` is not JSON: {e}"))
}

fn event_field(pointer: &str) -> Result<u8, String> {
    let event = read_event()?;
    let value = match event.pointer(pointer) {
        Some(serde_json::Value::String(s)) => escape::visible(s).into_owned(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    println!("{value}");
    Ok(0)
}

async fn comment_run(args: CommentArgs) -> Result<u8, String> {
    let shown = eksgate_io::shown(&args.report);
    let bytes = eksgate_io::read_user_file(&args.report, 64 * 1024 * 1024)
        .map_err(|e| format!("cannot read report `{shown}`: {}", e.kind))?;
    let report: comment::Report = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "`{shown}`:{}:{}: not an eksgate JSON report (`eksgate check --format json`): {e}",
            e.line(),
            e.column()
        )
    })?;
    if report.version != 1 {
        return Err(format!(
            "`{shown}`: report version {} is not 1: use the eksgate that wrote it",
            report.version
        ));
    }
    let runner = Runner::from_env();
    let event_json = read_event()?;
    let Some(pr) = event::pull_request(&event_json) else {
        println!("eksgate: not a pull request event: no comment");
        return Ok(0);
    };
    let env = env()?;
    let workflow = var("GITHUB_WORKFLOW").unwrap_or_default();
    let ctx = comment::Context {
        server_url: env.server_url.clone(),
        repo: env.repo.clone(),
        head_sha: pr.head_sha.clone(),
        path_prefix: args.path_prefix.clone(),
        run_url: env.run_url.clone(),
        key: format!("{workflow} {}", args.target),
    };
    let body = comment::render(&report, &ctx, comment::MAX_COMMENT_CHARS);
    let api =
        Api::new(&env.api_url, &env.repo, &env.token, retry_policy()).map_err(|e| e.to_string())?;
    let all_clear = report.diagnostics.is_empty();
    match comment::upsert(&api, pr.number, &ctx.key, &body, all_clear).await {
        Ok(comment::Outcome::Created(id)) => {
            println!("eksgate: created the pull request comment {id}")
        }
        Ok(comment::Outcome::Updated { id, duplicates }) => {
            println!("eksgate: updated the pull request comment {id}");
            for removed in &duplicates.removed {
                println!("eksgate: deleted the duplicate pull request comment {removed}");
            }
            for (kept, why) in &duplicates.kept {
                let message =
                    format!("the duplicate pull request comment {kept} was not deleted: {why}");
                print!("{}", eksgate_github::warning_command("eksgate", &message));
            }
        }
        Ok(comment::Outcome::NothingToSay) => {
            println!("eksgate: no findings and no earlier comment: no comment");
        }
        Err(e) => degrade(&runner, "the pull request comment was not written", &e),
    }
    Ok(0)
}

async fn deployment_run(command: DeploymentCommand) -> Result<u8, String> {
    let runner = Runner::from_env();
    let env = env()?;
    let api =
        Api::new(&env.api_url, &env.repo, &env.token, retry_policy()).map_err(|e| e.to_string())?;
    match command {
        DeploymentCommand::Start {
            environment,
            git_ref,
            description,
        } => {
            let git_ref = git_ref
                .or_else(|| var("GITHUB_SHA"))
                .ok_or("no `--ref` and GITHUB_SHA is not set")?;
            let id = match deployment::create(&api, &git_ref, &environment, &description).await {
                Ok(id) => id,
                Err(e) => {
                    degrade(&runner, "the GitHub deployment was not recorded", &e);
                    return Ok(0);
                }
            };
            if let Err(e) = deployment::set_status(
                &api,
                id,
                deployment::State::InProgress,
                env.run_url.as_deref(),
                None,
                "eksgate deploy started",
            )
            .await
            {
                degrade(&runner, "the deployment status was not recorded", &e);
            }
            runner
                .set_output("deployment-id", &id.to_string())
                .map_err(|e| e.to_string())?;
            // The id alone on stdout (the action reads it); the words on stderr.
            println!("{id}");
            eprintln!(
                "eksgate: deployment {id} to `{}` in progress",
                escape::visible(&environment)
            );
        }
        DeploymentCommand::Finish {
            id,
            result,
            environment_url,
        } => {
            let (state, text) = match result {
                DeployResult::Success => (deployment::State::Success, "eksgate deploy succeeded"),
                DeployResult::Failure => (deployment::State::Failure, "eksgate deploy failed"),
                DeployResult::Cancelled => {
                    (deployment::State::Inactive, "eksgate deploy was cancelled")
                }
            };
            match deployment::set_status(
                &api,
                id,
                state,
                env.run_url.as_deref(),
                environment_url.as_deref(),
                text,
            )
            .await
            {
                Ok(()) => println!("eksgate: deployment {id}: {}", state.as_str()),
                Err(e) => degrade(&runner, "the deployment status was not recorded", &e),
            }
        }
    }
    Ok(0)
}
