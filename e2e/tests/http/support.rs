//! Running the demo service for a test, in this process (when the test moves the clock) or as
//! a child process (several nodes, one Redis), and a small client over real loopback HTTP.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keycard::{ManualClock, Timestamp};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::Value;

use crate::app;
use crate::config::Config;

/// A service running in this process, on its own runtime, on a free loopback port.
pub struct Server {
    pub base: String,
    pub clock: ManualClock,
    runtime: Option<tokio::runtime::Runtime>,
}

/// A start instant for the manual clock (the system's now, so tokens look ordinary).
fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Timestamp::from_unix(secs as i64).unwrap()
}

impl Server {
    /// The demo with `flags` (as on the command line), on a manual clock.
    pub fn start(flags: &[&str]) -> Server {
        let cfg = Config::parse(flags.iter().map(|s| (*s).to_owned())).unwrap();
        let clock = ManualClock::new(now());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let shared: keycard::clock::SharedClock = Arc::new(clock.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
                [127, 0, 0, 1],
                0,
            ))))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let built = runtime
            .block_on(app::build(&cfg, &format!("http://{addr}"), Some(shared)))
            .unwrap();
        runtime.spawn(async move {
            let _maintenance = built.maintenance;
            app::serve(listener, built.router).await.unwrap();
        });
        Server {
            base: format!("http://{addr}"),
            clock,
            runtime: Some(runtime),
        }
    }

    pub fn client(&self) -> Http {
        Http::new(&self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// The demo service as a child process (`keycard-demo`, built from examples/server.rs).
pub struct Node {
    pub base: String,
    child: Child,
}

impl Node {
    pub fn start(flags: &[&str]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keycard-demo"))
            .args(["--port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the demo service");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the demo service printed its address");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Node { base, child }
    }

    pub fn client(&self) -> Http {
        Http::new(&self.base)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        TempDir(crate::redis_server::temp_dir(&format!("e2e-{tag}")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A client of one service.
pub struct Http {
    base: String,
    client: Client,
}

/// A response, read: status, headers, body as JSON (Null if empty or not JSON) and text.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    fn from(r: Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `error` member of a JSON error body.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    pub fn str(&self, member: &str) -> String {
        self.json[member]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{member}` in {}", self.text))
            .to_owned()
    }

    /// The cookies this response sets.
    pub fn cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| SetCookie::parse(v.to_str().unwrap()))
            .collect()
    }

    pub fn cookie(&self, name: &str) -> SetCookie {
        self.cookies()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no Set-Cookie {name}: {:?}", self.headers))
    }
}

/// One `Set-Cookie`, parsed: name, value, attributes (names lowercased).
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn parse(line: &str) -> SetCookie {
        let mut parts = line.split(';');
        let (name, value) = parts.next().unwrap().trim().split_once('=').unwrap();
        let attrs = parts
            .map(|a| {
                let a = a.trim();
                match a.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_owned())),
                    None => (a.to_ascii_lowercase(), None),
                }
            })
            .collect();
        SetCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            attrs,
        }
    }

    pub fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == attr)
    }

    pub fn attr(&self, attr: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == attr)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Bearer-mode tokens from a login or refresh.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// Cookie-mode credentials: the two cookie values and the CSRF token.
#[derive(Clone, Debug)]
pub struct Browser {
    pub access: String,
    pub refresh: String,
    pub csrf: String,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        format!(
            "__Host-access={}; __Host-refresh={}",
            self.access, self.refresh
        )
    }
}

impl Http {
    fn new(base: &str) -> Http {
        Http {
            base: base.to_owned(),
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        self.client.request(method.parse().unwrap(), self.url(path))
    }

    pub fn send(&self, r: RequestBuilder) -> Reply {
        Reply::from(r.send().expect("the service answers"))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(
            self.request("POST", path)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
    }

    pub fn get_bearer(&self, path: &str, access: &str) -> Reply {
        self.send(self.request("GET", path).bearer_auth(access))
    }

    pub fn post_bearer(&self, path: &str, access: &str) -> Reply {
        self.send(self.request("POST", path).bearer_auth(access))
    }

    pub fn login(&self, user: &str) -> Tokens {
        let r = self.post_json(
            "/login",
            &serde_json::json!({"username": user, "password": format!("{user}-password")}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.str("token_type"), "Bearer");
        Tokens {
            access: r.str("access_token"),
            refresh: r.str("refresh_token"),
        }
    }

    pub fn refresh(&self, refresh: &str) -> Reply {
        self.post_json("/refresh", &serde_json::json!({ "refresh_token": refresh }))
    }

    pub fn login_cookie(&self, user: &str) -> (Browser, Reply) {
        let r = self.post_json(
            "/login",
            &serde_json::json!({
                "username": user,
                "password": format!("{user}-password"),
                "mode": "cookie",
            }),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let b = Browser {
            access: r.cookie("__Host-access").value,
            refresh: r.cookie("__Host-refresh").value,
            csrf: r.str("csrf_token"),
        };
        (b, r)
    }

    /// A request with the browser's cookies and, when given, an `X-CSRF-Token`.
    pub fn with_cookies(&self, method: &str, path: &str, b: &Browser, csrf: Option<&str>) -> Reply {
        let mut r = self
            .request(method, path)
            .header("cookie", b.cookie_header());
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        self.send(r)
    }
}

/// Polls `f` until it is true or `limit` passes; the time it took.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Server {
    /// The manual clock's now, in Unix seconds.
    pub fn clock_now(&self) -> u64 {
        use keycard::Clock;
        self.clock.now().as_unix() as u64
    }
}
