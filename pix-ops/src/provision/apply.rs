//! Confirming the removals and applying a plan, step by step.

use super::*;

/// Progress of `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyEvent {
    /// A step started.
    Started {
        /// The host.
        host: String,
        /// 1-based.
        index: usize,
        /// Steps in all.
        total: usize,
        /// Its diff line(s), joined.
        what: String,
    },
    /// A step finished.
    Done {
        /// The host.
        host: String,
        /// Its diff line(s).
        what: String,
        /// How long it took.
        elapsed: Duration,
    },
    /// A step failed: apply stops.
    Failed {
        /// The host.
        host: String,
        /// Its diff line(s).
        what: String,
        /// The error.
        error: String,
    },
}

/// What the caller passes to `apply`.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// `--yes` / `--confirm` (removals).
    pub confirm: ConfirmFlags,
    /// How the user runs it (for messages): `pix provision --prune`.
    pub command: String,
}

/// The step that stopped an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedStep {
    /// Its diff line(s).
    pub what: String,
    /// The error.
    pub error: String,
}

/// How an apply went on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The host.
    pub host: String,
    /// The steps done.
    pub done: Vec<String>,
    /// The step that failed, if any.
    pub failed: Option<FailedStep>,
    /// The steps not run (after a failure).
    pub not_done: Vec<String>,
}

impl ApplyReport {
    /// True when every step was done.
    pub fn succeeded(&self) -> bool {
        self.failed.is_none()
    }

    /// `Ok` when every step was done, else an error that says what was done,
    /// what failed, what was not done, and to run again.
    pub fn into_result(self, command: &str) -> Result<ApplyReport> {
        match &self.failed {
            None => Ok(self),
            Some(f) => Err(OpsError::StepFailed {
                message: format!(
                    "provisioning {} stopped at `{}`: {}. Done: {}. Not done: {}. Fix the cause and run `{}` again: it plans from what the host holds now",
                    self.host,
                    f.what,
                    f.error,
                    list(&self.done),
                    list(&self.not_done),
                    if command.is_empty() { "pix provision" } else { command }
                ),
            }),
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join("; ")
    }
}

/// Proof that a plan's removals were confirmed ([`confirm_removals`]);
/// [`apply_host`] refuses a plan whose removals it does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    host: String,
    removals: Vec<Change>,
}

impl Confirmed {
    pub(crate) fn covers(&self, plan: &HostPlan) -> bool {
        self.host == plan.host
            && plan
                .steps
                .iter()
                .filter(|s| s.change.is_removal())
                .all(|s| self.removals.contains(&s.change))
    }
}

/// Asks for the confirmations the plan's removals need (none: nothing is
/// asked); nothing runs when one is refused. Confirm every host's plan
/// first, then apply them (concurrently if you like).
pub fn confirm_removals(
    plan: &HostPlan,
    options: &ApplyOptions,
    prompter: &mut dyn Prompter,
) -> Result<Confirmed> {
    let command = if options.command.is_empty() {
        "pix provision --prune".to_string()
    } else {
        options.command.clone()
    };
    let apps: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.change {
            Change::DestroyApp { app } => Some(app.as_str()),
            _ => None,
        })
        .collect();
    if !apps.is_empty() {
        let action = format!("destroy the apps {} on {}", apps.join(", "), plan.host);
        confirm::confirm(
            &ConfirmRequest {
                environment: &plan.host,
                protected: false,
                name: apps[0],
                action: &action,
                command: &command,
            },
            // `--confirm` names a database; apps are confirmed by --yes or
            // at the terminal.
            &ConfirmFlags {
                yes: options.confirm.yes,
                confirm: None,
            },
            prompter,
        )?;
    }
    for s in &plan.steps {
        if let Change::DestroyService { service } = &s.change {
            let action = format!(
                "destroy the Postgres service {service} and its data on {}",
                plan.host
            );
            confirm::confirm(
                &ConfirmRequest {
                    environment: &plan.host,
                    protected: true,
                    name: service,
                    action: &action,
                    command: &command,
                },
                &ConfirmFlags {
                    yes: false,
                    confirm: options.confirm.confirm.clone(),
                },
                prompter,
            )?;
        }
    }
    Ok(Confirmed {
        host: plan.host.clone(),
        removals: plan
            .steps
            .iter()
            .filter(|s| s.change.is_removal())
            .map(|s| s.change.clone())
            .collect(),
    })
}

/// Runs the step's planned commands, in order, each checked.
async fn run_step(client: &Client, step: &Step) -> Result<()> {
    for command in &step.commands {
        client.execute_ok(command.request()).await?;
    }
    Ok(())
}

/// Applies `plan` (from [`plan`] on the same host) once its removals are
/// `confirmed`: every step in order over `client` (root steps over `root`
/// when given), stopping at the first failure. See
/// [`ApplyReport::into_result`].
pub async fn apply_host(
    client: &Client,
    root: Option<&Client>,
    plan: &HostPlan,
    confirmed: &Confirmed,
    progress: &dyn Progress<ApplyEvent>,
) -> Result<ApplyReport> {
    if !confirmed.covers(plan) {
        return Err(OpsError::Refused {
            message: format!(
                "the removals planned on {} were not confirmed; nothing was done",
                plan.host
            ),
        });
    }
    let mut report = ApplyReport {
        host: plan.host.clone(),
        done: Vec::new(),
        failed: None,
        not_done: Vec::new(),
    };
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let what = step.lines.join("; ");
        if report.failed.is_some() {
            report.not_done.push(what);
            continue;
        }
        progress.event(ApplyEvent::Started {
            host: plan.host.clone(),
            index: i + 1,
            total,
            what: what.clone(),
        });
        let started = Instant::now();
        let on = match (step.needs_root, root) {
            (true, Some(r)) => r,
            _ => client,
        };
        match run_step(on, step).await {
            Ok(()) => {
                progress.event(ApplyEvent::Done {
                    host: plan.host.clone(),
                    what: what.clone(),
                    elapsed: started.elapsed(),
                });
                report.done.push(what);
            }
            Err(e) => {
                let error = e.to_string();
                progress.event(ApplyEvent::Failed {
                    host: plan.host.clone(),
                    what: what.clone(),
                    error: error.clone(),
                });
                report.failed = Some(FailedStep { what, error });
            }
        }
    }
    Ok(report)
}

/// Connects the admin user of `host_name` (shell login with `sudo`) when
/// the plan has root steps and the host names one; `None` otherwise.
pub async fn connect_root(
    config: &PixConfig,
    host_name: &str,
    host: &HostConfig,
    plan: &HostPlan,
    options: &crate::connect::ConnectOptions,
) -> Result<Option<Client>> {
    if !plan.steps.iter().any(|s| s.needs_root) {
        return Ok(None);
    }
    let provision = config.provision_of(host_name);
    match provision.admin_user {
        Some(user) => {
            let key = provision.admin_key.map(|k| key_path(config, k));
            let admin = admin_host(host, &user, key.as_deref());
            // The admin's own key wins over a --key meant for the dokku login.
            let options = crate::connect::ConnectOptions {
                key: if key.is_some() {
                    None
                } else {
                    options.key.clone()
                },
                ..options.clone()
            };
            Ok(Some(crate::connect::connect(&admin, &options).await?))
        }
        None => Ok(None),
    }
}
