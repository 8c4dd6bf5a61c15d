//! The verifying side: fetch, cache and check the status lists tokens name (features
//! `status-list` and `jwks-remote`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{MAX_LIST_BYTES, STATUS_LIST_MEDIA_TYPE, StatusBits, verify_status_list};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::verify::{CheckFuture, RevocationCheck, TokenFacts, Verifier};

/// How a [`StatusListClient`] fetches, caches and decides.
#[derive(Clone, Debug)]
pub struct StatusListOptions {
    allowed: Vec<String>,
    cooldown: Duration,
    max_staleness: Duration,
    max_cache: Duration,
    require: bool,
    timeout: Duration,
    max_token_bytes: usize,
    allow_http: bool,
}

impl StatusListOptions {
    /// Lists are fetched only from URIs that start with `prefix` (the issuer's base URL, with a
    /// trailing `/`): a token, even a validly signed one, never sends this service elsewhere.
    pub fn new(prefix: impl Into<String>) -> StatusListOptions {
        StatusListOptions {
            allowed: vec![prefix.into()],
            cooldown: Duration::from_secs(30),
            max_staleness: Duration::from_secs(60),
            max_cache: Duration::from_secs(300),
            require: true,
            timeout: Duration::from_secs(10),
            max_token_bytes: 4 << 20,
            allow_http: false,
        }
    }

    /// Another URI prefix lists may be fetched from.
    pub fn allow_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.allowed.push(prefix.into());
        self
    }

    /// The shortest time between two fetches of one list (default 30 s).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// How long past its refresh time a list may be used when it cannot be fetched again
    /// (default 60 s); after that, checks fail closed with `revocation_unavailable`.
    pub fn max_staleness(mut self, d: Duration) -> Self {
        self.max_staleness = d;
        self
    }

    /// The longest a list is cached, whatever its `ttl` says (default 5 min).
    pub fn max_cache(mut self, d: Duration) -> Self {
        self.max_cache = d;
        self
    }

    /// Accepts tokens that carry no `status` claim (by default they are refused: this service
    /// could never learn that they were revoked).
    pub fn allow_tokens_without_status(mut self) -> Self {
        self.require = false;
        self
    }

    /// The whole-request timeout of a fetch (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Permits plain `http` URIs (loopback demos and tests only).
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }
}

#[derive(Default)]
struct Cached {
    list: Option<Arc<StatusBits>>,
    /// When the list in hand was fetched, and for how long it is fresh.
    fetched: Option<Instant>,
    fresh_for: Duration,
    /// When a fetch was last tried.
    attempt: Option<Instant>,
}

/// Checks tokens against the Token Status Lists they name: a [`RevocationCheck`] for a
/// verify-only service (`Verifier::with_revocations`). See the [module docs](super).
pub struct StatusListClient {
    verifier: Verifier,
    fetcher: Fetcher,
    opts: StatusListOptions,
    lists: Mutex<HashMap<String, Cached>>,
    flight: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for StatusListClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusListClient")
            .field("allowed", &self.opts.allowed)
            .field("lists", &self.lists().len())
            .finish_non_exhaustive()
    }
}

enum Answer {
    Status(u8),
    /// The list in hand is due for a refetch (or there is none).
    Due,
}

impl StatusListClient {
    /// A client that verifies Status List Tokens with `verifier`'s keys, clock and leeway (the
    /// issuer's keys: the same verifier that checks its access tokens, without revocations).
    pub fn new(verifier: Verifier, opts: StatusListOptions) -> Result<StatusListClient> {
        let fetcher = Fetcher::new(opts.timeout, opts.max_token_bytes, opts.allow_http)
            .map_err(|e| Error::Config(format!("status list client: {e}")))?;
        Ok(StatusListClient {
            verifier,
            fetcher,
            opts,
            lists: Mutex::new(HashMap::new()),
            flight: tokio::sync::Mutex::new(()),
        })
    }

    fn lists(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn allowed(&self, uri: &str) -> Result<()> {
        if self
            .opts
            .allowed
            .iter()
            .any(|p| uri.starts_with(p.as_str()))
        {
            Ok(())
        } else {
            tracing::warn!(target: "keycard::status", uri = %crate::error::sanitize(uri), "a token names a status list outside the allowed prefixes");
            Err(Error::Config(format!(
                "the token's status list `{}` is not under an allowed prefix",
                crate::error::sanitize(uri)
            )))
        }
    }

    /// The status of `idx` in the cached list, or whether it is due; an error when the list is
    /// past its maximum staleness.
    fn answer(&self, uri: &str, idx: u64) -> Result<Answer> {
        let lists = self.lists();
        let Some(c) = lists.get(uri) else {
            return Ok(Answer::Due);
        };
        let (Some(list), Some(fetched)) = (&c.list, c.fetched) else {
            return Ok(Answer::Due);
        };
        let age = fetched.elapsed();
        if age >= c.fresh_for {
            let stale = age - c.fresh_for;
            if stale > self.opts.max_staleness {
                return Err(Error::RevocationUnavailable {
                    stale_for_secs: stale.as_secs(),
                });
            }
            return Ok(Answer::Due);
        }
        match list.get(idx) {
            Some(s) => Ok(Answer::Status(s)),
            // Past the end: the issuer's list has grown since this copy.
            None => Ok(Answer::Due),
        }
    }

    /// The status of `idx`, from the list in hand even if due (within the staleness bound).
    fn answer_in_hand(&self, uri: &str, idx: u64) -> Result<u8> {
        match self.answer(uri, idx)? {
            Answer::Status(s) => Ok(s),
            Answer::Due => {
                let lists = self.lists();
                let c = lists.get(uri);
                let list = c.and_then(|c| c.list.clone());
                let fetched = c.and_then(|c| c.fetched);
                match (list, fetched) {
                    (Some(list), Some(_)) => list
                        .get(idx)
                        .ok_or(Error::RevocationUnavailable { stale_for_secs: 0 }),
                    // Never fetched: nothing to answer from.
                    _ => Err(Error::RevocationUnavailable { stale_for_secs: 0 }),
                }
            }
        }
    }

    /// Fetches `uri` now unless a fetch was tried within the cooldown; one fetch at a time.
    async fn refresh(&self, uri: &str) {
        let asked = Instant::now();
        let _flight = self.flight.lock().await;
        let attempt = self.lists().get(uri).and_then(|c| c.attempt);
        if let Some(t) = attempt
            && (t >= asked || t.elapsed() < self.opts.cooldown)
        {
            return;
        }
        self.lists().entry(uri.to_owned()).or_default().attempt = Some(Instant::now());
        let result = async {
            let body = self
                .fetcher
                .get(uri, STATUS_LIST_MEDIA_TYPE)
                .await
                .map_err(|e| {
                    tracing::warn!(target: "keycard::status", uri, error = %e, "status list fetch failed");
                    Error::RevocationUnavailable { stale_for_secs: 0 }
                })?;
            let text = std::str::from_utf8(&body).map_err(|_| Error::Malformed("not UTF-8"))?;
            verify_status_list(&self.verifier, text.trim(), uri, MAX_LIST_BYTES)
        }
        .await;
        match result {
            Ok(list) => {
                let fresh_for = list
                    .ttl
                    .unwrap_or(self.opts.max_cache)
                    .min(self.opts.max_cache);
                let mut lists = self.lists();
                let c = lists.entry(uri.to_owned()).or_default();
                c.list = Some(Arc::new(list.bits));
                c.fetched = Some(Instant::now());
                c.fresh_for = fresh_for;
            }
            Err(e) => {
                tracing::warn!(target: "keycard::status", uri, error = %e, "status list refused or unavailable; keeping the last good list");
            }
        }
    }

    fn decide(status: u8) -> bool {
        // 0x00 VALID; 0x01 INVALID, 0x02 SUSPENDED and anything else: not valid.
        status != 0
    }
}

impl RevocationCheck for StatusListClient {
    /// From the lists already fetched only (the blocking path never fetches).
    fn check(&self, token: &TokenFacts<'_>) -> Result<bool> {
        let Some(st) = token.status else {
            return if self.opts.require {
                Err(Error::MissingClaim("status"))
            } else {
                Ok(false)
            };
        };
        self.allowed(&st.uri)?;
        Ok(StatusListClient::decide(
            self.answer_in_hand(&st.uri, st.idx)?,
        ))
    }

    fn check_async<'a>(&'a self, token: TokenFacts<'a>) -> CheckFuture<'a> {
        Box::pin(async move {
            let Some(st) = token.status else {
                return if self.opts.require {
                    Err(Error::MissingClaim("status"))
                } else {
                    Ok(false)
                };
            };
            self.allowed(&st.uri)?;
            match self.answer(&st.uri, st.idx) {
                Ok(Answer::Status(s)) => return Ok(StatusListClient::decide(s)),
                // Due, or past the staleness bound: a fetch may mend it.
                Ok(Answer::Due) | Err(Error::RevocationUnavailable { .. }) => {}
                Err(e) => return Err(e),
            }
            self.refresh(&st.uri).await;
            Ok(StatusListClient::decide(
                self.answer_in_hand(&st.uri, st.idx)?,
            ))
        })
    }

    fn max_leeway(&self) -> Duration {
        // Lists hold every live session's bit; nothing is pruned early.
        Duration::MAX
    }
}
