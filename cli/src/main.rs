//! The `keycard` command-line tool: key sets, PASERK/JWKS export, minting, verifying, inspecting
//! and revoking tokens. Built only on the library's public API.
//!
//! Exit codes: 0 success; 1 the token was rejected (stdout empty, one stderr line
//! `error: KIND: detail`); 2 usage or I/O error (one stderr line too). The contract is
//! `docs/cli.md`.

#![forbid(unsafe_code)]

mod keys;
mod tokens;
mod util;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

use util::{Failure, duration, rejection_line, usage};

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
    #[command(
        after_help = "Example: keycard keygen --keys keys.json --alg EdDSA\n         keycard keygen --keys keys.json --alg refresh   # the key that seals refresh tokens"
    )]
    Keygen {
        #[command(flatten)]
        keys: KeysArg,
        /// EdDSA, ES256, HS256, v4.public, v4.local, or refresh (a refresh-token key: v4.local,
        /// never published; a service sharing this file seals refresh tokens with it).
        #[arg(long)]
        alg: String,
        /// Key id (JWT keys only: a PASETO key's kid is its PASERK id). Default: random.
        #[arg(long, allow_hyphen_values = true)]
        kid: Option<String>,
    },
    /// Add a key from a JWK file (public or private) or a PASERK, or every usable key of
    /// another issuer's JWK Set (verify only).
    #[command(
        after_help = "Example: keycard import --keys keys.json --kid partner-1 --jwk partner.jwk --alg EdDSA\n         keycard import --keys keys.json --kid k4.lid.… --paserk-file local.paserk\n         keycard import --keys keys.json --kid k4.lid.… --paserk - < local.paserk\n         keycard import --keys keys.json --jwks idp-jwks.json"
    )]
    Import {
        #[command(flatten)]
        keys: KeysArg,
        /// Key id to file it under (for PASETO keys, their PASERK id); with --jwks, each key
        /// keeps its own.
        #[arg(long, allow_hyphen_values = true, required_unless_present = "jwks")]
        kid: Option<String>,
        /// A JWK file.
        #[arg(long, conflicts_with_all = ["paserk", "paserk_file", "jwks"], required_unless_present_any = ["paserk", "paserk_file", "jwks"])]
        jwk: Option<PathBuf>,
        /// Another issuer's JWK Set file: every usable public key is imported for verification
        /// only; keys keycard cannot use are skipped with a warning each.
        #[arg(long, conflicts_with_all = ["paserk", "paserk_file", "kid", "alg", "active"])]
        jwks: Option<PathBuf>,
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
    /// List, retire and prune the keys of a key-set file.
    #[command(subcommand)]
    Keys(KeysCommand),
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
    #[command(
        after_help = "Example: keycard verify --keys keys.json --aud api \"$TOKEN\"\n         keycard verify --issuer-url https://idp.example --aud api \"$TOKEN\""
    )]
    Verify {
        /// The key-set file (a JWK Set).
        #[arg(long = "keys", required_unless_present_any = ["jwks_url", "issuer_url"], conflicts_with_all = ["jwks_url", "issuer_url"])]
        keys: Option<PathBuf>,
        /// Verify against the JWK Set at this URL (fetched once; 10 s timeout; 1 MiB at most).
        #[arg(long, conflicts_with = "issuer_url")]
        jwks_url: Option<String>,
        /// Verify against an issuer found by OpenID Connect discovery; its `issuer` must equal
        /// this URL, and so must the token's `iss`.
        #[arg(long)]
        issuer_url: Option<String>,
        /// Permit plain http for --jwks-url / --issuer-url (loopback tests only).
        #[arg(long)]
        allow_http: bool,
        #[command(flatten)]
        checks: ChecksArgs,
        /// A revocation file (written by `keycard revoke`).
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// The token, or - to read it from stdin.
        token: String,
    },
    /// Decode a token's header or footer and claims WITHOUT verifying anything.
    #[command(after_help = "Example: keycard inspect \"$TOKEN\"")]
    Inspect {
        /// The token, or - to read it from stdin.
        token: String,
    },
    /// Add a revocation to a revocation file (created if absent; durable when this returns).
    #[command(
        after_help = "Example: keycard revoke --revocations revoked.bin --sid Q0Z0a2lQZJQ3bm0uMmYx1w --ttl 24h\n         keycard revoke --revocations revoked.bin --keys keys.json --aud api --token \"$TOKEN\""
    )]
    Revoke {
        /// The revocation file.
        #[arg(long)]
        revocations: PathBuf,
        /// Revoke one token by its jti.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        jti: Option<String>,
        /// Revoke a session by its sid.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        sid: Option<String>,
        /// Revoke every token of a subject issued before now.
        #[arg(long, group = "target", allow_hyphen_values = true)]
        sub: Option<String>,
        /// Revoke this token (or - for stdin): verified with --keys first, then its jti is
        /// revoked until its exp (with --session: its session).
        #[arg(long, group = "target", allow_hyphen_values = true, requires = "keys")]
        token: Option<String>,
        /// With --token: revoke the token's whole session.
        #[arg(long, requires = "token")]
        session: bool,
        /// With --token: the key set that verifies it.
        #[arg(long)]
        keys: Option<PathBuf>,
        #[command(flatten)]
        checks: ChecksArgs,
        /// Keep the revocation until this instant (RFC 3339).
        #[arg(long, conflicts_with = "ttl")]
        until: Option<String>,
        /// Keep the revocation this long (default 24h; a token's own exp with --token).
        #[arg(long)]
        ttl: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Every key: kid, algorithm, purpose, state, whether it holds a secret, and until when it
    /// verifies.
    #[command(after_help = "Example: keycard keys list --keys keys.json")]
    List {
        #[command(flatten)]
        keys: KeysArg,
    },
    /// Retire a key now: tokens it signed are refused from this moment.
    #[command(after_help = "Example: keycard keys retire --keys keys.json OLD_KID")]
    Retire {
        #[command(flatten)]
        keys: KeysArg,
        /// The key to retire.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Retire it even if it is the active key of its format.
        #[arg(long)]
        force: bool,
    },
    /// Remove keys whose grace period has ended (and their secrets); prints their kids.
    #[command(after_help = "Example: keycard keys prune --keys keys.json")]
    Prune {
        #[command(flatten)]
        keys: KeysArg,
    },
}

#[derive(Args)]
struct KeysArg {
    /// The key-set file (a JWK Set).
    #[arg(long = "keys")]
    path: PathBuf,
}

/// How a token is checked (verify, revoke --token).
#[derive(Args)]
struct ChecksArgs {
    /// Required issuer.
    #[arg(long)]
    iss: Option<String>,
    /// Required audience.
    #[arg(long)]
    aud: Option<String>,
    /// Clock-skew leeway, like 60s.
    #[arg(long, default_value = "60s")]
    leeway: String,
    /// Accept only this format: jwt, v4.public or v4.local.
    #[arg(long)]
    format: Option<String>,
}

impl ChecksArgs {
    fn resolve(self) -> Result<tokens::Checks, Failure> {
        Ok(tokens::Checks {
            iss: self.iss,
            aud: self.aud,
            leeway: duration(&self.leeway)?,
            format: self.format,
        })
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = duration(&cli.lock_wait).and_then(|wait| run(cli.command, wait));
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(Failure::Rejected(e)) => {
            let _ = writeln!(std::io::stderr(), "{}", rejection_line(&e));
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            let _ = writeln!(std::io::stderr(), "error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command; its standard output (which may hold a secret: kept in a zeroizing buffer).
fn run(command: Command, wait: std::time::Duration) -> Result<Zeroizing<String>, Failure> {
    let out = match command {
        Command::Keygen { keys, alg, kid } => keys::keygen(&keys.path, &alg, kid.as_deref(), wait)?,
        Command::Import {
            keys,
            jwks: Some(set),
            ..
        } => keys::import_jwks(&keys.path, &set, wait)?,
        Command::Import {
            keys,
            kid,
            jwk,
            paserk,
            paserk_file,
            alg,
            active,
            jwks: None,
        } => {
            let source = keys::ImportSource {
                jwk,
                paserk,
                paserk_file,
            };
            let kid = kid.ok_or_else(|| usage("--kid is required"))?;
            keys::import(&keys.path, &kid, source, alg.as_deref(), active, wait)?
        }
        Command::Keys(KeysCommand::List { keys }) => keys::list(&keys.path)?,
        Command::Keys(KeysCommand::Retire { keys, kid, force }) => {
            keys::retire(&keys.path, &kid, force, wait)?
        }
        Command::Keys(KeysCommand::Prune { keys }) => keys::prune(&keys.path, wait)?,
        Command::Jwks { keys } => keys::jwks(&keys.path)?,
        Command::Paserk { keys, kid, secret } => return keys::paserk(&keys.path, &kid, secret),
        Command::Mint {
            keys,
            sub,
            ttl,
            iss,
            aud,
            claims,
            format,
            kid,
        } => tokens::mint(
            &keys.path,
            tokens::MintArgs {
                sub: &sub,
                ttl: &ttl,
                iss,
                aud,
                claims: &claims,
                format: &format,
                kid: kid.as_deref(),
            },
        )?,
        Command::Verify {
            keys,
            jwks_url,
            issuer_url,
            allow_http,
            checks,
            revocations,
            token,
        } => {
            let source = match (keys, jwks_url, issuer_url) {
                (Some(path), None, None) => tokens::KeySource::File(path),
                (None, Some(url), None) => tokens::KeySource::JwksUrl { url, allow_http },
                (None, None, Some(url)) => tokens::KeySource::Issuer { url, allow_http },
                _ => {
                    return Err(usage(
                        "give exactly one of --keys, --jwks-url and --issuer-url",
                    ));
                }
            };
            tokens::verify(&source, checks.resolve()?, revocations.as_deref(), &token)?
        }
        Command::Inspect { token } => tokens::inspect(&token)?,
        Command::Revoke {
            revocations,
            jti,
            sid,
            sub,
            token,
            session,
            keys,
            checks,
            until,
            ttl,
        } => {
            let target = match (jti, sid, sub, token, keys) {
                (Some(j), None, None, None, _) => tokens::Target::Jti(j),
                (None, Some(s), None, None, _) => tokens::Target::Sid(s),
                (None, None, Some(s), None, _) => tokens::Target::Sub(s),
                (None, None, None, Some(t), Some(keys)) => tokens::Target::Token {
                    token: t,
                    keys,
                    checks: checks.resolve()?,
                    session,
                },
                _ => {
                    return Err(usage(
                        "give one of --jti, --sid, --sub, --token (with --keys)",
                    ));
                }
            };
            tokens::revoke(&revocations, target, until.as_deref(), ttl.as_deref(), wait)?
        }
    };
    Ok(Zeroizing::new(out))
}
