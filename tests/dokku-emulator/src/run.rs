//! `run` and `run:detached` (Dokku's `plugins/run` and
//! `scheduler-docker-local/scheduler-run`), with the container's entry point
//! modelled as herokuish's `/exec`.
//!
//! What a Dokku container does with `run`'s words, read from the sources:
//! - `fn-run` (`plugins/run/internal-functions`) takes `--env K=V`/`-e`,
//!   `--no-tty`, `--force-tty`, `--ttl-seconds`, `--cron-id` and
//!   `--concurrency-policy` before the app; everything after the app is the
//!   command.
//! - `scheduler-run` drops a leading `--`, and when the first word is a
//!   Procfile process type replaces it with that command split on whitespace
//!   (`read -ra proc_array <<<"$PROC_CMD"`), printing
//!   `-----> Found '<type>' in Procfile, running that command`; with no
//!   command the shell is `/bin/bash`.
//! - The image's entry point gets the words. For herokuish images it is
//!   `/exec`, whose `procfile-exec` runs `exec $(eval echo "$@")`
//!   (herokuish `include/procfile.bash`): the words are joined, evaluated by
//!   bash, echoed, split on whitespace and globbed, then executed. The
//!   emulator runs exactly that line in a real bash, in the app's deployed
//!   tree with the app's environment, so hostile words fail here as they do
//!   on a real Dokku.

use std::io::Read;
use std::process::Stdio;

use super::ps::{app_env, exit_code, run_foreground, start_instance};
use super::{container, random_hex, state, Code, Ctx};

/// herokuish's `/exec` body (`procfile-exec`, without `setuidgid`).
pub(crate) const HEROKUISH_EXEC: &str = "exec $(eval echo \"$@\")";

/// `run [-e|--env K=V] [--no-tty|--force-tty] [--ttl-seconds N] [--cron-id ID] <app> <cmd...>`
pub(crate) fn run_cmd(ctx: &mut Ctx, args: &[String]) -> Code {
    let (app, words, extra_env) = match run_args(ctx, args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if !st.deployed {
        return not_released(ctx);
    }
    let words = container_args(ctx, &st, &words);
    let mut env = app_env(ctx, &app);
    env.extend(extra_env);
    let mut cmd = container::app_command(ctx, &app, "/bin/bash");
    cmd.arg("-c")
        .arg(HEROKUISH_EXEC)
        .arg("/exec")
        .args(&words)
        .env_clear()
        .envs(env);
    let piped = ctx.io.drop_after.is_some();
    if !piped {
        return match run_foreground(&mut cmd) {
            Ok(code) => code,
            Err(e) => ctx.fail(&format!("cannot run the command: {e}")),
        };
    }
    cmd.stdout(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ctx.fail(&format!("cannot run the command: {e}")),
    };
    if let Some(mut out) = child.stdout.take() {
        let mut buf = [0u8; 8192];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            ctx.io.out_bytes(&buf[..n]);
        }
    }
    exit_code(child.wait())
}

type RunArgs = (String, Vec<String>, Vec<(String, String)>);

fn run_args(ctx: &mut Ctx, args: &[String]) -> Result<RunArgs, Code> {
    let mut env = Vec::new();
    let mut ttl = String::from("86400");
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if let Some(kv) = a.strip_prefix("--env=").or_else(|| a.strip_prefix("-e=")) {
            if let Some((k, v)) = kv.split_once('=') {
                env.push((k.to_owned(), v.to_owned()));
            }
            i += 1;
            continue;
        }
        match a {
            "-e" | "--env" => {
                let Some(kv) = args.get(i + 1) else {
                    ctx.warn(&format!("expected {a} to have an argument"));
                    break;
                };
                if let Some((k, v)) = kv.split_once('=') {
                    env.push((k.to_owned(), v.to_owned()));
                }
                i += 2;
            }
            "--ttl-seconds" => {
                let Some(v) = args.get(i + 1).filter(|v| !v.is_empty()) else {
                    ctx.warn(&format!("expected {a} to have an argument"));
                    break;
                };
                ttl.clone_from(v);
                i += 2;
            }
            "--cron-id" | "--concurrency-policy" => i += 2,
            "--no-tty" | "--force-tty" | "--rm" | "--rm-container" | "--detach" => i += 1,
            s if s.starts_with("--ttl-seconds=") => {
                ttl = s["--ttl-seconds=".len()..].to_owned();
                i += 1
            }
            s if s.starts_with("--cron-id=") || s.starts_with("--concurrency-policy=") => i += 1,
            _ => break,
        }
    }
    // fn-run: an empty value is the default; anything but digits fails
    // before the app is looked at (`is_number`)
    if ttl.is_empty() {
        ttl = "86400".into();
    }
    if !ttl.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ctx.fail("--ttl-seconds must be a positive integer"));
    }
    let Some(app) = args.get(i).cloned() else {
        return Err(ctx.fail("Please specify an app to run the command on"));
    };
    Ok((app, args[i + 1..].to_vec(), env))
}

/// `run` on an app without a released image (scheduler-docker-local).
fn not_released(ctx: &mut Ctx) -> Code {
    ctx.warn("Invalid image stage detected: expected 'release', got ''");
    ctx.warn("Successfully deploy your app to fix dokku run calls");
    1
}

/// The arguments the image's entry point receives (`scheduler-run`): a
/// leading `--` dropped, a Procfile process type replaced by its command
/// split on whitespace, `/bin/bash` when there is no command.
fn container_args(ctx: &mut Ctx, st: &state::AppState, words: &[String]) -> Vec<String> {
    let words = match words.first().map(String::as_str) {
        Some("--") => &words[1..],
        _ => words,
    };
    if let Some(first) = words.first() {
        if let Some(cmd) = st.procfile.get(first) {
            ctx.info1_quiet(&format!(
                "Found '{first}' in Procfile, running that command"
            ));
            let mut all: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
            all.extend(words[1..].iter().cloned());
            return all;
        }
    }
    if words.is_empty() {
        return vec!["/bin/bash".into()];
    }
    words.to_vec()
}

/// A `sh -c` line that runs `words` through herokuish's `/exec` (for the
/// supervisor of detached containers, which takes one command line).
fn exec_line(words: &[String]) -> String {
    let mut line = format!("exec /bin/bash -c {} /exec", sh_quote(HEROKUISH_EXEC));
    for w in words {
        line.push(' ');
        line.push_str(&sh_quote(w));
    }
    line
}

/// POSIX single quoting (the emulator's own; it shares no code with the
/// client).
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// `run:detached [flags] <app> <cmd...>`: prints the container name.
pub(crate) fn run_detached(ctx: &mut Ctx, args: &[String]) -> Code {
    let (app, words, _) = match run_args(ctx, args) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let st = match ctx.load_app(&app) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if !st.deployed {
        return not_released(ctx);
    }
    let n = u16::from_str_radix(&random_hex(2), 16).unwrap_or(0) % 32768;
    let words = container_args(ctx, &st, &words);
    if let Err(e) = start_instance(ctx, &app, &format!("run.{n}"), &exec_line(&words)) {
        return ctx.fail(&e);
    }
    ctx.io.out(&format!("{app}.run.{n}\n"));
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn herokuish(words: &[&str]) -> Vec<u8> {
        let out = Command::new("/bin/bash")
            .arg("-c")
            .arg(HEROKUISH_EXEC)
            .arg("/exec")
            .args(words)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap_or_else(|e| panic!("bash: {e}"));
        out.stdout
    }

    /// What a real herokuish container does with words that reach it
    /// unencoded: quotes and `$()` act, runs of spaces collapse.
    #[test]
    fn herokuish_exec_evaluates_and_resplits() {
        assert_eq!(herokuish(&["echo", "a  b"]), b"a b\n");
        assert_eq!(herokuish(&["echo", "$((1+2))"]), b"3\n");
        assert_eq!(herokuish(&["printf", "%s,", "'x y'"]), b"x,y,");
        // `;` ends a command for `/exec`'s eval: both echoes' output is run.
        assert_eq!(herokuish(&["echo", "x;", "echo", "y"]), b"x y\n");
        assert!(herokuish(&["echo", "it's"]).is_empty());
    }

    /// fn-run's `is_number` check of `--ttl-seconds`, before the app.
    #[test]
    fn ttl_seconds_must_be_digits() {
        let root = std::env::temp_dir().join(format!("run-ttl-{}", std::process::id()));
        let code = crate::run(
            &root,
            vec![
                "run".into(),
                "--ttl-seconds".into(),
                "$(id)".into(),
                "x".into(),
            ],
            None,
        );
        assert_eq!(code, 1, "the ttl check fails before the missing app (20)");
        let code = crate::run(
            &root,
            vec![
                "run".into(),
                "--ttl-seconds=".into(),
                "nope".into(),
                "true".into(),
            ],
            None,
        );
        assert_eq!(
            code, 20,
            "an empty value is the default: the missing app fails"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn detached_lines_run_the_same_words() {
        let line = exec_line(&["printf".into(), "%s,".into(), "a  b".into()]);
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(&line)
            .output()
            .unwrap_or_else(|e| panic!("sh: {e}"));
        assert_eq!(out.stdout, b"a,b,");
    }
}
