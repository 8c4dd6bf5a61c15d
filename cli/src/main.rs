//! The `keycard` command-line tool: key sets, PASERK/JWKS export, minting, verifying, inspecting
//! and revoking tokens. Built only on the library's public API.
//!
//! Exit codes: 0 success; 1 the token was rejected (stdout empty, one stderr line
//! `error: KIND: detail`); 2 usage or I/O error. The contract is `shared/spec/cli.md`.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use keycard::dangerous::inspect_unverified;
use keycard::file_lock::FileLock;
use keycard::revocation::RevocationList;
use keycard::{
    Algorithm, Clock, Error, Format, Issuer, Key, KeyRing, Kid, SessionId, SystemClock, Timestamp,
    TokenId, Verifier,
};
use serde_json::{Map, Value, json};

/// Grace period for keys demoted by `keygen` or `import --active`, and the longest `mint --ttl`.
const CLI_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Largest token read from stdin.
const MAX_STDIN: u64 = 1 << 20;

#[derive(Parser)]
#[command(
    name = "keycard",
    version,
    about = "Keys, JWT and PASETO v4 access tokens, and revocations, from the command line",
    after_help = "Exit codes: 0 success, 1 token rejected, 2 usage or I/O error."
)]
struct Cli {
    /// How long to wait for another command (or a service) holding a key-set or revocation
    /// file before giving up, like 10s or 0s.
    #[arg(long, global = true, default_value = "10s")]
    lock_wait: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a fresh key (OS CSPRNG) to a key-set file and make it the active key of its format.
    #[command(after_help = "Example: keycard keygen --keys keys.json --alg EdDSA")]
    Keygen {
        #[command(flatten)]
        keys: KeysArg,
        /// EdDSA, ES256, HS256, v4.public or v4.local.
        #[arg(long)]
        alg: String,
        /// Key id (JWT keys only: a PASETO key's kid is its PASERK id). Default: random.
        #[arg(long, allow_hyphen_values = true)]
        kid: Option<String>,
    },
    /// Add a key from a JWK file (public or private) or a PASERK string.
    #[command(
        after_help = "Example: keycard import --keys keys.json --kid partner-1 --jwk partner.jwk --alg EdDSA\n         keycard import --keys keys.json --kid k4.lid.… --paserk-file local.paserk\n         keycard import --keys keys.json --kid k4.lid.… --paserk - < local.paserk"
    )]
    Import {
        #[command(flatten)]
        keys: KeysArg,
        /// Key id to file it under (for PASETO keys, their PASERK id).
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
        /// A JWK file.
        #[arg(long, conflicts_with_all = ["paserk", "paserk_file"], required_unless_present_any = ["paserk", "paserk_file"])]
        jwk: Option<PathBuf>,
        /// A PASERK (k4.public., k4.secret. or k4.local.), or - to read it from stdin. A secret
        /// PASERK given here is visible in `ps` and shell history: prefer --paserk-file or stdin.
        #[arg(long, conflicts_with = "paserk_file", allow_hyphen_values = true)]
        paserk: Option<String>,
        /// A file holding a PASERK (k4.public., k4.secret. or k4.local.).
        #[arg(long)]
        paserk_file: Option<PathBuf>,
        /// The key's algorithm, when the JWK has no alg member.
        #[arg(long)]
        alg: Option<String>,
        /// Make it the active signing key of its format.
        #[arg(long)]
        active: bool,
    },
    /// Print the public JWK Set of the JWT keys (EdDSA, ES256): never a private member.
    #[command(after_help = "Example: keycard jwks --keys keys.json > jwks.json")]
    Jwks {
        #[command(flatten)]
        keys: KeysArg,
    },
    /// Print a PASETO key as PASERK (k4.public. by default).
    #[command(after_help = "Example: keycard paserk --keys keys.json --kid k4.pid.… --secret")]
    Paserk {
        #[command(flatten)]
        keys: KeysArg,
        /// The key.
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
        /// Print the secret form (k4.secret. or k4.local.).
        #[arg(long)]
        secret: bool,
    },
    /// Mint an access token with the active key of a format (or --kid).
    #[command(
        after_help = "Example: keycard mint --keys keys.json --sub alice --aud api --ttl 15m --claim 'roles=[\"admin\"]'"
    )]
    Mint {
        #[command(flatten)]
        keys: KeysArg,
        /// Subject.
        #[arg(long, allow_hyphen_values = true)]
        sub: String,
        /// Lifetime, like 90s, 15m, 2h, 7d.
        #[arg(long, default_value = "15m")]
        ttl: String,
        /// Issuer.
        #[arg(long)]
        iss: Option<String>,
        /// Audience.
        #[arg(long)]
        aud: Option<String>,
        /// A custom claim NAME=JSON (repeatable).
        #[arg(long = "claim")]
        claims: Vec<String>,
        /// jwt, v4.public or v4.local.
        #[arg(long, default_value = "jwt")]
        format: String,
        /// Sign with this key instead of the format's active key.
        #[arg(long, allow_hyphen_values = true)]
        kid: Option<String>,
    },
    /// Verify an access token exactly as the library does; print its claims.
    #[command(after_help = "Example: keycard verify --keys keys.json --aud api \"$TOKEN\"")]
    Verify {
        #[command(flatten)]
        keys: KeysArg,
        /// Required issuer.
        #[arg(long)]
        iss: Option<String>,
        /// Required audience.
        #[arg(long)]
        aud: Option<String>,
        /// Clock-skew leeway, like 60s.
        #[arg(long, default_value = "60s")]
        leeway: String,
        /// A revocation file (written by `keycard revoke`).
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// Accept only this format: jwt, v4.public or v4.local.
        #[arg(long)]
        format: Option<String>,
        /// The token, or - to read it from stdin.
        token: String,
    },
    /// Decode a token's header or footer and claims WITHOUT verifying anything.
    #[command(after_help = "Example: keycard inspect \"$TOKEN\"")]
    Inspect {
        /// The token, or - to read it from stdin.
        token: String,
    },
    /// Add a revocation to a revocation file (created if absent, written atomically).
    #[command(
        after_help = "Example: keycard revoke --revocations revoked.bin --sid Q0Z0a2lQZJQ3bm0uMmYx1w --ttl 24h"
    )]
    Revoke {
        /// The revocation file.
        #[arg(long)]
        revocations: PathBuf,
        /// Revoke one token.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        jti: Option<String>,
        /// Revoke a session.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        sid: Option<String>,
        /// Revoke every token of a subject issued before now.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        sub: Option<String>,
        /// Keep the revocation until this instant (RFC 3339).
        #[arg(long, conflicts_with = "ttl")]
        until: Option<String>,
        /// Keep the revocation this long (default 24h).
        #[arg(long)]
        ttl: Option<String>,
    },
}

#[derive(Args)]
struct KeysArg {
    /// The key-set file (a JWK Set).
    #[arg(long = "keys")]
    path: PathBuf,
}

/// A failure and its exit code.
enum Failure {
    /// The token was rejected: exit 1.
    Rejected(Error),
    /// Usage, configuration or I/O: exit 2.
    Usage(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Usage(format!("{}: {e}", e.kind()))
    }
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(format!("usage: {}", msg.into()))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let mut out = String::new();
    let result = duration(&cli.lock_wait).and_then(|lock_wait| {
        let ctx = Context { lock_wait };
        run(&ctx, cli.command, &mut out)
    });
    match result {
        Ok(()) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(Failure::Rejected(e)) => {
            let _ = writeln!(std::io::stderr(), "error: {}: {e}", e.kind());
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            let _ = writeln!(std::io::stderr(), "error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// A duration like `90s`, `15m`, `2h`, `7d` (at most 10 years).
fn duration(text: &str) -> Result<Duration, Failure> {
    let bad = || usage(format!("bad duration `{text}` (use e.g. 90s, 15m, 2h, 7d)"));
    // Split before the last character, whatever its width (`é` is two bytes).
    let at = text.char_indices().last().map_or(0, |(i, _)| i);
    let (digits, unit) = text.split_at(at);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 12 {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    if secs > 10 * 365 * 86_400 {
        return Err(bad());
    }
    Ok(Duration::from_secs(secs))
}

/// A duration as a person writes it: `90d`, `2h`, `15m`, `45s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Secret text from a file, or from stdin (`None`), kept in a zeroizing buffer.
fn secret_text(path: Option<&Path>) -> Result<zeroize::Zeroizing<String>, Failure> {
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(256));
    let read = match path {
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut bytes))
            .map_err(|e| Failure::Usage(format!("io: {}: {e}", p.display()))),
        None => std::io::stdin()
            .take(64 * 1024)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Usage(format!("io: stdin: {e}"))),
    };
    read?;
    let text = std::str::from_utf8(&bytes).map_err(|_| usage("the PASERK is not UTF-8"))?;
    Ok(zeroize::Zeroizing::new(text.trim().to_owned()))
}

fn algorithm(name: &str) -> Result<Algorithm, Failure> {
    Algorithm::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown --alg `{name}` (EdDSA, ES256, HS256, v4.public, v4.local)"
        ))
    })
}

fn format_arg(name: &str) -> Result<Format, Failure> {
    Format::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown --format `{name}` (jwt, v4.public, v4.local)"
        ))
    })
}

fn kid(text: &str) -> Result<Kid, Failure> {
    Kid::new(text).map_err(|e| usage(e.to_string()))
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// The key set at `path`; missing is an error unless `create`.
fn load_keys(path: &Path, create: bool) -> Result<KeyRing, Failure> {
    let exists = path
        .try_exists()
        .map_err(|e| Failure::Usage(format!("io: {}: {e}", path.display())))?;
    let ring = if exists {
        KeyRing::load(path)?
    } else if create {
        KeyRing::new()
    } else {
        return Err(Failure::Usage(format!(
            "io: {}: no such key-set file",
            path.display()
        )));
    };
    Ok(ring.with_grace(CLI_GRACE))
}

/// The token argument, or stdin for `-` (surrounding whitespace trimmed).
fn token_arg(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Usage(format!("io: stdin: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(_) => Err(Failure::Rejected(Error::Malformed("token is not UTF-8"))),
    }
}

/// Settings every command shares.
struct Context {
    lock_wait: Duration,
}

fn run(ctx: &Context, command: Command, out: &mut String) -> Result<(), Failure> {
    match command {
        Command::Keygen { keys, alg, kid: k } => {
            let alg = algorithm(&alg)?;
            let _lock = FileLock::exclusive(&keys.path, ctx.lock_wait)?;
            let ring = load_keys(&keys.path, true)?;
            let key = match k {
                None => Key::generate(alg)?,
                Some(k) if alg.format() == Format::Jwt => Key::generate_with_kid(alg, kid(&k)?)?,
                Some(_) => {
                    return Err(usage(format!(
                        "a {alg} key's kid is its PASERK id, which is only known once generated; omit --kid"
                    )));
                }
            };
            let new_kid = key.kid().clone();
            ring.add_active(key)?;
            // Keys whose grace has ended verify nothing any more: their secrets leave the file.
            ring.prune();
            ring.save(&keys.path)?;
            out.push_str(&format!("{new_kid}\n"));
        }
        Command::Import {
            keys,
            kid: k,
            jwk,
            paserk,
            paserk_file,
            alg,
            active,
        } => {
            let alg = alg.as_deref().map(algorithm).transpose()?;
            let k = kid(&k)?;
            let paserk = match (paserk, paserk_file) {
                (Some(p), None) if p == "-" => Some(secret_text(None)?),
                (Some(p), None) => Some(zeroize::Zeroizing::new(p)),
                (None, Some(path)) => Some(secret_text(Some(&path))?),
                _ => None,
            };
            let key = match (jwk, paserk) {
                (Some(path), None) => {
                    let text = zeroize::Zeroizing::new(
                        std::fs::read_to_string(&path)
                            .map_err(|e| Failure::Usage(format!("io: {}: {e}", path.display())))?,
                    );
                    Key::from_jwk_with(&text, alg, Some(k.clone()))?
                }
                (None, Some(p)) => {
                    let key = Key::from_paserk(p.trim())?;
                    if alg.is_some_and(|a| a != key.algorithm()) {
                        return Err(usage("--alg does not match the PASERK's key type"));
                    }
                    if key.kid() != &k {
                        return Err(usage(format!(
                            "the kid of this key is its PASERK id `{}`",
                            key.kid()
                        )));
                    }
                    key
                }
                _ => {
                    return Err(usage(
                        "give exactly one of --jwk, --paserk and --paserk-file",
                    ));
                }
            };
            let _lock = FileLock::exclusive(&keys.path, ctx.lock_wait)?;
            let ring = load_keys(&keys.path, true)?;
            let imported = key.kid().clone();
            if active {
                ring.add_active(key)?;
            } else {
                ring.add_verify_only(key)?;
            }
            // Keys whose grace has ended verify nothing any more: their secrets leave the file.
            ring.prune();
            ring.save(&keys.path)?;
            out.push_str(&format!("{imported}\n"));
        }
        Command::Jwks { keys } => {
            let ring = load_keys(&keys.path, false)?;
            let jwks: Value = serde_json::from_str(&ring.public_jwks())
                .map_err(|e| Failure::Usage(format!("config: {e}")))?;
            out.push_str(&serde_json::to_string_pretty(&jwks).unwrap_or_default());
            out.push('\n');
        }
        Command::Paserk {
            keys,
            kid: k,
            secret,
        } => {
            let ring = load_keys(&keys.path, false)?;
            let k = kid(&k)?;
            let key = ring
                .get(k.as_str())
                .ok_or_else(|| usage(format!("no key `{k}` in the key set")))?;
            let text = if secret {
                key.to_paserk_secret().map(|s| s.to_string())
            } else {
                key.to_paserk_public()
            };
            let text = text.ok_or_else(|| {
                usage(match (key.format(), secret) {
                    (Format::Jwt, _) => "PASERK exists only for PASETO keys; use `keycard jwks`",
                    (Format::V4Local, false) => "a v4.local key has no public form; use --secret",
                    _ => "this key holds no secret material",
                })
            })?;
            out.push_str(&text);
            out.push('\n');
        }
        Command::Mint {
            keys,
            sub,
            ttl,
            iss,
            aud,
            claims,
            format,
            kid: k,
        } => {
            let ttl = duration(&ttl)?;
            let format = format_arg(&format)?;
            let mut custom = Map::new();
            for c in &claims {
                let (name, value) = c
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--claim `{c}` is not NAME=JSON")))?;
                let value: Value = serde_json::from_str(value)
                    .map_err(|_| usage(format!("--claim {name}: the value is not JSON")))?;
                if custom.insert(name.to_owned(), value).is_some() {
                    return Err(usage(format!("--claim {name} given twice")));
                }
            }
            let ring = Arc::new(load_keys(&keys.path, false)?);
            let kid = k.as_deref().map(kid).transpose()?;
            if let Some(k) = &kid
                && ring.get(k.as_str()).is_none()
            {
                return Err(usage(format!("no key `{k}` in the key set")));
            }
            let mut issuer = Issuer::new(ring);
            if let Some(iss) = iss {
                issuer = issuer.with_issuer(iss);
            }
            if let Some(aud) = aud {
                issuer = issuer.with_audience(aud);
            }
            let mut request = issuer
                .access(&sub)
                .claims(&custom)
                .format(format)
                .ttl(ttl)
                .session(SessionId::random());
            if let Some(k) = &kid {
                request = request.kid(k);
            }
            let token = request.mint()?;
            out.push_str(token.as_str());
            out.push('\n');
        }
        Command::Verify {
            keys,
            iss,
            aud,
            leeway,
            revocations,
            format,
            token,
        } => {
            let leeway = duration(&leeway)?;
            let ring = Arc::new(load_keys(&keys.path, false)?);
            let mut verifier = Verifier::new(ring).with_leeway(leeway);
            if let Some(iss) = iss {
                verifier = verifier.with_issuer(iss);
            }
            if let Some(aud) = aud {
                verifier = verifier.with_audience(aud);
            }
            if let Some(f) = format {
                verifier = verifier.with_formats(&[format_arg(&f)?]);
            }
            if let Some(path) = revocations {
                let list = RevocationList::load(&path)?;
                if leeway > list.max_leeway() {
                    return Err(usage(format!(
                        "--leeway {} is longer than the {} {} keeps revocations past the expiry of the tokens they cover: a revoked token within that leeway could already be pruned",
                        human(leeway),
                        human(list.max_leeway()),
                        path.display()
                    )));
                }
                verifier = verifier.with_revocations(Arc::new(list));
            }
            let token = token_arg(&token)?;
            let verified = verifier
                .verify_access::<Map<String, Value>>(&token)
                .map_err(Failure::Rejected)?;
            let claims = verified.claims().to_json_value(verified.format())?;
            out.push_str(&claims.to_string());
            out.push('\n');
        }
        Command::Inspect { token } => {
            let token = token_arg(&token)?;
            let i = inspect_unverified(&token).map_err(Failure::Rejected)?;
            let header_name = if i.format == Format::Jwt {
                "header"
            } else {
                "footer"
            };
            let mut report = json!({
                "verified": false,
                "format": i.format.name(),
                "claims": i.claims.unwrap_or(Value::Null),
            });
            report[header_name] = i.header;
            out.push_str(&serde_json::to_string_pretty(&report).unwrap_or_default());
            out.push('\n');
        }
        Command::Revoke {
            revocations,
            jti,
            sid,
            sub,
            until,
            ttl,
        } => {
            let now = now();
            let until = match (until, ttl) {
                (Some(u), _) => Timestamp::parse_rfc3339(&u)
                    .ok_or_else(|| usage(format!("--until `{u}` is not an RFC 3339 instant")))?,
                (None, Some(t)) => now.saturating_add(duration(&t)?),
                (None, None) => now.saturating_add(Duration::from_secs(24 * 3600)),
            };
            // Through the durable journal, under the file's lock: concurrent `revoke`s queue and
            // none is lost; a service holding the file open makes this fail instead.
            let list = RevocationList::open_waiting(&revocations, ctx.lock_wait)?;
            let horizon = now.saturating_sub(list.max_leeway());
            if until < horizon {
                return Err(usage(format!(
                    "--until is more than {} in the past: every token it could cover has expired, and the entry would be pruned at once",
                    human(list.max_leeway())
                )));
            }
            match (jti, sid, sub) {
                (Some(j), None, None) => {
                    let j = TokenId::new(&j).ok_or_else(|| usage("--jti is not a token id"))?;
                    list.revoke_token(&j, until)?;
                }
                (None, Some(s), None) => {
                    let s = SessionId::new(&s).ok_or_else(|| usage("--sid is not a session id"))?;
                    list.revoke_session(&s, until)?;
                }
                (None, None, Some(s)) => {
                    list.revoke_subject(&s, now, until)?;
                }
                _ => return Err(usage("give one of --jti, --sid, --sub")),
            }
        }
    }
    Ok(())
}
