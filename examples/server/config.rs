//! The demo service's flags (docs/http.md, "Starting it"), parsed by hand: the demo needs no
//! argument-parsing crate.

use std::path::PathBuf;
use std::time::Duration;

use keycard::Format;
use keycard::dpop::DpopPolicy;

/// Where sessions and revocations live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// In this process (the default): one node.
    Memory,
    /// A Redis URL: nodes sharing it (and the key file) act as one service.
    Redis(String),
}

/// Everything the flags say.
#[derive(Clone, Debug)]
pub struct Config {
    /// `--port` (8080; 0 picks a free port, printed on the `listening on` line).
    pub port: u16,
    /// `--keys FILE`: the key set, created if absent.
    pub keys: Option<PathBuf>,
    /// `--store memory|redis://HOST:PORT/DB`.
    pub store: StoreChoice,
    /// `--revocations FILE` (memory store): revocations kept in FILE (snapshot + journal), so a
    /// restart loses no logout.
    pub revocations: Option<PathBuf>,
    /// `--format jwt|v4.public|v4.local` of access tokens.
    pub format: Format,
    /// `--access-ttl` (5m).
    pub access_ttl: Duration,
    /// `--idle-ttl` (30m).
    pub idle_ttl: Duration,
    /// `--absolute-ttl` (24h).
    pub absolute_ttl: Duration,
    /// `--grace` (10s): how long a just-rotated refresh token may be presented again (a client
    /// retrying after a lost response) before it counts as reuse.
    pub grace: Duration,
    /// `--max-sessions N`: at most N concurrent sessions per user; a login past it is refused
    /// with 429 (unlimited by default).
    pub max_sessions: Option<usize>,
    /// `--issuer URL`: the `iss` this node mints (default: its own base URL); for a verify-only
    /// node, the issuer it trusts (required).
    pub issuer: Option<String>,
    /// `--status-ttl` (30s): how long verifiers may cache the status list.
    pub status_ttl: Duration,
    /// `--verify-only`: a node with no key and no store, verifying the issuer's tokens.
    pub verify_only: bool,
    /// `--allow-http`: a verify-only node may fetch the issuer over plain http (loopback demos).
    pub allow_http: bool,
    /// `--max-staleness` (60s): how long past its ttl a status list may serve when it cannot be
    /// fetched, before `/me` answers 503.
    pub max_staleness: Duration,
    /// `--jwks-cooldown` (30s): the shortest time between two fetches of the JWK Set (for an
    /// unknown kid) or of the status list.
    pub jwks_cooldown: Duration,
    /// `--dpop off|optional|required` (optional): whether sessions may, must or may not be
    /// bound to a client's DPoP key.
    pub dpop: DpopPolicy,
    /// `--dpop-nonce`: DPoP proofs must carry a nonce the service handed out (`DPoP-Nonce`).
    pub dpop_nonce: bool,
    /// `--public-url URL`: the origin clients reach this node at, for a DPoP proof's `htu`
    /// (default: the node's own base URL).
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 8080,
            keys: None,
            store: StoreChoice::Memory,
            revocations: None,
            format: Format::Jwt,
            access_ttl: Duration::from_secs(5 * 60),
            idle_ttl: Duration::from_secs(30 * 60),
            absolute_ttl: Duration::from_secs(24 * 3600),
            grace: Duration::from_secs(10),
            max_sessions: None,
            issuer: None,
            status_ttl: Duration::from_secs(30),
            verify_only: false,
            allow_http: false,
            max_staleness: Duration::from_secs(60),
            jwks_cooldown: Duration::from_secs(30),
            dpop: DpopPolicy::Optional,
            dpop_nonce: false,
            public_url: None,
        }
    }
}

/// `90`, `90s`, `5m`, `24h`, `7d`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (for example 90s, 5m, 24h)");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// The usage text.
pub const USAGE: &str =
    "usage: server [--port 8080] [--keys FILE] [--store memory|redis://HOST:PORT/DB]
              [--format jwt|v4.public|v4.local] [--access-ttl 5m] [--idle-ttl 30m]
              [--absolute-ttl 24h] [--grace 10s] [--max-sessions N] [--issuer URL] [--status-ttl 30s]
              [--revocations FILE] [--dpop off|optional|required] [--dpop-nonce]
              [--public-url URL]
       server --verify-only --issuer URL [--port P] [--allow-http] [--max-staleness 60s]
              [--jwks-cooldown 30s]";

impl Config {
    /// From the command line's arguments (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.to_owned());
            }
            match flag.as_str() {
                "--verify-only" => {
                    cfg.verify_only = true;
                    continue;
                }
                "--allow-http" => {
                    cfg.allow_http = true;
                    continue;
                }
                "--dpop-nonce" => {
                    cfg.dpop_nonce = true;
                    continue;
                }
                _ => {}
            }
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (flag.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match name.as_str() {
                "--port" => {
                    let v = value()?;
                    cfg.port = v.parse().map_err(|_| format!("`{v}` is not a port"))?;
                }
                "--keys" => cfg.keys = Some(PathBuf::from(value()?)),
                "--revocations" => cfg.revocations = Some(PathBuf::from(value()?)),
                "--store" => {
                    let v = value()?;
                    cfg.store = if v == "memory" {
                        StoreChoice::Memory
                    } else if v.starts_with("redis://") || v.starts_with("rediss://") {
                        StoreChoice::Redis(v)
                    } else {
                        return Err(format!("--store is `memory` or a redis:// URL, not `{v}`"));
                    };
                }
                "--format" => {
                    let v = value()?;
                    cfg.format = match v.as_str() {
                        "jwt" => Format::Jwt,
                        "v4.public" => Format::V4Public,
                        "v4.local" => Format::V4Local,
                        _ => {
                            return Err(format!(
                                "--format is jwt, v4.public or v4.local, not `{v}`"
                            ));
                        }
                    };
                }
                "--access-ttl" => cfg.access_ttl = duration(&value()?)?,
                "--idle-ttl" => cfg.idle_ttl = duration(&value()?)?,
                "--absolute-ttl" => cfg.absolute_ttl = duration(&value()?)?,
                "--grace" => cfg.grace = duration(&value()?)?,
                "--max-sessions" => {
                    let v = value()?;
                    let n: usize =
                        v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("--max-sessions is a positive number, not `{v}`")
                        })?;
                    cfg.max_sessions = Some(n);
                }
                "--issuer" => {
                    let v = value()?;
                    if !(v.starts_with("https://") || v.starts_with("http://")) {
                        return Err(format!("--issuer is an http(s) URL, not `{v}`"));
                    }
                    cfg.issuer = Some(v.trim_end_matches('/').to_owned());
                }
                "--status-ttl" => cfg.status_ttl = duration(&value()?)?.max(Duration::from_secs(1)),
                "--max-staleness" => cfg.max_staleness = duration(&value()?)?,
                "--jwks-cooldown" => cfg.jwks_cooldown = duration(&value()?)?,
                "--dpop" => {
                    let v = value()?;
                    cfg.dpop = match v.as_str() {
                        "off" => DpopPolicy::Off,
                        "optional" => DpopPolicy::Optional,
                        "required" => DpopPolicy::Required,
                        _ => return Err(format!("--dpop is off, optional or required, not `{v}`")),
                    };
                }
                "--public-url" => {
                    let v = value()?;
                    if keycard::dpop::normalize_url(&v).is_none() {
                        return Err(format!("--public-url is an http(s) origin, not `{v}`"));
                    }
                    cfg.public_url = Some(v.trim_end_matches('/').to_owned());
                }
                _ => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
            }
        }
        if cfg.verify_only && cfg.issuer.is_none() {
            return Err(format!("--verify-only needs --issuer URL\n{USAGE}"));
        }
        Ok(cfg)
    }
}
