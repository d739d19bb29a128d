//! The local side of interactive sessions for the native transport: the
//! terminal's size and modes (sent with the `pty-req`), raw mode with the
//! saved settings restored on drop, and a stdin reader that can be stopped.
//!
//! Stdin is read by a thread of its own that waits with `poll` on stdin and
//! on a private wake-up pipe, so it never sits in a `read` nobody wants any
//! more: stopping it (drop of [`StdinPump`]) wakes it, and it has ended when
//! the drop returns. (tokio's own stdin reads in a blocking thread that the
//! runtime waits for at shutdown: a session that ended while nothing was
//! typed would keep `pix` from exiting until a key was pressed.)

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::thread::JoinHandle;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{
    self, ControlFlags, InputFlags, LocalFlags, OutputFlags, SetArg, SpecialCharacterIndices,
    Termios,
};
use russh::Pty;
use tokio::sync::mpsc;

/// True when this process's stdin is a terminal.
pub(crate) fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// The terminal's size as `pty-req` and `window-change` carry it: columns,
/// rows, width and height in pixels (stdin's terminal, as `ssh` asks).
pub(crate) fn window_size() -> Option<(u32, u32, u32, u32)> {
    let ws = rustix::termios::tcgetwinsize(std::io::stdin().as_fd()).ok()?;
    Some((
        u32::from(ws.ws_col),
        u32::from(ws.ws_row),
        u32::from(ws.ws_xpixel),
        u32::from(ws.ws_ypixel),
    ))
}

/// `$TERM`, or empty when unset (as `ssh` sends it).
pub(crate) fn term_name() -> String {
    std::env::var("TERM").unwrap_or_default()
}

/// The local terminal's modes in the `pty-req` encoding (RFC 4254 §8), so the
/// remote terminal erases, interrupts and echoes as this one does.
pub(crate) fn modes(t: &Termios) -> Vec<(Pty, u32)> {
    use SpecialCharacterIndices as C;
    let mut out = Vec::new();
    for (code, index) in [
        (Pty::VINTR, C::VINTR),
        (Pty::VQUIT, C::VQUIT),
        (Pty::VERASE, C::VERASE),
        (Pty::VKILL, C::VKILL),
        (Pty::VEOF, C::VEOF),
        (Pty::VEOL, C::VEOL),
        (Pty::VEOL2, C::VEOL2),
        (Pty::VSTART, C::VSTART),
        (Pty::VSTOP, C::VSTOP),
        (Pty::VSUSP, C::VSUSP),
        (Pty::VREPRINT, C::VREPRINT),
        (Pty::VWERASE, C::VWERASE),
        (Pty::VLNEXT, C::VLNEXT),
        (Pty::VDISCARD, C::VDISCARD),
    ] {
        // An unset character (`_POSIX_VDISABLE`, 0 on Linux) is sent as 255,
        // the protocol's "none".
        let value = match t.control_chars[index as usize] {
            0 => 255,
            c => u32::from(c),
        };
        out.push((code, value));
    }
    let flag = |on: bool| u32::from(on);
    let i = t.input_flags;
    for (code, f) in [
        (Pty::IGNPAR, InputFlags::IGNPAR),
        (Pty::PARMRK, InputFlags::PARMRK),
        (Pty::INPCK, InputFlags::INPCK),
        (Pty::ISTRIP, InputFlags::ISTRIP),
        (Pty::INLCR, InputFlags::INLCR),
        (Pty::IGNCR, InputFlags::IGNCR),
        (Pty::ICRNL, InputFlags::ICRNL),
        (Pty::IXON, InputFlags::IXON),
        (Pty::IXANY, InputFlags::IXANY),
        (Pty::IXOFF, InputFlags::IXOFF),
        (Pty::IMAXBEL, InputFlags::IMAXBEL),
        (Pty::IUTF8, InputFlags::IUTF8),
    ] {
        out.push((code, flag(i.contains(f))));
    }
    let l = t.local_flags;
    for (code, f) in [
        (Pty::ISIG, LocalFlags::ISIG),
        (Pty::ICANON, LocalFlags::ICANON),
        (Pty::ECHO, LocalFlags::ECHO),
        (Pty::ECHOE, LocalFlags::ECHOE),
        (Pty::ECHOK, LocalFlags::ECHOK),
        (Pty::ECHONL, LocalFlags::ECHONL),
        (Pty::NOFLSH, LocalFlags::NOFLSH),
        (Pty::TOSTOP, LocalFlags::TOSTOP),
        (Pty::IEXTEN, LocalFlags::IEXTEN),
        (Pty::ECHOCTL, LocalFlags::ECHOCTL),
        (Pty::ECHOKE, LocalFlags::ECHOKE),
        (Pty::PENDIN, LocalFlags::PENDIN),
    ] {
        out.push((code, flag(l.contains(f))));
    }
    let o = t.output_flags;
    for (code, f) in [
        (Pty::OPOST, OutputFlags::OPOST),
        (Pty::ONLCR, OutputFlags::ONLCR),
        (Pty::OCRNL, OutputFlags::OCRNL),
        (Pty::ONOCR, OutputFlags::ONOCR),
        (Pty::ONLRET, OutputFlags::ONLRET),
    ] {
        out.push((code, flag(o.contains(f))));
    }
    let c = t.control_flags;
    out.push((
        Pty::CS7,
        flag((c & ControlFlags::CSIZE) == ControlFlags::CS7),
    ));
    out.push((
        Pty::CS8,
        flag((c & ControlFlags::CSIZE) == ControlFlags::CS8),
    ));
    out.push((Pty::PARENB, flag(c.contains(ControlFlags::PARENB))));
    out.push((Pty::PARODD, flag(c.contains(ControlFlags::PARODD))));
    out
}

/// The local terminal in raw mode; its saved settings are put back when
/// this is dropped (the session's end, an error, a panic's unwinding).
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// The terminal's current settings (for [`modes`]) and raw mode on.
    pub(crate) fn enter() -> std::io::Result<(RawMode, Termios)> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).map_err(std::io::Error::from)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw).map_err(std::io::Error::from)?;
        Ok((
            RawMode {
                saved: saved.clone(),
            },
            saved,
        ))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

/// What the stdin thread read: bytes, or `None` for end of file.
pub(crate) type Chunk = Option<Vec<u8>>;

/// This process's stdin read by a thread that stops when this is dropped.
pub(crate) struct StdinPump {
    rx: Option<mpsc::Receiver<Chunk>>,
    wake: Option<std::io::PipeWriter>,
    thread: Option<JoinHandle<()>>,
}

impl StdinPump {
    /// Starts the thread.
    pub(crate) fn start() -> std::io::Result<StdinPump> {
        let (wake_r, wake_w) = std::io::pipe()?;
        // A duplicate of fd 0: unbuffered reads, and closing it leaves fd 0.
        let input = File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let (tx, rx) = mpsc::channel::<Chunk>(16);
        let thread = std::thread::Builder::new()
            .name("pix-stdin".into())
            .spawn(move || pump(input, wake_r, tx))?;
        Ok(StdinPump {
            rx: Some(rx),
            wake: Some(wake_w),
            thread: Some(thread),
        })
    }

    /// The next chunk; `None` once the thread has ended.
    pub(crate) async fn recv(&mut self) -> Option<Chunk> {
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await,
            None => None,
        }
    }
}

fn pump(mut input: File, wake: std::io::PipeReader, tx: mpsc::Sender<Chunk>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut fds = [
            PollFd::new(input.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return; // asked to stop (or the other end is gone)
        }
        if fds[0].revents().is_none_or(|r| r.is_empty()) {
            continue;
        }
        match input.read(&mut buf) {
            Ok(0) => {
                let _ = tx.blocking_send(None);
                return;
            }
            Ok(n) => {
                if tx.blocking_send(Some(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => {
                // A terminal that went away reads EIO: that is its end.
                let _ = tx.blocking_send(None);
                return;
            }
        }
    }
}

impl Drop for StdinPump {
    fn drop(&mut self) {
        // The receiver first, so a thread waiting to hand over a chunk
        // returns; then the wake-up byte, then wait for it to end.
        drop(self.rx.take());
        if let Some(mut w) = self.wake.take() {
            let _ = w.write_all(b"x");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
