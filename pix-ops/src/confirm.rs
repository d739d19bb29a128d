//! Confirmation of destructive workflows.
//!
//! Policy:
//! - a **protected** environment proceeds only when its database's name is
//!   typed: at a terminal prompt, or given as `--confirm <name>` without one.
//!   `--yes` is not enough;
//! - an unprotected environment asks yes/no at a terminal, and needs `--yes`
//!   (or the right `--confirm`) without one;
//! - anything else is refused with an error that says how to proceed.

use crate::error::{OpsError, Result};

/// Asks the user a question at a terminal.
pub trait Prompter {
    /// True when a person can answer (stdin and stderr are terminals).
    fn is_terminal(&self) -> bool;
    /// Shows `prompt` and reads one line (without its newline).
    fn ask(&mut self, prompt: &str) -> std::io::Result<String>;
}

/// A prompter for scripts: never a terminal.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTerminal;

impl Prompter for NoTerminal {
    fn is_terminal(&self) -> bool {
        false
    }
    fn ask(&mut self, _prompt: &str) -> std::io::Result<String> {
        Err(std::io::Error::other("no terminal"))
    }
}

/// What the user passed on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfirmFlags {
    /// `--yes`.
    pub yes: bool,
    /// `--confirm <name>`.
    pub confirm: Option<String>,
}

/// What is being confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmRequest<'a> {
    /// The environment's name.
    pub environment: &'a str,
    /// Whether it is protected.
    pub protected: bool,
    /// The name to type: the database's for a reset, a restore or a
    /// deploy to a protected environment; the app's where no database is
    /// involved.
    pub name: &'a str,
    /// What will happen, in a few words (`destroy and recreate pg-prod`).
    pub action: &'a str,
    /// The command to suggest (`pix db reset production`).
    pub command: &'a str,
}

/// Applies the policy; `Ok(())` means proceed.
pub fn confirm(
    req: &ConfirmRequest<'_>,
    flags: &ConfirmFlags,
    prompter: &mut dyn Prompter,
) -> Result<()> {
    if let Some(given) = &flags.confirm {
        if given == req.name {
            return Ok(());
        }
        return Err(OpsError::Refused {
            message: format!(
                "--confirm {given:?} does not match {} (the name that confirms {}); nothing was done. To {}, pass --confirm {}",
                req.name, req.environment, req.action, req.name
            ),
        });
    }
    if req.protected {
        if !prompter.is_terminal() {
            return Err(OpsError::Refused {
                message: format!(
                    "{} is protected and there is no terminal to confirm on; nothing was done. To {}, run `{} --confirm {}`",
                    req.environment, req.action, req.command, req.name
                ),
            });
        }
        let answer = prompter
            .ask(&format!(
                "{} is protected. This will {}.\nType {} to confirm: ",
                req.environment, req.action, req.name
            ))
            .map_err(|e| OpsError::io("reading the confirmation", e))?;
        if answer.trim() == req.name {
            return Ok(());
        }
        return Err(OpsError::Refused {
            message: format!("confirmation did not match {}; nothing was done", req.name),
        });
    }
    if flags.yes {
        return Ok(());
    }
    if !prompter.is_terminal() {
        return Err(OpsError::Refused {
            message: format!(
                "there is no terminal to confirm on; nothing was done. To {}, run `{} --yes`",
                req.action, req.command
            ),
        });
    }
    let answer = prompter
        .ask(&format!(
            "This will {} ({}). Continue? [y/N] ",
            req.action, req.environment
        ))
        .map_err(|e| OpsError::io("reading the confirmation", e))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(OpsError::Refused {
            message: "not confirmed; nothing was done".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scripted {
        terminal: bool,
        answer: &'static str,
        asked: usize,
    }

    impl Prompter for Scripted {
        fn is_terminal(&self) -> bool {
            self.terminal
        }
        fn ask(&mut self, _prompt: &str) -> std::io::Result<String> {
            self.asked += 1;
            Ok(self.answer.to_string())
        }
    }

    fn req(protected: bool) -> ConfirmRequest<'static> {
        ConfirmRequest {
            environment: "production",
            protected,
            name: "pg-prod",
            action: "destroy and recreate pg-prod",
            command: "pix db reset production",
        }
    }

    fn check(
        protected: bool,
        yes: bool,
        confirm_with: Option<&str>,
        terminal: bool,
        answer: &'static str,
        ok: bool,
    ) {
        let flags = ConfirmFlags {
            yes,
            confirm: confirm_with.map(str::to_string),
        };
        let mut p = Scripted {
            terminal,
            answer,
            asked: 0,
        };
        let r = confirm(&req(protected), &flags, &mut p);
        assert_eq!(r.is_ok(), ok, "protected={protected} yes={yes} confirm={confirm_with:?} terminal={terminal} answer={answer:?}: {r:?}");
        if let Err(e) = r {
            let text = e.to_string();
            assert!(text.contains("nothing was done"), "{text}");
        }
    }

    #[test]
    fn policy_table() {
        // protected: only the typed name proceeds
        check(true, true, None, false, "", false);
        check(true, false, Some("pg-prod"), false, "", true);
        check(true, false, Some("pg-dev"), false, "", false);
        check(true, false, None, true, "pg-prod", true);
        check(true, false, None, true, "yes", false);
        check(true, true, None, true, "y", false);
        // unprotected: yes/no at a terminal, --yes without one
        check(false, false, None, false, "", false);
        check(false, true, None, false, "", true);
        check(false, false, None, true, "y", true);
        check(false, false, None, true, "n", false);
        check(false, false, Some("pg-prod"), false, "", true);
    }

    #[test]
    fn refusal_without_terminal_says_how() {
        let e = confirm(&req(true), &ConfirmFlags::default(), &mut NoTerminal).unwrap_err();
        assert!(e.to_string().contains("--confirm pg-prod"), "{e}");
        let e = confirm(&req(false), &ConfirmFlags::default(), &mut NoTerminal).unwrap_err();
        assert!(e.to_string().contains("--yes"), "{e}");
    }
}
