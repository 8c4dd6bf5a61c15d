//! Key-set commands: keygen, import, keys list / retire / prune, jwks, paserk.
//!
//! Every command that changes a key-set file holds its lock (`<file>.lock`) from load to save,
//! prunes keys whose grace period has ended, and replaces the file atomically.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keycard::file_lock::FileLock;
use keycard::keys::KeyState;
use keycard::{Clock, Format, Key, KeyRing, SystemClock};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::util::{Failure, algorithm, human, io_error, kid, load_keys, secret_text, usage, when};

/// Loads the key set under its lock, lets `change` edit it, prunes retired keys and saves.
fn edit<T>(
    path: &Path,
    wait: Duration,
    change: impl FnOnce(&KeyRing) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let _lock = FileLock::exclusive(path, wait)?;
    let ring = load_keys(path, true)?;
    let out = change(&ring)?;
    // Keys whose grace has ended verify nothing any more: their secrets leave the file.
    ring.prune();
    ring.save(path)?;
    Ok(out)
}

pub fn keygen(
    path: &Path,
    alg: &str,
    kid_arg: Option<&str>,
    wait: Duration,
) -> Result<String, Failure> {
    let key = if alg == "refresh" {
        if kid_arg.is_some() {
            return Err(usage(
                "a refresh-token key's kid is its PASERK id, known once generated; omit --kid",
            ));
        }
        Key::generate_refresh()?
    } else {
        let alg = algorithm(alg)?;
        match kid_arg {
            None => Key::generate(alg)?,
            Some(k) if alg.format() == Format::Jwt => Key::generate_with_kid(alg, kid(k)?)?,
            Some(_) => {
                return Err(usage(format!(
                    "a {alg} key's kid is its PASERK id, which is only known once generated; omit --kid"
                )));
            }
        }
    };
    let new_kid = key.kid().clone();
    edit(path, wait, |ring| Ok(ring.add_active(key)?))?;
    Ok(format!("{new_kid}\n"))
}

/// Where an imported key comes from.
pub struct ImportSource {
    pub jwk: Option<PathBuf>,
    pub paserk: Option<String>,
    pub paserk_file: Option<PathBuf>,
}

/// `import --jwks`: every usable key of another issuer's JWK Set, for verification only; one
/// `warning: skipped KID: reason` line on stderr per key keycard cannot use.
pub fn import_jwks(path: &Path, set: &Path, wait: Duration) -> Result<String, Failure> {
    let text = std::fs::read_to_string(set).map_err(|e| io_error(set, e))?;
    let mut imported = Vec::new();
    let skipped = edit(path, wait, |ring| {
        let before: Vec<String> = ring.statuses().iter().map(|s| s.kid.to_string()).collect();
        let skipped = ring.add_foreign_jwk_set(&text)?;
        imported = ring
            .statuses()
            .iter()
            .map(|s| s.kid.to_string())
            .filter(|k| !before.contains(k))
            .collect();
        Ok(skipped)
    })?;
    for s in skipped {
        eprintln!(
            "warning: skipped {}: {}",
            s.kid.as_deref().unwrap_or("(no kid)"),
            s.reason
        );
    }
    Ok(imported.iter().map(|k| format!("{k}\n")).collect())
}

pub fn import(
    path: &Path,
    kid_arg: &str,
    source: ImportSource,
    alg: Option<&str>,
    active: bool,
    wait: Duration,
) -> Result<String, Failure> {
    let alg = alg.map(algorithm).transpose()?;
    let k = kid(kid_arg)?;
    let paserk = match (source.paserk, source.paserk_file) {
        (Some(p), None) if p == "-" => Some(secret_text(None)?),
        (Some(p), None) => Some(Zeroizing::new(p)),
        (None, Some(file)) => Some(secret_text(Some(&file))?),
        _ => None,
    };
    let key = match (source.jwk, paserk) {
        (Some(file), None) => {
            let text =
                Zeroizing::new(std::fs::read_to_string(&file).map_err(|e| io_error(&file, e))?);
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
    let imported = key.kid().clone();
    edit(path, wait, |ring| {
        if active {
            ring.add_active(key)?;
        } else {
            ring.add_verify_only(key)?;
        }
        Ok(())
    })?;
    Ok(format!("{imported}\n"))
}

/// `keycard keys list`: one line per key, columns aligned.
pub fn list(path: &Path) -> Result<String, Failure> {
    let ring = load_keys(path, false)?;
    let now = SystemClock.now();
    let mut rows = vec![[
        "KID".to_owned(),
        "ALG".to_owned(),
        "PURPOSE".to_owned(),
        "STATE".to_owned(),
        "SECRET".to_owned(),
        "UNTIL".to_owned(),
    ]];
    for s in ring.statuses() {
        let (state, until) = match s.state {
            KeyState::Active => ("active", "-".to_owned()),
            KeyState::Verifying { until: None } => ("verify-only", "-".to_owned()),
            KeyState::Verifying { until: Some(t) } if now < t => ("verifying", when(t, now)),
            KeyState::Verifying { until: Some(t) } => ("retired", when(t, now)),
            _ => ("?", "-".to_owned()),
        };
        rows.push([
            s.kid.to_string(),
            s.algorithm.to_string(),
            s.purpose.name().to_owned(),
            state.to_owned(),
            if s.has_secret { "yes" } else { "no" }.to_owned(),
            until,
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// `keycard keys retire KID`: tokens the key signed are refused from now on.
pub fn retire(path: &Path, kid_arg: &str, force: bool, wait: Duration) -> Result<String, Failure> {
    let k = kid(kid_arg)?;
    edit(path, wait, |ring| {
        let status = ring
            .statuses()
            .into_iter()
            .find(|s| s.kid == k)
            .ok_or_else(|| usage(format!("no key `{k}` in the key set (keycard keys list)")))?;
        if status.state == KeyState::Active && !force {
            return Err(usage(format!(
                "`{k}` is the active {} key: make another key active first (keycard keygen --alg {}; `{k}` then verifies for {}), or pass --force to stop signing and verifying with it now",
                status.algorithm,
                if status.purpose == keycard::KeyPurpose::Refresh {
                    "refresh".to_owned()
                } else {
                    status.algorithm.to_string()
                },
                human(crate::util::CLI_GRACE)
            )));
        }
        Ok(ring.retire(&k)?)
    })?;
    Ok(format!("{k}\n"))
}

/// `keycard keys prune`: drops keys whose grace period has ended; prints their kids.
pub fn prune(path: &Path, wait: Duration) -> Result<String, Failure> {
    let now = SystemClock.now();
    let gone = edit(path, wait, |ring| {
        Ok(ring
            .statuses()
            .into_iter()
            .filter(|s| matches!(s.state, KeyState::Verifying { until: Some(t) } if now >= t))
            .map(|s| s.kid)
            .collect::<Vec<_>>())
    })?;
    Ok(gone.iter().map(|k| format!("{k}\n")).collect())
}

pub fn jwks(path: &Path) -> Result<String, Failure> {
    let ring = load_keys(path, false)?;
    let jwks: Value = serde_json::from_str(&ring.public_jwks())
        .map_err(|e| Failure::Usage(format!("config: {e}")))?;
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&jwks).unwrap_or_default()
    ))
}

pub fn paserk(path: &Path, kid_arg: &str, secret: bool) -> Result<Zeroizing<String>, Failure> {
    let ring = load_keys(path, false)?;
    let k = kid(kid_arg)?;
    let key = ring
        .get(k.as_str())
        .ok_or_else(|| usage(format!("no key `{k}` in the key set (keycard keys list)")))?;
    let text = if secret {
        key.to_paserk_secret()
    } else {
        key.to_paserk_public().map(Zeroizing::new)
    };
    let text = text.ok_or_else(|| {
        usage(match (key.format(), secret) {
            (Format::Jwt, _) => "PASERK exists only for PASETO keys; use `keycard jwks`",
            (Format::V4Local, false) => "a v4.local key has no public form; use --secret",
            _ => "this key holds no secret material",
        })
    })?;
    // One exact-size buffer: growing the secret's string would leave a copy behind.
    let mut line = Zeroizing::new(String::with_capacity(text.len() + 1));
    line.push_str(&text);
    line.push('\n');
    Ok(line)
}
