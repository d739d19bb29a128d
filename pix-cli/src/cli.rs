//! The command-line definition (clap). Completions, the man page and `--help`
//! are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::context::Global;
use crate::parse_cmd::ParseArgs;

const AFTER_HELP: &str = "\
Host and app: --host, then DOKKU_HOST, then pix.toml (--env NAME picks an
environment), then the first git remote dokku@HOST:APP. The app: an argument,
--app, the environment's, or the git remote's.

Examples:
  pix status
  pix deploy development
  pix --env development db reset development --dry-run
  pix --host dokku.example.com apps list --json
  pix help exit-codes";

/// PIX's Dokku operations, for people and for scripts.
#[derive(Debug, Parser)]
#[command(
    name = "pix",
    version,
    about,
    after_help = AFTER_HELP,
    disable_help_subcommand = true,
    propagate_version = true
)]
pub struct Cli {
    /// Flags of every command.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Commands,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Apps: list, info, create, destroy, lock, unlock.
    #[command(
        subcommand,
        after_help = "Example:\n  pix apps list\n  pix apps info api-development"
    )]
    Apps(AppsCmd),
    /// Processes: report, restart, stop, start, rebuild, scale.
    #[command(subcommand, after_help = "Example:\n  pix ps report api-development")]
    Ps(PsCmd),
    /// Environment variables: show (secrets masked), get, set, unset.
    #[command(subcommand, after_help = "Example:\n  pix config show api-development")]
    Config(ConfigCmd),
    /// Postgres services: info, list, create, destroy, link, unlink, connect,
    /// logs, backup, restore, reset.
    #[command(
        subcommand,
        after_help = "Example:\n  pix db list\n  pix db backup development"
    )]
    Db(DbCmd),
    /// Run a command in a new container of the app (interactive on a terminal).
    #[command(
        after_help = "Two forms:\n  pix run APP -- PROG ARG...   PROG receives exactly these words, byte for byte:\n                               nothing in them is read by a shell or by Dokku\n  pix run APP --shell 'LINE'   the container's /bin/sh interprets LINE\n                               ($VARS, pipes, &&), as `heroku run 'LINE'` does\n\nExamples:\n  pix run api-development -- npm run db:migrate\n  pix run api-development -- node -e 'console.log(process.env.NODE_ENV)'\n  pix run api-development --shell 'echo $DATABASE_URL | cut -d@ -f2'\n  pix run api-development -e DEBUG=knex:query -- npm run db:seed\n  printf 'select 1;\\n' | pix run api-development -- psql \"$DATABASE_URL\"\n\nWithout a terminal, stdin is streamed to the command and its output printed as it\ncomes. The exit code is the command's. A word with a NUL byte cannot be passed\nto any program and is refused."
    )]
    Run(RunArgs),
    /// Show the app's logs (-f follows until Ctrl-C).
    #[command(
        after_help = "Examples:\n  pix logs api-development --num 50\n  pix logs api-development -f"
    )]
    Logs(LogsArgs),
    /// Every app on the host in one table (`--all`: every host of pix.toml).
    #[command(after_help = "Example:\n  pix status\n  pix status --all\n  pix status --json")]
    Status(StatusArgs),
    /// SSH keys allowed to push and run commands.
    #[command(
        subcommand,
        name = "ssh-keys",
        after_help = "Example:\n  pix ssh-keys add alice ~/.ssh/id_ed25519.pub"
    )]
    SshKeys(SshKeysCmd),
    /// Persistent storage mounts.
    #[command(
        subcommand,
        after_help = "Example:\n  pix storage mount api-development /var/lib/dokku/data/storage/api:/app/storage"
    )]
    Storage(StorageCmd),
    /// Deploy an environment of pix.toml, or `branch` (the current branch's
    /// app): one fast-forward commit of the deploy folder.
    #[command(
        after_help = "Examples:\n  pix deploy development\n  pix deploy production --confirm pg-prod\n  pix deploy branch --dry-run\n  PIX_SSH_KEY=deploy_key pix deploy development --json\n\nNames: an environment of pix.toml or one of its aliases (also `prod` for\n`production`), or `branch`. Exit codes for CI: 0 deployed (or nothing to\ndeploy), 4 locked or not confirmed, 7 build failed, 8 push rejected; see\n`pix help exit-codes`."
    )]
    Deploy(DeployArgs),
    /// What was deployed to an environment (from the Dokku remote's history).
    #[command(
        after_help = "Examples:\n  pix releases production\n  pix releases development --json\n\nReleases are numbered from the oldest (v1); `*` marks the one running."
    )]
    Releases(ReleasesArgs),
    /// Deploy an earlier release again, as a new fast-forward commit.
    #[command(
        after_help = "Examples:\n  pix rollback development            (the release before the current one)\n  pix rollback production v12 --confirm pg-prod\n  pix rollback development 3f2a9c1 --dry-run\n\nRELEASE: vN as `pix releases` lists it, or a commit (the deploy's or its\nsource's, 7 characters at least). Confirmation, lock and exit codes as\n`pix deploy`."
    )]
    Rollback(RollbackArgs),
    /// Review apps: one app per branch, with its own Postgres service.
    #[command(
        subcommand,
        name = "review-app",
        after_help = "Example:\n  pix review-app up\n  pix review-app list\n  pix review-app prune --yes"
    )]
    ReviewApp(ReviewCmd),
    /// Dokku git remotes: what a push would do, and repairs when it would be
    /// rejected.
    #[command(
        subcommand,
        after_help = "Example:\n  pix remote status\n  pix remote repair dokku --merge"
    )]
    Remote(RemoteCmd),
    /// SSH host keys.
    #[command(
        subcommand,
        after_help = "Example:\n  pix ssh trust-host dokku.example.com"
    )]
    Ssh(SshCmd),
    /// Provision the hosts of pix.toml: plan (`--plan`), then apply.
    #[command(after_help = crate::provision_cmd::AFTER_HELP)]
    Provision(crate::provision_cmd::ProvisionArgs),
    /// Release a version: merge, tag, push, deploy production.
    #[command(after_help = crate::release_cmd::AFTER_HELP)]
    Release(crate::release_cmd::ReleaseArgs),
    /// Pass a command through to Dokku as is; exits with its exit code.
    #[command(
        after_help = "Examples:\n  pix dokku -- version\n  pix dokku -- domains:report api-development"
    )]
    Dokku(DokkuArgs),
    /// Parse a Dokku command's output (stdout on stdin) into JSON.
    ///
    /// Example: `dokku apps:report myapp | pix parse -- apps:report myapp`
    Parse(ParseArgs),
    /// Print shell completions.
    #[command(after_help = "Example:\n  pix completions bash > /etc/bash_completion.d/pix")]
    Completions(CompletionsArgs),
    /// Print the man page (roff) of pix or of one command, or write them all.
    #[command(
        after_help = "Examples:\n  pix man | man -l -\n  pix man deploy | man -l -\n  pix man db reset | man -l -\n  pix man --out-dir target/man   (pix.1, pix-deploy.1, pix-db-reset.1, ...)"
    )]
    Man(ManArgs),
    /// Help on a command, or a topic: `exit-codes`.
    #[command(after_help = "Examples:\n  pix help db reset\n  pix help exit-codes")]
    Help(HelpArgs),
}

/// An optional app argument (default: --app, the environment's, the git remote's).
#[derive(Debug, Args, Clone)]
pub struct AppArg {
    /// The app [default: --app, --env's app, or the git remote's].
    #[arg(value_name = "APP")]
    pub app: Option<String>,
}

/// `pix apps ...`.
#[derive(Debug, Subcommand)]
pub enum AppsCmd {
    /// List the apps.
    #[command(after_help = "Example:\n  pix apps list --json")]
    List,
    /// The app's report (`apps:report`; `apps:info` was the old name).
    #[command(
        alias = "report",
        after_help = "Example:\n  pix apps info api-development"
    )]
    Info(AppArg),
    /// Create an app.
    #[command(after_help = "Example:\n  pix apps create review-42")]
    Create {
        /// The new app's name.
        app: String,
    },
    /// Destroy an app and its data (type its name to confirm).
    #[command(after_help = "Example:\n  pix apps destroy review-42 --confirm review-42")]
    Destroy {
        /// The app.
        app: String,
        /// The app's name, to confirm without a terminal.
        #[arg(long, value_name = "APP")]
        confirm: Option<String>,
    },
    /// Lock deploys of the app.
    #[command(after_help = "Example:\n  pix apps lock api-development")]
    Lock(AppArg),
    /// Release the app's deploy lock.
    #[command(after_help = "Example:\n  pix apps unlock api-development")]
    Unlock(AppArg),
}

/// `pix ps ...`.
#[derive(Debug, Subcommand)]
pub enum PsCmd {
    /// The process report of one app, or of every app.
    #[command(after_help = "Example:\n  pix ps report api-development\n  pix ps report --json")]
    Report(AppArg),
    /// Restart the app.
    #[command(after_help = "Example:\n  pix ps restart api-development")]
    Restart(AppArg),
    /// Stop the app.
    #[command(after_help = "Example:\n  pix ps stop api-development")]
    Stop(AppArg),
    /// Start the app.
    #[command(after_help = "Example:\n  pix ps start api-development")]
    Start(AppArg),
    /// Rebuild and redeploy the app.
    #[command(after_help = "Example:\n  pix ps rebuild api-development")]
    Rebuild(AppArg),
    /// Show the formation, or scale process types.
    #[command(
        after_help = "Examples:\n  pix ps scale api-development\n  pix ps scale api-development web=2 worker=1"
    )]
    Scale {
        /// `[APP] [TYPE=N...]`.
        #[arg(value_name = "APP | TYPE=N")]
        words: Vec<String>,
        /// Change the formation without deploying.
        #[arg(long)]
        skip_deploy: bool,
    },
}

/// `pix config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Show the app's variables (secrets masked unless --reveal).
    #[command(
        after_help = "Example:\n  pix config show api-development\n  pix config show api-development --reveal --json"
    )]
    Show {
        #[command(flatten)]
        app: AppArg,
        /// Show secret values.
        #[arg(long)]
        reveal: bool,
    },
    /// Print one value, exactly.
    #[command(after_help = "Example:\n  pix config get api-development DATABASE_URL")]
    Get {
        /// `[APP] KEY`.
        #[arg(value_name = "APP KEY", num_args = 1..=2, required = true)]
        words: Vec<String>,
    },
    /// Set variables (values may hold any characters).
    #[command(
        after_help = "Example:\n  pix config set api-development GREETING='hello  world' DEBUG=1 --no-restart"
    )]
    Set {
        /// `[APP] KEY=VALUE...`.
        #[arg(value_name = "APP KEY=VALUE", required = true)]
        words: Vec<String>,
        /// Do not restart the app.
        #[arg(long)]
        no_restart: bool,
    },
    /// Unset variables.
    #[command(after_help = "Example:\n  pix config unset api-development DEBUG --no-restart")]
    Unset {
        /// `[APP] KEY...`.
        #[arg(value_name = "APP KEY", required = true)]
        words: Vec<String>,
        /// Do not restart the app.
        #[arg(long)]
        no_restart: bool,
    },
}

/// A service, or an environment of pix.toml (its database).
#[derive(Debug, Args, Clone)]
pub struct ServiceArg {
    /// A Postgres service, or an environment of pix.toml (its database).
    #[arg(value_name = "SERVICE|ENV")]
    pub service: String,
}

/// An optional Postgres service or environment: without one, `--env`'s
/// environment, or pix.toml's only environment.
#[derive(Debug, Args)]
pub struct OptServiceArg {
    /// A Postgres service, or an environment of pix.toml (its database)
    /// [default: --env's, or pix.toml's only environment].
    #[arg(value_name = "SERVICE|ENV")]
    pub service: Option<String>,
}

/// `pix db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// The service's info (password masked unless --reveal).
    #[command(
        after_help = "Example:\n  pix db info pg-development\n  pix db info development --json"
    )]
    Info {
        #[command(flatten)]
        service: OptServiceArg,
        /// Show the password in the DSN.
        #[arg(long)]
        reveal: bool,
    },
    /// List the services.
    #[command(after_help = "Example:\n  pix db list")]
    List,
    /// Create a service.
    #[command(after_help = "Example:\n  pix db create pg-review-42")]
    Create {
        /// The new service's name.
        service: String,
    },
    /// Destroy a service and its data (type its name to confirm).
    #[command(after_help = "Example:\n  pix db destroy pg-review-42 --confirm pg-review-42")]
    Destroy {
        /// The service.
        service: String,
        /// The service's name, to confirm without a terminal.
        #[arg(long, value_name = "SERVICE")]
        confirm: Option<String>,
    },
    /// Link a service to an app (sets DATABASE_URL).
    #[command(after_help = "Example:\n  pix db link pg-review-42 review-42")]
    Link {
        #[command(flatten)]
        service: ServiceArg,
        #[command(flatten)]
        app: AppArg,
        /// The config variable is ALIAS_URL.
        #[arg(long)]
        alias: Option<String>,
        /// Do not restart the app.
        #[arg(long)]
        no_restart: bool,
    },
    /// Unlink a service from an app.
    #[command(after_help = "Example:\n  pix db unlink pg-review-42 review-42")]
    Unlink {
        #[command(flatten)]
        service: ServiceArg,
        #[command(flatten)]
        app: AppArg,
        /// Do not restart the app.
        #[arg(long)]
        no_restart: bool,
    },
    /// An interactive psql on the service (through Dokku).
    #[command(
        after_help = "Example:\n  pix db connect development\n  echo 'select 1' | pix db connect pg-development"
    )]
    Connect(OptServiceArg),
    /// The service container's logs.
    #[command(after_help = "Example:\n  pix db logs pg-development --num 100")]
    Logs {
        #[command(flatten)]
        service: OptServiceArg,
        /// Lines to show.
        #[arg(long, value_name = "N")]
        num: Option<u32>,
    },
    /// Export the database into a dated, verified file.
    #[command(
        after_help = "Example:\n  pix db backup development\n  pix db backup pg-review-42 --backups-dir /srv/backups"
    )]
    Backup {
        #[command(flatten)]
        service: OptServiceArg,
        /// Where backups go [default: pix.toml's backups_dir, else ./backups].
        #[arg(long, value_name = "DIR")]
        backups_dir: Option<PathBuf>,
    },
    /// Restore a backup file into the database (through postgres:import).
    #[command(
        after_help = "Example:\n  pix db restore development backups/development/20260101T000000Z-pg-development.dump --yes"
    )]
    Restore {
        #[command(flatten)]
        service: ServiceArg,
        /// The backup (a pg_dump custom-format archive).
        file: PathBuf,
        /// Proceed without asking (unprotected environments).
        #[arg(long)]
        yes: bool,
        /// The database's name, to confirm without a terminal.
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
    },
    /// Reset an environment's database: verified backup, recreate, relink,
    /// migrate, verify. Resumable.
    #[command(
        after_help = "Examples:\n  pix db reset development --dry-run\n  pix db reset development --yes\n  pix db reset production --confirm pg-prod\n  pix db reset development --resume"
    )]
    Reset(ResetArgs),
}

/// `pix db reset`.
#[derive(Debug, Args, Clone)]
pub struct ResetArgs {
    /// The environment (pix.toml).
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Continue an interrupted reset.
    #[arg(long)]
    pub resume: bool,
    /// Skip the backup (refused on protected environments).
    #[arg(long)]
    pub no_backup: bool,
    /// Proceed without asking (unprotected environments).
    #[arg(long)]
    pub yes: bool,
    /// The database's name, to confirm without a terminal.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// Empty the database in place (keeps the service and its credentials).
    #[arg(long)]
    pub in_place: bool,
    /// Where backups go [default: pix.toml's backups_dir].
    #[arg(long, value_name = "DIR")]
    pub backups_dir: Option<PathBuf>,
}

/// `pix deploy`.
#[derive(Debug, Args, Clone)]
pub struct DeployArgs {
    /// An environment of pix.toml (or an alias: `prod`), or `branch`.
    #[arg(value_name = "ENV|branch")]
    pub environment: String,
    /// Build the deploy commit and show the plan; push nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Proceed without asking (unprotected environments).
    #[arg(long)]
    pub yes: bool,
    /// The database's name, to confirm a protected environment without a
    /// terminal.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
    /// The revision to deploy [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// When there is nothing new to deploy, rebuild the app (`ps:rebuild`).
    #[arg(long)]
    pub rebuild: bool,
}

/// `pix review-app ...`.
#[derive(Debug, Subcommand)]
pub enum ReviewCmd {
    /// Create (if missing) the branch's app and its Postgres service, then
    /// deploy it.
    #[command(after_help = "Example:\n  pix review-app up\n  pix review-app up feature/login")]
    Up {
        /// The branch [default: the current one].
        branch: Option<String>,
    },
    /// Destroy the review app of a branch and its database.
    #[command(after_help = "Example:\n  pix review-app down feature/login --yes")]
    Down {
        /// The branch.
        branch: String,
        /// Proceed without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Destroy the review apps whose branch is gone from the git remote.
    #[command(
        after_help = "Example:\n  pix review-app prune --dry-run\n  pix review-app prune --yes"
    )]
    Prune {
        /// Proceed without asking.
        #[arg(long)]
        yes: bool,
        /// Show what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// The git remote whose branches count.
        #[arg(long, value_name = "REMOTE", default_value = "origin")]
        origin: String,
    },
    /// The review apps: branch, deployed commit, URL.
    #[command(after_help = "Example:\n  pix review-app list --json")]
    List,
}

/// `pix remote ...`.
#[derive(Debug, Subcommand)]
pub enum RemoteCmd {
    /// For each Dokku remote, and each environment of pix.toml that no
    /// remote deploys: what it deploys, whether it holds commits you lack,
    /// what a push would do. Read-only: an app that does not exist is
    /// reported, not fetched (Dokku would create it).
    #[command(
        after_help = "Examples:\n  pix remote status\n  pix remote status --json\n  pix remote status --exit-code   # in CI: fails when a deploy would stop"
    )]
    Status(RemoteStatusArgs),
    /// Merge the remote's commits (--merge) or replace them with a lease
    /// (--force, typed confirmation for a protected environment), so pushes
    /// fast-forward again.
    #[command(
        after_help = "Examples:\n  pix remote repair dokku --merge\n  pix remote repair dokku --force --yes\n  pix remote repair staging --merge"
    )]
    Repair(RepairArgs),
}

/// `pix remote status`.
#[derive(Debug, Args, Clone)]
pub struct RemoteStatusArgs {
    /// Exit 10 when a deploy would stop on commits `pix deploy` did not
    /// make, else 8 when a push would be rejected (like `git diff
    /// --exit-code`), after printing everything.
    #[arg(long)]
    pub exit_code: bool,
}

/// `pix remote repair`.
#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["merge", "force"])))]
pub struct RepairArgs {
    /// The git remote, or an environment of pix.toml (its app's URL).
    pub remote: String,
    /// Merge the remote's deploy branch into the current branch, then push.
    /// For a deploy lineage (an environment with deploy_dir, or deployed by
    /// `pix deploy`): bring the changes of the commits pushed without `pix
    /// deploy` into the current branch (under deploy_dir), then deploy.
    #[arg(long)]
    pub merge: bool,
    /// Push with --force-with-lease against the commit just read. For a
    /// deploy lineage: deploy the current branch on top of the remote's tip,
    /// replacing the changes of the commits pushed without `pix deploy`.
    #[arg(long)]
    pub force: bool,
    /// Proceed without asking (--force; --merge never asks). Not enough for
    /// a remote of a protected environment: see --confirm.
    #[arg(long)]
    pub yes: bool,
    /// The app's name, typed: confirms --force on a remote of a protected
    /// environment without a terminal.
    #[arg(long, value_name = "APP")]
    pub confirm: Option<String>,
}

/// `pix ssh ...`.
#[derive(Debug, Subcommand)]
pub enum SshCmd {
    /// Scan a host's SSH keys, show their fingerprints and, once confirmed,
    /// add them to known_hosts.
    #[command(
        name = "trust-host",
        after_help = "Examples:\n  pix ssh trust-host dokku.example.com\n  pix ssh trust-host 127.0.0.1:2222 --known-hosts ./known_hosts --yes\n\nHOST defaults to the selected host. The file: --known-hosts, else\nPIX_KNOWN_HOSTS, else the pix.toml host's, else ~/.ssh/known_hosts."
    )]
    TrustHost(TrustHostArgs),
}

/// `pix ssh trust-host`.
#[derive(Debug, Args, Clone)]
pub struct TrustHostArgs {
    /// `HOST`, `HOST:PORT` or `[HOST]:PORT` [default: the selected host].
    #[arg(value_name = "HOST")]
    pub host: Option<String>,
    /// Write without asking (compare the fingerprints first).
    #[arg(long)]
    pub yes: bool,
    /// Replace a different key already recorded for the host (after
    /// checking the new fingerprint with the server's administrator).
    #[arg(long)]
    pub replace: bool,
}

/// `pix run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The app [default: --app, --env's app, or the git remote's].
    #[arg(value_name = "APP")]
    pub app: Option<String>,
    /// The program and its arguments, after `--` (received byte for byte).
    #[arg(
        last = true,
        value_name = "PROG ARG",
        required_unless_present = "shell",
        conflicts_with = "shell"
    )]
    pub command: Vec<String>,
    /// A line for the container's shell instead of a program and its words.
    #[arg(long, value_name = "LINE")]
    pub shell: Option<String>,
    /// Set an environment variable for the command (repeatable; `dokku run
    /// -e`'s habit, `--env` being pix's environment flag); the value arrives
    /// byte for byte.
    #[arg(short = 'e', long = "var", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// How the app's image starts a command: `herokuish` (buildpack apps,
    /// Dokku's default builder) or `direct` (a Dockerfile image without an
    /// ENTRYPOINT).
    #[arg(long, value_enum, default_value_t = RunEntry::Herokuish)]
    pub entry: RunEntry,
}

/// `pix run --entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunEntry {
    /// herokuish's `/exec` (buildpack images).
    Herokuish,
    /// The image runs its arguments as they are.
    Direct,
}

/// `pix logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub app: AppArg,
    /// Follow until Ctrl-C (`-t`/`--tail`, Dokku's and Heroku's spelling,
    /// also work).
    #[arg(short, long, short_alias = 't', alias = "tail")]
    pub follow: bool,
    /// Lines per container.
    #[arg(long, short = 'n', value_name = "N")]
    pub num: Option<u32>,
    /// Only this process type.
    #[arg(long = "ps", short = 'p', value_name = "TYPE")]
    pub process: Option<String>,
    /// Messages only (no timestamps and process names).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `pix ssh-keys ...`.
#[derive(Debug, Subcommand)]
pub enum SshKeysCmd {
    /// List the keys.
    #[command(after_help = "Example:\n  pix ssh-keys list")]
    List,
    /// Add a public key under a name.
    #[command(
        after_help = "Example:\n  pix ssh-keys add alice ~/.ssh/id_ed25519.pub\n  cat key.pub | pix ssh-keys add bob -"
    )]
    Add {
        /// The key's name.
        name: String,
        /// The public key file (`-`: stdin).
        file: PathBuf,
    },
    /// Remove the key of this name.
    #[command(after_help = "Example:\n  pix ssh-keys remove alice")]
    Remove {
        /// The key's name.
        name: String,
    },
}

/// `pix storage ...`.
#[derive(Debug, Subcommand)]
pub enum StorageCmd {
    /// List the app's mounts.
    #[command(after_help = "Example:\n  pix storage list api-development")]
    List(AppArg),
    /// Mount `/host/path:/container/path` into the app.
    #[command(
        after_help = "Example:\n  pix storage mount api-development /var/lib/dokku/data/storage/api:/app/storage"
    )]
    Mount {
        /// `[APP] HOST:CONTAINER`.
        #[arg(value_name = "APP MOUNT", num_args = 1..=2, required = true)]
        words: Vec<String>,
    },
    /// Remove a mount.
    #[command(
        after_help = "Example:\n  pix storage unmount api-development /var/lib/dokku/data/storage/api:/app/storage"
    )]
    Unmount {
        /// `[APP] HOST:CONTAINER`.
        #[arg(value_name = "APP MOUNT", num_args = 1..=2, required = true)]
        words: Vec<String>,
    },
}

/// `pix dokku -- ...`.
#[derive(Debug, Args)]
pub struct DokkuArgs {
    /// The Dokku command and its arguments.
    #[arg(
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// `pix releases`.
#[derive(Debug, Args)]
pub struct ReleasesArgs {
    /// An environment of pix.toml (or an alias), or `branch`.
    #[arg(value_name = "ENV")]
    pub environment: String,
}

/// `pix rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// An environment of pix.toml (or an alias), or `branch`.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// The release: `vN` or a commit [default: the one before the current].
    #[arg(value_name = "RELEASE")]
    pub release: Option<String>,
    /// Show the plan; push nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Proceed without asking (unprotected environments).
    #[arg(long)]
    pub yes: bool,
    /// The name to type for a protected environment, given without a terminal.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}

/// `pix man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`deploy`, `db reset`) [default: pix].
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page (pix.1 and one per command) into this folder.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

/// `pix completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `pix help`.
#[derive(Debug, Args)]
pub struct HelpArgs {
    /// A command (`db reset`) or a topic (`exit-codes`).
    pub topic: Vec<String>,
}

/// `pix status`.
#[derive(Debug, Args, Clone, Default)]
pub struct StatusArgs {
    /// Every host of pix.toml at once (one connection each), with a HOST
    /// column.
    #[arg(long)]
    pub all: bool,
}
