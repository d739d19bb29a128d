//! A small TCP proxy that delays traffic and can cut every connection: the
//! sandbox's stand-in for a slow or broken network (`tc netem` is not
//! available on these machines).
//!
//! Each direction has its own delay: every chunk read on one side is written
//! to the other side no sooner than `delay` after it was read, so a round trip
//! through the proxy costs `client_to_server + server_to_client` more.
//!
//! ```no_run
//! use std::time::Duration;
//! use pix_sandbox::proxy::DelayProxy;
//! let proxy = DelayProxy::start("127.0.0.1:22".parse().unwrap()).unwrap();
//! proxy.set_round_trip_delay(Duration::from_millis(40)); // 20 ms each way
//! println!("connect to {}", proxy.addr());
//! proxy.cut_all();
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Shared {
    up_delay_us: AtomicU64,
    down_delay_us: AtomicU64,
    accepted: AtomicUsize,
    next_id: AtomicU64,
    stopping: AtomicBool,
    live: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
}

impl Shared {
    fn forget(&self, id: u64) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&id);
        }
    }
}

/// A delaying TCP proxy on `127.0.0.1` (stopped and every connection cut on
/// drop).
pub struct DelayProxy {
    addr: SocketAddr,
    target: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for DelayProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayProxy")
            .field("addr", &self.addr)
            .field("target", &self.target)
            .field("delays", &self.delays())
            .finish()
    }
}

impl DelayProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `target`, with no
    /// delay until one is set.
    pub fn start(target: SocketAddr) -> io::Result<DelayProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("delay-proxy-accept".into())
            .spawn(move || accept_loop(listener, target, accept_shared))?;
        Ok(DelayProxy {
            addr,
            target,
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Where traffic goes.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Sets the delay of each direction (client to server, server to client).
    /// Applies to data read from now on, on live connections too.
    pub fn set_delays(&self, client_to_server: Duration, server_to_client: Duration) {
        self.shared
            .up_delay_us
            .store(client_to_server.as_micros() as u64, Ordering::SeqCst);
        self.shared
            .down_delay_us
            .store(server_to_client.as_micros() as u64, Ordering::SeqCst);
    }

    /// Sets the added round trip: half of it each way.
    pub fn set_round_trip_delay(&self, round_trip: Duration) {
        let half = round_trip / 2;
        self.set_delays(half, round_trip - half);
    }

    /// The current delays (client to server, server to client).
    pub fn delays(&self) -> (Duration, Duration) {
        (
            Duration::from_micros(self.shared.up_delay_us.load(Ordering::SeqCst)),
            Duration::from_micros(self.shared.down_delay_us.load(Ordering::SeqCst)),
        )
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many connections are open now.
    pub fn live_connections(&self) -> usize {
        self.shared.live.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Drops every live connection (both sides see the connection end).
    /// New connections are still accepted.
    pub fn cut_all(&self) {
        let drained: Vec<(TcpStream, TcpStream)> = match self.shared.live.lock() {
            Ok(mut live) => live.drain().map(|(_, v)| v).collect(),
            Err(_) => Vec::new(),
        };
        for (client, server) in drained {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        self.cut_all();
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        let clones = (|| {
            Some((
                client.try_clone().ok()?,
                server.try_clone().ok()?,
                client.try_clone().ok()?,
                server.try_clone().ok()?,
            ))
        })();
        let Some((client_w, server_w, client_keep, server_keep)) = clones else {
            continue;
        };
        if let Ok(mut live) = shared.live.lock() {
            live.insert(id, (client_keep, server_keep));
        }
        let done = Arc::new(AtomicUsize::new(0));
        pump(
            client,
            server_w,
            Arc::clone(&shared),
            true,
            id,
            Arc::clone(&done),
        );
        pump(server, client_w, Arc::clone(&shared), false, id, done);
    }
}

enum Chunk {
    Data(Instant, Vec<u8>),
    Eof(Instant),
}

/// Copies `from` to `to` with the direction's delay: a reader thread stamps
/// each chunk, a writer thread holds it until its time.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    shared: Arc<Shared>,
    upstream: bool,
    id: u64,
    done: Arc<AtomicUsize>,
) {
    let (tx, rx) = mpsc::channel::<Chunk>();
    let reader_shared = Arc::clone(&shared);
    let delay_of = move |s: &Shared| {
        Duration::from_micros(if upstream {
            s.up_delay_us.load(Ordering::SeqCst)
        } else {
            s.down_delay_us.load(Ordering::SeqCst)
        })
    };
    let _ = thread::Builder::new()
        .name("delay-proxy-read".into())
        .spawn(move || {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Chunk::Eof(Instant::now() + delay_of(&reader_shared)));
                        break;
                    }
                    Ok(n) => {
                        let due = Instant::now() + delay_of(&reader_shared);
                        if tx.send(Chunk::Data(due, buf[..n].to_vec())).is_err() {
                            let _ = from.shutdown(Shutdown::Both);
                            break;
                        }
                    }
                }
            }
        });
    let _ = thread::Builder::new()
        .name("delay-proxy-write".into())
        .spawn(move || {
            for chunk in rx {
                let due = match &chunk {
                    Chunk::Data(due, _) | Chunk::Eof(due) => *due,
                };
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                match chunk {
                    Chunk::Data(_, bytes) => {
                        if to.write_all(&bytes).is_err() {
                            let _ = to.shutdown(Shutdown::Both);
                            break;
                        }
                    }
                    Chunk::Eof(_) => {
                        let _ = to.shutdown(Shutdown::Write);
                        break;
                    }
                }
            }
            if done.fetch_add(1, Ordering::SeqCst) == 1 {
                shared.forget(id);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { continue };
                thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn round_trip(stream: &mut TcpStream) -> Duration {
        let start = Instant::now();
        stream.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        start.elapsed()
    }

    #[test]
    fn adds_the_delay_it_is_given_and_counts_connections() {
        let proxy = DelayProxy::start(echo_server()).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        let fast = round_trip(&mut s);
        assert!(fast < Duration::from_millis(50), "{fast:?}");
        proxy.set_round_trip_delay(Duration::from_millis(120));
        assert_eq!(
            proxy.delays(),
            (Duration::from_millis(60), Duration::from_millis(60))
        );
        let slow = round_trip(&mut s);
        assert!(slow >= Duration::from_millis(120), "{slow:?}");
        assert!(slow < Duration::from_millis(600), "{slow:?}");
        proxy.set_delays(Duration::from_millis(100), Duration::ZERO);
        let one_way = round_trip(&mut s);
        assert!(one_way >= Duration::from_millis(100), "{one_way:?}");
        let _s2 = TcpStream::connect(proxy.addr()).unwrap();
        thread::sleep(Duration::from_millis(50));
        assert_eq!(proxy.connections(), 2);
        assert_eq!(proxy.live_connections(), 2);
    }

    #[test]
    fn cut_all_drops_live_connections_and_accepts_new_ones() {
        let proxy = DelayProxy::start(echo_server()).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        round_trip(&mut s);
        proxy.cut_all();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 8];
        let r = s.write_all(b"x").and_then(|_| s.read(&mut buf));
        assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
        let mut again = TcpStream::connect(proxy.addr()).unwrap();
        round_trip(&mut again);
    }
}
