//! A small HTTP/1.1 server on a loopback port for tests of remote fetching: each answer comes
//! from a closure that tests change as they go (rotate a JWK Set, stall, answer 500, send too
//! much), and every request is counted. One thread per connection; `Connection: close`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Never answer (hold the connection open until the server stops).
    pub stall: bool,
    /// Send the body chunked, without a Content-Length.
    pub chunked: bool,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: body.into(),
            delay: Duration::ZERO,
            stall: false,
            chunked: false,
            headers: Vec::new(),
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::json("{}")
        }
    }
    pub fn with_type(mut self, t: &'static str) -> Reply {
        self.content_type = t;
        self
    }
    pub fn with_delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    pub fn stalled() -> Reply {
        Reply {
            stall: true,
            ..Reply::json("")
        }
    }
    pub fn chunked(mut self) -> Reply {
        self.chunked = true;
        self
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

type Routes = Arc<Mutex<HashMap<String, Reply>>>;

/// The server; stopped when dropped.
pub struct Server {
    pub base: String,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, h, s) = (routes.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, h, s) = (r.clone(), h.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &r, &h, &s));
            }
        });
        Server {
            base,
            routes,
            hits,
            stop,
        }
    }

    /// Answers `path` with `reply` from now on.
    pub fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

fn serve(
    conn: TcpStream,
    routes: &Routes,
    hits: &Mutex<HashMap<String, usize>>,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
    }
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let reply = routes
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or_else(|| Reply::status(404));
    if reply.stall {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    std::thread::sleep(reply.delay);
    let mut out = conn;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nConnection: close\r\n",
        reply.status, reply.content_type
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if reply.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let _ = out.write_all(head.as_bytes());
        for chunk in reply.body.chunks(8192) {
            let _ = out.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
            let _ = out.write_all(chunk);
            let _ = out.write_all(b"\r\n");
        }
        let _ = out.write_all(b"0\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(&reply.body);
    }
}
