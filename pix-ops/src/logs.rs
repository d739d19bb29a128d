//! `pix logs -f`: an app's logs followed, each line parsed as it arrives
//! (`dokku_client::parse::parse_log_line`), until the command ends, the
//! caller's sink closes or the caller stops it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dokku_client::logs::{LogLine, LogsOptions};
use dokku_client::transport::LineSink;
use dokku_client::Client;

use crate::error::Result;

/// Follows `app`'s logs ([`Client::logs_tail`]: `logs APP --tail` with
/// `options`, under the client's follow rule, no time limit by default), calling
/// `on_line` with each line (its `\n`/`\r` removed) parsed as it arrives.
/// Ends when the command ends, when `on_line` returns `false` (its output
/// is closed: no more lines are passed on), or when `stop` resolves
/// (Ctrl-C); the two last are not errors. A command that fails is the
/// classified error.
pub async fn follow<F>(
    client: &Client,
    app: &str,
    options: &LogsOptions,
    on_line: F,
    stop: impl Future<Output = ()>,
) -> Result<()>
where
    F: FnMut(LogLine) -> bool + Send + Unpin + 'static,
{
    let closed = Arc::new(AtomicBool::new(false));
    let sink_closed = Arc::clone(&closed);
    let mut on_line = on_line;
    let sink = LineSink::new(move |bytes: &[u8]| {
        if sink_closed.load(Ordering::SeqCst) {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        if !on_line(dokku_client::parse::parse_log_line(text)) {
            sink_closed.store(true, Ordering::SeqCst);
        }
    });
    let watch_closed = async {
        while !closed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let result = tokio::select! {
        r = client.logs_tail(app, options, sink) => Some(r),
        _ = stop => None,
        _ = watch_closed => None,
    };
    match result {
        Some(Err(e)) => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dokku_client::transport::ScriptedTransport;
    use dokku_client::Output;
    use std::sync::Mutex;

    #[tokio::test]
    async fn lines_arrive_parsed_until_the_sink_closes() {
        let text = concat!(
            "\x1b[36m2026-08-21T10:15:01.123456789Z app[web.1]:\x1b[0m GET / 200\r\n",
            "2026-08-21T10:15:02.000000000Z app[web.1]: second\n",
            "third\n",
        );
        let transport = ScriptedTransport::new()
            .version("0.38.27")
            .case("logs myapp --tail", Output::new(0, text, ""));
        let client = Client::new(transport);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let got = Arc::clone(&seen);
        follow(
            &client,
            "myapp",
            &LogsOptions::default(),
            move |line| {
                let mut got = got.lock().unwrap();
                got.push(line);
                got.len() < 2
            },
            std::future::pending(),
        )
        .await
        .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].process.as_deref(), Some("web.1"));
        assert_eq!(seen[0].message, "GET / 200");
        assert_eq!(seen[1].message, "second");
    }
}
