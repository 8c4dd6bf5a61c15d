//! What every command shares: failures and exit codes, durations, key files, token input.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use keycard::{Algorithm, Error, Format, KeyRing, Kid, Timestamp};
use zeroize::Zeroizing;

/// Grace period for keys demoted by `keygen` or `import --active`, and the longest `mint --ttl`.
pub const CLI_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Largest token or secret read from stdin.
const MAX_STDIN: u64 = 1 << 20;

/// A failure and its exit code.
pub enum Failure {
    /// The token was rejected: exit 1, one line `error: KIND: detail`.
    Rejected(Error),
    /// Usage, configuration or I/O: exit 2, one line `error: KIND: detail`.
    Usage(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Usage(format!("{}: {}", e.kind(), e.detail()))
    }
}

/// A usage error: `error: usage: …`.
pub fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(format!("usage: {}", msg.into()))
}

/// An I/O error about `path`: `error: io: PATH: …`.
pub fn io_error(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::Usage(format!("io: {}: {e}", path.display()))
}

/// The stderr line for a rejected token: the kind, the detail, and what to do about it.
pub fn rejection_line(e: &Error) -> String {
    let hint = match e {
        Error::WrongAudience { expected: None, .. } => {
            " (pass --aud with the audience this token must be for)"
        }
        Error::WrongAudience { .. } => " (check --aud)",
        Error::WrongIssuer { .. } => " (check --iss)",
        Error::MissingClaim("aud") => " (the token has no aud; drop --aud to accept it)",
        Error::MissingClaim("iss") => " (the token has no iss; drop --iss to accept it)",
        Error::UnknownKey { .. } => " (import the key with `keycard import`, or check --keys)",
        Error::Expired { .. } | Error::NotYetValid { .. } | Error::IssuedInFuture { .. } => {
            " (clocks apart? --leeway widens the tolerance)"
        }
        _ => "",
    };
    format!("error: {}: {}{hint}", e.kind(), e.detail())
}

/// A duration like `90s`, `15m`, `2h`, `7d` (at most 10 years).
pub fn duration(text: &str) -> Result<Duration, Failure> {
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

/// A duration as a person writes it, exact: `90d`, `2h`, `15m`, `45s`, or `1h30m`.
pub fn human(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}

/// A duration rounded to its two largest units, for "in 29d23h" / "5d ago".
pub fn approx(d: Duration) -> String {
    let s = d.as_secs();
    let (big, small) = match s {
        s if s >= 86_400 => (s / 86_400 * 86_400, s % 86_400 / 3600 * 3600),
        s if s >= 3600 => (s / 3600 * 3600, s % 3600 / 60 * 60),
        s if s >= 60 => (s / 60 * 60, 0),
        s => (s, 0),
    };
    human(Duration::from_secs(big + small))
}

/// An instant and how far it is from `now`: `2027-01-14T08:00:00Z (in 29d23h)`.
pub fn when(t: Timestamp, now: Timestamp) -> String {
    if t >= now {
        format!("{t} (in {})", approx(t.duration_since(now)))
    } else {
        format!("{t} ({} ago)", approx(now.duration_since(t)))
    }
}

pub fn algorithm(name: &str) -> Result<Algorithm, Failure> {
    Algorithm::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown --alg `{name}` (EdDSA, ES256, HS256, v4.public, v4.local, refresh)"
        ))
    })
}

pub fn format_arg(name: &str) -> Result<Format, Failure> {
    Format::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown --format `{name}` (jwt, v4.public, v4.local)"
        ))
    })
}

pub fn kid(text: &str) -> Result<Kid, Failure> {
    Kid::new(text).map_err(|e| usage(e.detail()))
}

/// The key set at `path`; missing is an error unless `create`.
pub fn load_keys(path: &Path, create: bool) -> Result<KeyRing, Failure> {
    let exists = path.try_exists().map_err(|e| io_error(path, e))?;
    let ring = if exists {
        KeyRing::load(path)?
    } else if create {
        KeyRing::new()
    } else {
        return Err(io_error(path, "no such key-set file"));
    };
    Ok(ring.with_grace(CLI_GRACE))
}

/// The token argument, or stdin for `-` (surrounding whitespace trimmed).
pub fn token_arg(arg: &str) -> Result<String, Failure> {
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

/// Secret text from a file, or from stdin (`None`), kept in a zeroizing buffer.
pub fn secret_text(path: Option<&Path>) -> Result<Zeroizing<String>, Failure> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(256));
    match path {
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut bytes))
            .map_err(|e| io_error(p, e))?,
        None => std::io::stdin()
            .take(64 * 1024)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Usage(format!("io: stdin: {e}")))?,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| usage("the PASERK is not UTF-8"))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_as_people_write_them() {
        for (text, secs) in [("45s", 45), ("15m", 900), ("2h", 7200), ("90d", 7_776_000)] {
            assert_eq!(duration(text).ok(), Some(Duration::from_secs(secs)));
            assert_eq!(human(Duration::from_secs(secs)), text);
        }
        assert_eq!(duration("90s").ok(), Some(Duration::from_secs(90)));
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(
            approx(Duration::from_secs(29 * 86_400 + 23 * 3600 + 59)),
            "29d23h"
        );
        assert_eq!(approx(Duration::from_secs(3599)), "59m");
        for bad in [
            "",
            "s",
            "1",
            "1x",
            "-1s",
            "1.5h",
            "é",
            "1é",
            "99999999999999d",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }
}
