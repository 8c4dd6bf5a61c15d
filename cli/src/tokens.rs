//! Token commands: mint, verify, inspect, revoke.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keycard::dangerous::inspect_unverified;
use keycard::revocation::RevocationList;
use keycard::{Clock, Format, Issuer, SessionId, SystemClock, Timestamp, TokenId, Verifier};
use serde_json::{Map, Value, json};

use crate::util::{Failure, duration, format_arg, human, kid, load_keys, token_arg, usage};

/// What `mint` puts in a token.
pub struct MintArgs<'a> {
    pub sub: &'a str,
    pub ttl: &'a str,
    pub iss: Option<String>,
    pub aud: Option<String>,
    pub claims: &'a [String],
    pub format: &'a str,
    pub kid: Option<&'a str>,
}

pub fn mint(keys: &Path, a: MintArgs<'_>) -> Result<String, Failure> {
    let ttl = duration(a.ttl)?;
    let format = format_arg(a.format)?;
    let mut custom = Map::new();
    for c in a.claims {
        let (name, value) = c
            .split_once('=')
            .ok_or_else(|| usage(format!("--claim `{c}` is not NAME=JSON")))?;
        let value: Value = serde_json::from_str(value)
            .map_err(|_| usage(format!("--claim {name}: the value is not JSON")))?;
        if custom.insert(name.to_owned(), value).is_some() {
            return Err(usage(format!("--claim {name} given twice")));
        }
    }
    let ring = Arc::new(load_keys(keys, false)?);
    let kid = a.kid.map(kid).transpose()?;
    if let Some(k) = &kid
        && ring.get(k.as_str()).is_none()
    {
        return Err(usage(format!(
            "no key `{k}` in the key set (keycard keys list)"
        )));
    }
    let mut issuer = Issuer::new(ring);
    if let Some(iss) = a.iss {
        issuer = issuer.with_issuer(iss);
    }
    if let Some(aud) = a.aud {
        issuer = issuer.with_audience(aud);
    }
    let mut request = issuer
        .access(a.sub)
        .claims(&custom)
        .format(format)
        .ttl(ttl)
        .session(SessionId::random());
    if let Some(k) = &kid {
        request = request.kid(k);
    }
    let token = request.mint()?;
    Ok(format!("{}\n", token.as_str()))
}

/// How `verify` (and `revoke --token`) checks a token.
pub struct Checks {
    pub iss: Option<String>,
    pub aud: Option<String>,
    pub leeway: Duration,
    pub format: Option<String>,
}

/// Where `verify` takes its keys from.
pub enum KeySource {
    /// A key-set file.
    File(std::path::PathBuf),
    /// A remote JWK Set.
    JwksUrl { url: String, allow_http: bool },
    /// An issuer, by OpenID Connect discovery.
    Issuer { url: String, allow_http: bool },
}

/// A verifier over a remote JWK Set: one fetch now (10 s, 1 MiB), nothing afterwards.
fn remote_verifier(url: &str, allow_http: bool, discover: bool) -> Result<Verifier, Failure> {
    use keycard::keys::{RemoteJwks, RemoteJwksOptions};
    let mut opts = RemoteJwksOptions::default()
        .timeout(Duration::from_secs(10))
        .max_bytes(1 << 20);
    if allow_http {
        opts = opts.allow_http();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("io: cannot start the HTTP client: {e}")))?;
    let jwks = runtime.block_on(async {
        if discover {
            RemoteJwks::discover(url, opts).await
        } else {
            RemoteJwks::connect(url, opts).await
        }
    })?;
    Ok(Verifier::with_remote_keys(Arc::new(jwks)))
}

fn verifier(source: &KeySource, c: &Checks) -> Result<Verifier, Failure> {
    let base = match source {
        KeySource::File(keys) => Verifier::new(Arc::new(load_keys(keys, false)?)),
        KeySource::JwksUrl { url, allow_http } => remote_verifier(url, *allow_http, false)?,
        KeySource::Issuer { url, allow_http } => remote_verifier(url, *allow_http, true)?,
    };
    let mut v = base.with_leeway(c.leeway);
    if let Some(iss) = &c.iss {
        v = v.with_issuer(iss.clone());
    }
    if let Some(aud) = &c.aud {
        v = v.with_audience(aud.clone());
    }
    if let Some(f) = &c.format {
        v = v.with_formats(&[format_arg(f)?]);
    }
    Ok(v)
}

pub fn verify(
    source: &KeySource,
    mut checks: Checks,
    revocations: Option<&Path>,
    token: &str,
) -> Result<String, Failure> {
    if let KeySource::Issuer { url, .. } = source {
        // The token must come from the issuer whose keys verify it.
        match &checks.iss {
            Some(iss) if iss != url => {
                return Err(usage(format!(
                    "--iss `{iss}` differs from --issuer-url `{url}`"
                )));
            }
            _ => checks.iss = Some(url.clone()),
        }
    }
    let checks = &checks;
    let token = token_arg(token)?;
    let mut v = verifier(source, checks)?;
    if let Some(path) = revocations {
        let list = RevocationList::load(path)?;
        if checks.leeway > list.max_leeway() {
            return Err(usage(format!(
                "--leeway {} is longer than the {} {} keeps revocations past the expiry of the tokens they cover: a revoked token within that leeway could already be pruned",
                human(checks.leeway),
                human(list.max_leeway()),
                path.display()
            )));
        }
        v = v.with_revocations(Arc::new(list));
    }
    let verified = v
        .verify_access::<Map<String, Value>>(&token)
        .map_err(Failure::Rejected)?;
    let claims = verified.claims().to_json_value(verified.format())?;
    Ok(format!("{claims}\n"))
}

pub fn inspect(token: &str) -> Result<String, Failure> {
    let token = token_arg(token)?;
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
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    ))
}

/// One revocation, resolved.
enum Entry {
    Token(TokenId, Timestamp),
    Session(SessionId, Timestamp),
    Subject(String, Timestamp),
}

/// What `revoke` revokes.
pub enum Target {
    Jti(String),
    Sid(String),
    Sub(String),
    /// A token, verified with these keys and checks first; its session with `session`.
    Token {
        token: String,
        keys: std::path::PathBuf,
        checks: Checks,
        session: bool,
    },
}

pub fn revoke(
    revocations: &Path,
    target: Target,
    until: Option<&str>,
    ttl: Option<&str>,
    wait: Duration,
) -> Result<String, Failure> {
    let now = SystemClock.now();
    let given = match (until, ttl) {
        (Some(u), _) => Some(
            Timestamp::parse_rfc3339(u)
                .ok_or_else(|| usage(format!("--until `{u}` is not an RFC 3339 instant")))?,
        ),
        (None, Some(t)) => Some(now.saturating_add(duration(t)?)),
        (None, None) => None,
    };
    let default_until = given.unwrap_or_else(|| now.saturating_add(Duration::from_secs(24 * 3600)));
    // What to add, decided before the file is locked. A token names itself: it is verified first
    // (a forged token is refused, exit 1), then its jti is revoked until its exp, or with
    // --session its session until --until / --ttl (default 24h), and never before its exp.
    let entry = match target {
        Target::Jti(j) => Entry::Token(
            TokenId::new(&j).ok_or_else(|| usage("--jti is not a token id"))?,
            default_until,
        ),
        Target::Sid(s) => Entry::Session(
            SessionId::new(&s).ok_or_else(|| usage("--sid is not a session id"))?,
            default_until,
        ),
        Target::Sub(s) => Entry::Subject(s, default_until),
        Target::Token {
            token,
            keys,
            checks,
            session,
        } => {
            let token = token_arg(&token)?;
            let v = verifier(&KeySource::File(keys.clone()), &checks)?
                .verify_access::<keycard::NoCustomClaims>(&token)
                .map_err(Failure::Rejected)?;
            let exp = v.claims().expires_at();
            match (session, v.session_id()) {
                (false, _) => Entry::Token(v.token_id().clone(), given.unwrap_or(exp).max(exp)),
                (true, Some(sid)) => Entry::Session(sid.clone(), default_until.max(exp)),
                (true, None) => {
                    return Err(usage("the token has no sid: it belongs to no session"));
                }
            }
        }
    };
    // Through the durable journal, under the file's lock: concurrent `revoke`s queue and none is
    // lost; a service holding the file open makes this fail instead.
    let list = RevocationList::open_waiting(revocations, wait)?;
    let until = match &entry {
        Entry::Token(_, u) | Entry::Session(_, u) | Entry::Subject(_, u) => *u,
    };
    if until < now.saturating_sub(list.max_leeway()) {
        return Err(usage(format!(
            "--until is more than {} in the past: every token it could cover has expired, and the entry would be pruned at once",
            human(list.max_leeway())
        )));
    }
    match entry {
        Entry::Token(jti, until) => list.revoke_token(&jti, until)?,
        Entry::Session(sid, until) => list.revoke_session(&sid, until)?,
        Entry::Subject(sub, until) => list.revoke_subject(&sub, now, until)?,
    };
    Ok(String::new())
}
