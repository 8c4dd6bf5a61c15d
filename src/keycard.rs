//! The facade: login, verify, refresh, logout, log out everywhere — keys, issuer, verifier,
//! revocation list and session store wired together.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::claims::{Access, AccessToken, RefreshToken, SessionId, StatusRef, TokenId};
use crate::clock::{SharedClock, Timestamp};
use crate::dpop::{DpopPolicy, Proof, ProofChecker, ProofRequest};
use crate::error::{Error, Result};
use crate::issue::Issuer;
use crate::keys::{Format, KeyRing};
use crate::refresh::{
    Admission, AnomalyDecision, AnomalyInfo, CasOutcome, ClientContext, Decision, EventHook,
    Family, LimitPolicy, RefreshClaims, ReuseCause, RevokeReason, SessionEvent, SessionInfo,
    SessionLimit, SessionStore, Timeout, decide, refresh_token_id,
};
use crate::revocation::{RevocationList, Revoke};
use crate::stores::MemoryStore;
use crate::verify::{TokenFacts, Verified, Verifier};

/// A new access token and refresh token, as login and refresh return them.
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenPair {
    /// The access token (short-lived).
    pub access: AccessToken,
    /// The refresh token (redeemable once).
    pub refresh: RefreshToken,
    /// The session both belong to.
    pub session: SessionId,
    /// The RFC 7638 thumbprint of the DPoP key the session is bound to, when it is (its access
    /// tokens carry it as `cnf.jkt`).
    pub dpop_jkt: Option<String>,
}

impl TokenPair {
    /// `"DPoP"` for a DPoP-bound pair, else `"Bearer"`: the `token_type` of an OAuth-style
    /// token response (RFC 9449 §5).
    pub fn token_type(&self) -> &'static str {
        if self.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }

    /// Seconds until the access token expires, from `now` (for an `expires_in` field).
    pub fn expires_in(&self, now: Timestamp) -> u64 {
        self.access.expires_at().duration_since(now).as_secs()
    }
}

/// What to do when a refresh comes from a different client context.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnomalyPolicy {
    /// Emit the `anomaly` event and continue (the default).
    Allow,
    /// Emit the event and revoke the family.
    Revoke,
    /// Ask a function.
    Decide(Arc<dyn Fn(&AnomalyInfo) -> AnomalyDecision + Send + Sync>),
}

impl fmt::Debug for AnomalyPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnomalyPolicy::Allow => "Allow",
            AnomalyPolicy::Revoke => "Revoke",
            AnomalyPolicy::Decide(_) => "Decide(..)",
        })
    }
}

/// Session timing and policy.
#[derive(Clone, Debug)]
struct Config {
    access_ttl: Duration,
    idle: Duration,
    absolute: Duration,
    grace: Duration,
    access_format: Format,
    limit: Option<SessionLimit>,
    anomaly: AnomalyPolicy,
    /// The Token Status List this keycard publishes, when it does.
    status: Option<StatusConfig>,
    /// Whether sessions must, may or may not be DPoP-bound.
    dpop: DpopPolicy,
    /// DPoP proof checks (the window; nonces are set up at build).
    dpop_checker: ProofChecker,
    /// Server nonces for DPoP, rotating every this long, when on.
    dpop_nonces: Option<Duration>,
    /// Logins that must be DPoP-bound under [`DpopPolicy::Optional`] (some clients, not all).
    dpop_required_for: Option<DpopRequiredFor>,
}

/// A rule over a login's subject and client context.
type LoginRule = dyn Fn(&str, &ClientContext) -> bool + Send + Sync;

/// The session store as the log of used DPoP proofs.
struct StoreProofs<'a>(&'a dyn SessionStore);

impl fmt::Debug for StoreProofs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreProofs")
    }
}

impl crate::dpop::ProofLog for StoreProofs<'_> {
    fn claim_once<'a>(
        &'a self,
        id: &'a str,
        until: Timestamp,
    ) -> crate::refresh::StoreFuture<'a, bool> {
        self.0.claim_once(id, until)
    }
}

/// Which logins must be DPoP-bound: by subject and client context.
#[derive(Clone)]
struct DpopRequiredFor(Arc<LoginRule>);

impl fmt::Debug for DpopRequiredFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DpopRequiredFor(..)")
    }
}

/// Where the Token Status List is published, and how long it may be cached.
#[derive(Clone, Debug)]
struct StatusConfig {
    uri: String,
    ttl: Duration,
}

/// Builds a [`Keycard`]; every setting has a safe default.
#[must_use = "call .build()"]
pub struct KeycardBuilder {
    keys: Arc<KeyRing>,
    store: Option<Arc<dyn SessionStore>>,
    clock: Option<SharedClock>,
    issuer: Option<String>,
    check_issuer: bool,
    audience: Option<String>,
    leeway: Duration,
    cache: usize,
    cfg: Config,
    hook: Option<EventHook>,
}

impl KeycardBuilder {
    /// Publishes a Token Status List under `base` (feature `status-list`; see
    /// [`crate::status`]): its URI is `base/ID`, where ID is the store's list name
    /// ([`SessionStore::status_list_id`]: stable for Redis, new at each start for the memory
    /// store); [`Keycard::status_list_uri`] tells it. Every session gets an index, every access
    /// token carries `status: {status_list: {idx, uri}}`, and logouts, logout-all, session
    /// deletes, evictions and reuse detection set the session's bit. Serve
    /// [`Keycard::status_list_token_async`] at that URI. The store must keep a status table (the
    /// memory and Redis stores do).
    #[cfg(feature = "status-list")]
    pub fn status_list(mut self, base: impl Into<String>) -> Self {
        let uri = base;
        let ttl = self
            .cfg
            .status
            .as_ref()
            .map_or(Duration::from_secs(30), |s| s.ttl);
        self.cfg.status = Some(StatusConfig {
            uri: uri.into(),
            ttl,
        });
        self
    }

    /// How long verifiers may cache the status list (its `ttl`; default 30 s, at least 1 s):
    /// a logout reaches them within it (plus their refetch cooldown).
    #[cfg(feature = "status-list")]
    pub fn status_list_ttl(mut self, ttl: Duration) -> Self {
        let ttl = ttl.max(Duration::from_secs(1));
        match &mut self.cfg.status {
            Some(s) => s.ttl = ttl,
            None => {
                self.cfg.status = Some(StatusConfig {
                    uri: String::new(),
                    ttl,
                })
            }
        }
        self
    }

    /// Whether sessions must, may or may not be bound to a DPoP key (RFC 9449; default
    /// [`DpopPolicy::Optional`]: a login with a proof binds its session).
    pub fn dpop(mut self, policy: DpopPolicy) -> Self {
        self.cfg.dpop = policy;
        self
    }

    /// DPoP required for some clients only: under [`DpopPolicy::Optional`], a login for which
    /// `rule(subject, client context)` is true must come with a proof (for example mobile
    /// clients, by their device label, or an administrator's account), others may be bearer
    /// sessions.
    ///
    /// ```
    /// # fn f(keys: std::sync::Arc<keycard::KeyRing>) -> keycard::Result<()> {
    /// let kc = keycard::Keycard::builder(keys)
    ///     .dpop_required_for(|sub, ctx| sub == "admin" || ctx.device.as_deref() == Some("ios"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn dpop_required_for(
        mut self,
        rule: impl Fn(&str, &ClientContext) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.cfg.dpop_required_for = Some(DpopRequiredFor(Arc::new(rule)));
        self
    }

    /// DPoP server nonces (RFC 9449 §8): proofs must carry a nonce this keycard handed out,
    /// rotated every `period` (the current and the previous one are accepted). Nodes sharing
    /// the refresh-token key share the nonces.
    pub fn dpop_nonces(mut self, period: Duration) -> Self {
        self.cfg.dpop_nonces = Some(period);
        self
    }

    /// How far back and ahead of now a DPoP proof's `iat` may be (default 60 s and 5 s).
    pub fn dpop_window(mut self, back: Duration, ahead: Duration) -> Self {
        self.cfg.dpop_checker = self.cfg.dpop_checker.window(back, ahead);
        self
    }

    /// Remembers up to `capacity` verified access tokens so a token sent again skips the
    /// signature check (off by default); every other check, revocation included, still runs.
    /// See [`Verifier::with_cache`].
    pub fn verified_cache(mut self, capacity: usize) -> Self {
        self.cache = capacity;
        self
    }

    /// The session store (default: a [`MemoryStore`] with an in-memory revocation list on the
    /// Keycard's clock).
    pub fn store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock for everything (default: the key ring's).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// `iss` written into tokens and required when verifying.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self.check_issuer = true;
        self
    }

    /// `iss` written into tokens but not required when verifying: for nodes that share one key
    /// set and one store (one service) but each mint their own URL as `iss`, and so must accept
    /// each other's. Tokens are still only accepted under the shared keys.
    pub fn mint_issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self.check_issuer = false;
        self
    }

    /// `aud` written into tokens and required when verifying.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }

    /// Clock-skew leeway when verifying (default 60 s). At least 1 s: `logout_all` revokes
    /// every token issued up to its second, so a login in that same second is minted one second
    /// ahead; and at most the revocation list's margin ([`RevocationList::max_leeway`]), or a
    /// revoked token could outlive its pruned entry. `build` refuses anything else.
    ///
    /// [`RevocationList::max_leeway`]: crate::revocation::RevocationList::max_leeway
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Access-token lifetime (default 5 minutes).
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.cfg.access_ttl = ttl;
        self
    }

    /// Idle timeout: a refresh token not used within it expires (default 30 minutes; days suit
    /// mobile apps).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.cfg.idle = idle;
        self
    }

    /// Absolute timeout: a session never lives past login + this (default 24 hours).
    pub fn absolute_timeout(mut self, absolute: Duration) -> Self {
        self.cfg.absolute = absolute;
        self
    }

    /// How long a just-rotated refresh token may be retried (default 10 s; zero disables).
    pub fn reuse_grace(mut self, grace: Duration) -> Self {
        self.cfg.grace = grace;
        self
    }

    /// The format of access tokens (default JWT).
    pub fn access_format(mut self, format: Format) -> Self {
        self.cfg.access_format = format;
        self
    }

    /// At most `max` concurrent sessions per subject, enforced at login with `policy`.
    pub fn session_limit(mut self, max: usize, policy: LimitPolicy) -> Self {
        self.cfg.limit = Some(SessionLimit {
            max: max.max(1),
            policy,
        });
        self
    }

    /// What to do when a refresh comes from a different client context (default: allow, with
    /// an event).
    pub fn anomaly_policy(mut self, policy: AnomalyPolicy) -> Self {
        self.cfg.anomaly = policy;
        self
    }

    /// Receives every session event (they also go to `tracing`).
    pub fn on_event(mut self, hook: impl Fn(&SessionEvent) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Checks the settings against each other and builds.
    pub fn build(self) -> Result<Keycard> {
        let cfg = self.cfg;
        let positive = [
            ("access_ttl", cfg.access_ttl),
            ("idle_timeout", cfg.idle),
            ("absolute_timeout", cfg.absolute),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, d)| d.as_secs() == 0) {
            return Err(Error::Config(format!("{name} must be at least one second")));
        }
        if cfg.idle > cfg.absolute {
            return Err(Error::Config(
                "idle_timeout exceeds absolute_timeout".into(),
            ));
        }
        if cfg.status.as_ref().is_some_and(|s| s.uri.is_empty()) {
            return Err(Error::Config(
                "status_list_ttl without status_list(uri)".into(),
            ));
        }
        if cfg.grace >= cfg.idle {
            return Err(Error::Config(
                "reuse_grace must be shorter than idle_timeout".into(),
            ));
        }
        let longest = cfg.access_ttl.max(cfg.idle);
        if self.keys.grace() < longest {
            return Err(Error::Config(format!(
                "the key ring's grace period ({}s) is shorter than the longest token lifetime ({}s): rotation would log users out",
                self.keys.grace().as_secs(),
                longest.as_secs()
            )));
        }
        if self.keys.active_refresh().is_none() {
            // Refresh tokens are sealed with a key that is never published. A ring loaded from a
            // key set that several nodes share should already hold one (see
            // `KeyRing::rotate_refresh_key`); a single node can make its own.
            let kid = self.keys.rotate_refresh_key()?;
            tracing::debug!(target: "keycard::keys", %kid, "generated a refresh-token key");
        }
        let mut cfg = cfg;
        if let Some(period) = cfg.dpop_nonces {
            let secret = self
                .keys
                .active_refresh()
                .and_then(|k| k.secret_bytes())
                .ok_or_else(|| Error::Config("DPoP nonces need a refresh-token key".into()))?;
            cfg.dpop_checker = cfg
                .dpop_checker
                .with_nonces(Some(crate::dpop::Nonces::new(&secret, period)));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::clone(self.keys.clock()));
        // The default store prunes revocations by the same clock everything else reads.
        let store = self.store.unwrap_or_else(|| {
            let list = RevocationList::new().with_clock(clock.clone());
            Arc::new(MemoryStore::with_revocations(Arc::new(list))) as Arc<dyn SessionStore>
        });
        if self.leeway < Duration::from_secs(1) {
            return Err(Error::Config(
                "the leeway must be at least 1 s: a login in the same second as a logout_all is minted one second ahead of it".into(),
            ));
        }
        let mut cfg = cfg;
        if let Some(status) = &mut cfg.status {
            status.uri = format!(
                "{}/{}",
                status.uri.trim_end_matches('/'),
                store.status_list_id()
            );
        }
        let margin = store.revocations().max_leeway();
        if self.leeway > margin {
            return Err(Error::Config(format!(
                "the leeway ({}s) exceeds the revocation list's margin ({}s): a revoked token could outlive its pruned entry",
                self.leeway.as_secs(),
                margin.as_secs()
            )));
        }
        let mut issuer = Issuer::new(self.keys.clone())
            .with_clock(clock.clone())
            .with_access_ttl(cfg.access_ttl)
            .with_refresh_ttl(cfg.idle);
        let mut verifier = Verifier::new(self.keys.clone())
            .with_clock(clock.clone())
            .with_leeway(self.leeway)
            .with_revocations(store.revocations())
            .with_cache(self.cache);
        if let Some(iss) = self.issuer {
            issuer = issuer.with_issuer(iss.clone());
            if self.check_issuer {
                verifier = verifier.with_issuer(iss);
            }
        }
        if let Some(aud) = self.audience {
            issuer = issuer.with_audience(aud.clone());
            verifier = verifier.with_audience(aud);
        }
        Ok(Keycard {
            issuer,
            verifier,
            store,
            clock,
            cfg,
            hook: self.hook,
            status_token: std::sync::Mutex::new(None),
        })
    }
}

/// Sessions over stateless tokens: login, refresh with rotation and reuse detection, logout,
/// log out everywhere, session listing, step-up.
///
/// ```
/// use std::sync::Arc;
/// use keycard::{Algorithm, Keycard, KeyRing, NoCustomClaims};
/// let keys = Arc::new(KeyRing::new());
/// keys.rotate(Algorithm::EdDSA)?;
/// let kc = Keycard::builder(keys).build()?;
///
/// let pair = kc.login("alice", &NoCustomClaims {}, None)?;
/// let verified = kc.verify::<NoCustomClaims>(pair.access.as_str())?;
/// let next = kc.refresh(pair.refresh.as_str(), None)?;      // rotates: pair.refresh retires
/// kc.logout(&verified)?;                                      // the whole session
/// assert_eq!(kc.verify::<NoCustomClaims>(next.access.as_str()).unwrap_err().kind(), "revoked");
/// # Ok::<(), keycard::Error>(())
/// ```
pub struct Keycard {
    issuer: Issuer,
    verifier: Verifier,
    store: Arc<dyn SessionStore>,
    clock: SharedClock,
    cfg: Config,
    hook: Option<EventHook>,
    /// The last Status List Token and when it was built (rebuilt at most once a second).
    status_token: std::sync::Mutex<Option<(std::time::Instant, Arc<str>)>>,
}

impl fmt::Debug for Keycard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keycard")
            .field("store", &self.store)
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Keycard {
    /// Starts building over `keys`.
    pub fn builder(keys: Arc<KeyRing>) -> KeycardBuilder {
        KeycardBuilder {
            keys,
            store: None,
            clock: None,
            issuer: None,
            check_issuer: true,
            audience: None,
            leeway: Verifier::DEFAULT_LEEWAY,
            cache: 0,
            cfg: Config {
                access_ttl: Duration::from_secs(5 * 60),
                idle: Duration::from_secs(30 * 60),
                absolute: Duration::from_secs(24 * 3600),
                grace: Duration::from_secs(10),
                access_format: Format::Jwt,
                limit: None,
                anomaly: AnomalyPolicy::Allow,
                status: None,
                dpop: DpopPolicy::Optional,
                dpop_checker: ProofChecker::default(),
                dpop_nonces: None,
                dpop_required_for: None,
            },
            hook: None,
        }
    }

    /// The verifier (with the revocation check attached).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The issuer (for tokens outside sessions).
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Now, on the keycard's clock (for an `expires_in` answer, say).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn emit(&self, event: SessionEvent) {
        event.trace();
        if let Some(hook) = &self.hook {
            hook(&event);
        }
    }

    /// Drives a store operation to completion on this thread: the blocking API. The rules live
    /// in the async methods; this only waits for them.
    fn wait<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        self.store.check_blocking()?;
        pollster::block_on(op)
    }

    // --- The blocking API (for non-async programs). Each method is its `_async` twin, waited on.

    /// Starts a session for `sub` (after the application checked the credentials): a new family
    /// with a fresh server-chosen `sid`, and its first token pair. `claims` (an object) is copied
    /// into every access token of the session.
    pub fn login<C: Serialize>(
        &self,
        sub: &str,
        claims: &C,
        context: Option<&ClientContext>,
    ) -> Result<TokenPair> {
        self.wait(self.login_async(sub, claims, context))
    }

    /// Verifies an access token (signature, claims, type, revocation). Never touches the store's
    /// network in full-replica or memory mode; see [`Keycard::verify_async`] for compact replicas.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<Access, C>> {
        self.verifier.verify_access(token)
    }

    /// Redeems a refresh token: checks it is the family's current one, rotates atomically and
    /// returns a new pair. See the module docs of `refresh` for retries and reuse.
    pub fn refresh(&self, token: &str, context: Option<&ClientContext>) -> Result<TokenPair> {
        self.wait(self.refresh_async(token, context))
    }

    /// [`Keycard::login_dpop_async`], waited on.
    pub fn login_dpop<C: Serialize>(
        &self,
        sub: &str,
        claims: &C,
        context: Option<&ClientContext>,
        dpop_jkt: Option<String>,
    ) -> Result<TokenPair> {
        self.wait(self.login_dpop_async(sub, claims, context, dpop_jkt))
    }

    /// [`Keycard::refresh_dpop_async`], waited on.
    pub fn refresh_dpop(
        &self,
        token: &str,
        context: Option<&ClientContext>,
        dpop_jkt: Option<&str>,
    ) -> Result<TokenPair> {
        self.wait(self.refresh_dpop_async(token, context, dpop_jkt))
    }

    /// [`Keycard::check_dpop_async`], waited on.
    pub fn check_dpop(&self, proof: &str, request: &ProofRequest<'_>) -> Result<Proof> {
        self.wait(self.check_dpop_async(proof, request))
    }

    /// [`Keycard::verify_dpop_async`], waited on.
    pub fn verify_dpop<C: DeserializeOwned>(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
    ) -> Result<(Verified<Access, C>, Proof)> {
        self.wait(self.verify_dpop_async(token, proof, method, url))
    }

    /// Logs out the session of a verified access token: every token of it stops working.
    pub fn logout<C>(&self, token: &Verified<Access, C>) -> Result<()> {
        self.wait(self.logout_async(token))
    }

    /// Logs out one session of `sub` (from a "your devices" screen); `unknown_session` if `sid`
    /// is not a session of `sub`.
    pub fn logout_session(&self, sub: &str, sid: &SessionId) -> Result<()> {
        self.wait(self.logout_session_async(sub, sid))
    }

    /// Logs `sub` out everywhere; see [`Keycard::logout_all_async`].
    pub fn logout_all(&self, sub: &str) -> Result<usize> {
        self.wait(self.logout_all_async(sub))
    }

    /// The live sessions of `sub`, oldest first.
    pub fn sessions(&self, sub: &str) -> Result<Vec<SessionInfo>> {
        self.wait(self.sessions_async(sub))
    }

    /// Privilege change; see [`Keycard::reissue_async`].
    pub fn reissue<C, N: Serialize>(
        &self,
        token: &Verified<Access, C>,
        claims: &N,
    ) -> Result<TokenPair> {
        self.wait(self.reissue_async(token, claims))
    }

    /// Records a successful re-authentication; see [`Keycard::step_up_async`].
    pub fn step_up<C>(&self, token: &Verified<Access, C>) -> Result<TokenPair> {
        self.wait(self.step_up_async(token))
    }

    /// Maintenance, to call every few seconds; see [`Keycard::maintain_async`].
    pub fn maintain(&self) -> Result<(usize, usize)> {
        self.wait(self.maintain_async())
    }

    /// `reauth_required` unless the user proved their credentials within `max_age` (the token's
    /// `auth_time`): guard sensitive actions with it, then ask for the password and call
    /// [`Keycard::step_up`].
    pub fn require_recent_auth<C>(
        &self,
        token: &Verified<Access, C>,
        max_age: Duration,
    ) -> Result<()> {
        let auth_time = token.claims().auth_time().ok_or(Error::ReauthRequired)?;
        if self.now().duration_since(auth_time) > max_age || auth_time > self.now() {
            return Err(Error::ReauthRequired);
        }
        Ok(())
    }

    // --- The async API (for servers on an async runtime): the one implementation of the rules.

    /// [`Keycard::login`] for async code.
    pub fn login_async<'a, C: Serialize>(
        &'a self,
        sub: &'a str,
        claims: &C,
        context: Option<&'a ClientContext>,
    ) -> impl Future<Output = Result<TokenPair>> + Send + 'a {
        self.login_dpop_async(sub, claims, context, None)
    }

    /// [`Keycard::login_async`] binding the session to the DPoP key the login request proved
    /// (the `jkt` of a proof checked with [`Keycard::check_dpop_async`]): its access tokens carry
    /// `cnf.jkt`, and it refreshes only with proofs by that key. With
    /// [`DpopPolicy::Required`] a login without a key is refused; with [`DpopPolicy::Off`] the
    /// key is ignored.
    pub fn login_dpop_async<'a, C: Serialize>(
        &'a self,
        sub: &'a str,
        claims: &C,
        context: Option<&'a ClientContext>,
        dpop_jkt: Option<String>,
    ) -> impl Future<Output = Result<TokenPair>> + Send + 'a {
        let claims = crate::claims::custom_members(claims);
        async move {
            let claims = claims?;
            let required = self.dpop_required(sub, context.unwrap_or(&ClientContext::default()));
            let dpop_jkt = match (self.cfg.dpop, dpop_jkt) {
                (DpopPolicy::Off, _) => None,
                (_, None) if required => {
                    return Err(Error::InvalidDpopProof(
                        "this service requires a DPoP proof at login",
                    ));
                }
                (_, jkt) => jkt,
            };
            let mut now = self.now();
            if self.subject_revoked_at(sub, now).await? {
                // A "log out everywhere" happened this very second and revokes every token
                // issued up to and including it; the new session starts one second later so its
                // tokens are not caught (the leeway, at least 1 s, accepts an `iat` one second
                // ahead).
                now = now.saturating_add(Duration::from_secs(1));
            }
            let absolute_deadline = now.saturating_add(self.cfg.absolute);
            let status = self.new_status(absolute_deadline).await?;
            let family = Family {
                sid: SessionId::random(),
                sub: sub.to_owned(),
                generation: 0,
                created: now,
                rotated_at: now,
                idle_deadline: now.saturating_add(self.cfg.idle).min(absolute_deadline),
                absolute_deadline,
                auth_time: now,
                claims,
                context: context.cloned().unwrap_or_default(),
                status,
                dpop_jkt,
            };
            // Mint first: a family is only stored once its tokens exist. The session limit is
            // checked and the family added in one atomic step of the store.
            let pair = match self.pair(&family, now) {
                Ok(pair) => pair,
                Err(e) => {
                    self.free_status(&family).await?;
                    return Err(e);
                }
            };
            match self.store.insert(&family, self.cfg.limit).await? {
                Admission::Refused => {
                    // No token naming the index left this function: it may be reused at once.
                    self.free_status(&family).await?;
                    return Err(Error::SessionLimit);
                }
                Admission::Admitted { evicted } => {
                    self.revoke_removed(&evicted, Some(RevokeReason::Evicted))
                        .await?;
                }
            }
            self.emit(SessionEvent::Issued {
                sid: family.sid.clone(),
                sub: family.sub.clone(),
            });
            Ok(pair)
        }
    }

    /// Whether tokens of `sub` issued at `now` would be revoked by a subject cutoff.
    async fn subject_revoked_at(&self, sub: &str, now: Timestamp) -> Result<bool> {
        let probe = TokenId::random();
        let facts = TokenFacts {
            token_id: &probe,
            session_id: None,
            subject: sub,
            issued_at: now,
            expires_at: now,
            status: None,
        };
        self.store.revocations().check_async(facts).await
    }

    /// [`Keycard::verify`] for async code: the revocation check is awaited, so a compact
    /// replica confirming a filter hit over the network never blocks a runtime thread.
    pub async fn verify_async<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<Access, C>> {
        self.verifier.verify_access_async(token).await
    }

    /// [`Keycard::refresh`] for async code.
    pub async fn refresh_async(
        &self,
        token: &str,
        context: Option<&ClientContext>,
    ) -> Result<TokenPair> {
        self.refresh_dpop_async(token, context, None).await
    }

    /// [`Keycard::refresh_async`] with the DPoP key the request proved (the `jkt` of a proof
    /// checked with [`Keycard::check_dpop_async`]). A session bound to a key refreshes only
    /// with a proof by that key; a refresh without one, or by another key, is refused
    /// (`invalid_dpop_proof`) before anything changes, so a thief without the key can neither
    /// refresh nor, by replaying, end the session. A session is bound at login only: a proof at
    /// the refresh of a bearer session binds nothing ([`TokenPair::token_type`] stays
    /// `Bearer`), so the thief of a bearer refresh token cannot bind the session to their key
    /// and so keep its owner's replay from revoking it.
    pub async fn refresh_dpop_async(
        &self,
        token: &str,
        context: Option<&ClientContext>,
        dpop_jkt: Option<&str>,
    ) -> Result<TokenPair> {
        let verified = self
            .verifier
            .verify_refresh_async::<RefreshClaims>(token)
            .await
            .map_err(|e| match e {
                Error::Expired { .. } => Error::SessionExpired,
                other => other,
            })?;
        let claims = verified.claims();
        let sub = claims.subject();
        let sid = claims
            .session_id()
            .cloned()
            .ok_or(Error::MissingClaim("sid"))?;
        let presented = claims.custom().g;
        for _ in 0..8 {
            let now = self.now();
            let Some(family) = self.store.get(sub, &sid).await? else {
                return Err(Error::SessionExpired);
            };
            match (family.dpop_jkt.as_deref(), dpop_jkt) {
                (Some(bound), Some(proved)) if bound == proved => {}
                (Some(_), Some(_)) => {
                    return Err(Error::InvalidDpopProof(
                        "the session is bound to another DPoP key",
                    ));
                }
                (Some(_), None) => {
                    return Err(Error::InvalidDpopProof(
                        "the session is bound to a DPoP key: refresh with a proof",
                    ));
                }
                // A bearer session the policy now requires to be bound (the policy changed
                // since its login) refreshes no more: its user logs in again, with a proof.
                (None, _) if self.dpop_required(&family.sub, &family.context) => {
                    return Err(Error::InvalidDpopProof(
                        "this service requires DPoP-bound sessions: log in with a proof",
                    ));
                }
                (None, _) => {}
            }
            match decide(&family, presented, now, self.cfg.grace) {
                Decision::Expired(timeout) => {
                    self.expire(&family, timeout).await?;
                    return Err(Error::SessionExpired);
                }
                Decision::Theft => {
                    self.emit(SessionEvent::ReuseDetected {
                        sid: sid.clone(),
                        sub: family.sub.clone(),
                        cause: ReuseCause::Theft,
                        family_revoked: true,
                    });
                    self.end_family(sub, &sid, Some(RevokeReason::Theft))
                        .await?;
                    return Err(Error::RefreshReuseDetected);
                }
                Decision::Retry(cause) => {
                    // A retry hands out the current pair: the same client checks as a rotation.
                    if let Some(ctx) = context {
                        self.check_anomaly(&family, ctx).await?;
                    }
                    self.emit(SessionEvent::ReuseDetected {
                        sid: sid.clone(),
                        sub: family.sub.clone(),
                        cause,
                        family_revoked: false,
                    });
                    return self.pair(&family, now);
                }
                Decision::Rotate => {
                    if let Some(ctx) = context {
                        self.check_anomaly(&family, ctx).await?;
                    }
                    let next = self.rotated(&family, now);
                    match self
                        .store
                        .compare_and_swap(family.generation, &next)
                        .await?
                    {
                        CasOutcome::Swapped => {
                            self.emit(SessionEvent::Refreshed {
                                sid: sid.clone(),
                                sub: next.sub.clone(),
                                generation: next.generation,
                            });
                            return self.pair(&next, now);
                        }
                        CasOutcome::Conflict(_) => continue,
                        CasOutcome::Missing => return Err(Error::SessionExpired),
                    }
                }
            }
        }
        Err(Error::Config(
            "refresh kept conflicting; too much contention on one session".into(),
        ))
    }

    /// `family` one generation on, rotated at `now`: the idle deadline restarts, capped by the
    /// absolute one.
    fn rotated(&self, family: &Family, now: Timestamp) -> Family {
        let mut next = family.clone();
        next.generation += 1;
        next.rotated_at = now;
        next.idle_deadline = now
            .saturating_add(self.cfg.idle)
            .min(family.absolute_deadline);
        next
    }

    async fn check_anomaly(&self, family: &Family, ctx: &ClientContext) -> Result<()> {
        let changed = ctx.changes_from(&family.context);
        if changed.is_empty() {
            return Ok(());
        }
        let info = AnomalyInfo {
            sid: family.sid.clone(),
            sub: family.sub.clone(),
            changed,
        };
        let decision = match &self.cfg.anomaly {
            AnomalyPolicy::Allow => AnomalyDecision::Allow,
            AnomalyPolicy::Revoke => AnomalyDecision::Revoke,
            AnomalyPolicy::Decide(f) => f(&info),
        };
        self.emit(SessionEvent::Anomaly { info, decision });
        if decision == AnomalyDecision::Revoke {
            self.end_family(&family.sub, &family.sid, Some(RevokeReason::Anomaly))
                .await?;
            return Err(Error::Revoked);
        }
        Ok(())
    }

    /// The access token and the current refresh token of `family` at `now`.
    fn pair(&self, family: &Family, now: Timestamp) -> Result<TokenPair> {
        let access_exp = now
            .saturating_add(self.cfg.access_ttl)
            .min(family.absolute_deadline);
        let access = self
            .issuer
            .access(&family.sub)
            .claims(&family.claims)
            .session(family.sid.clone())
            .format(self.cfg.access_format)
            .auth_time(family.auth_time)
            .fixed(TokenId::random(), now, access_exp);
        let access = match &family.dpop_jkt {
            Some(jkt) => access.dpop_jkt(jkt.clone()),
            None => access,
        };
        let access = match (&self.cfg.status, family.status) {
            (Some(cfg), Some(idx)) => access.status(StatusRef {
                idx: u64::from(idx),
                uri: cfg.uri.clone(),
            }),
            _ => access,
        }
        .mint()?;
        let refresh = self
            .issuer
            .refresh(&family.sub)
            .claims(&RefreshClaims {
                g: family.generation,
            })
            .session(family.sid.clone())
            .auth_time(family.auth_time)
            .fixed(
                refresh_token_id(&family.sid, family.generation),
                family.rotated_at,
                family.idle_deadline,
            )
            .mint()?;
        Ok(TokenPair {
            access,
            refresh,
            session: family.sid.clone(),
            dpop_jkt: family.dpop_jkt.clone(),
        })
    }

    /// Removes a family and revokes every token of it until its absolute deadline. `sid` must be
    /// known to belong to `sub` (it came from `sub`'s verified token, or from the store): when
    /// the family is already gone, the session is revoked anyway.
    async fn end_family(
        &self,
        sub: &str,
        sid: &SessionId,
        reason: Option<RevokeReason>,
    ) -> Result<Option<Family>> {
        let family = self.store.remove(sub, sid).await?;
        match &family {
            Some(f) => self.revoke_removed(std::slice::from_ref(f), reason).await?,
            None => {
                // Gone already (expired, or ended elsewhere): revoke the id anyway.
                let until = self.now().saturating_add(self.cfg.absolute);
                let r = Revoke::Session {
                    sid: sid.clone(),
                    until,
                };
                self.store.revoke(std::slice::from_ref(&r)).await?;
            }
        }
        Ok(family)
    }

    /// How long after a session ends no token can name its status index any more: its last
    /// access token's lifetime and the leeway, plus the list's `ttl` (no cached list still shows
    /// the old session) and a minute.
    fn status_reuse_delay(&self) -> Duration {
        let ttl = self.cfg.status.as_ref().map_or(Duration::ZERO, |s| s.ttl);
        self.cfg.access_ttl + self.verifier.leeway() + ttl + Duration::from_secs(60)
    }

    /// A status index for a new session ending by `absolute_deadline`, when a list is published.
    async fn new_status(&self, absolute_deadline: Timestamp) -> Result<Option<u32>> {
        if self.cfg.status.is_none() {
            return Ok(None);
        }
        let mut random = [0u8; 8];
        crate::keys::material::os_random(&mut random)?;
        let reusable = absolute_deadline.saturating_add(self.status_reuse_delay());
        let idx = self
            .store
            .status_allocate(u64::from_le_bytes(random), reusable)
            .await?;
        Ok(Some(idx))
    }

    /// Checks a DPoP proof for `request` (RFC 9449; see [`crate::dpop`]) and claims its one-time
    /// use in the store (atomic across nodes on Redis): a replayed proof is `invalid_dpop_proof`,
    /// a proof without the current server nonce (when nonces are on) `use_dpop_nonce`. Returns
    /// the proof's key thumbprint, for [`Keycard::login_dpop_async`] and
    /// [`Keycard::refresh_dpop_async`], or to compare with an access token's `cnf.jkt`.
    pub async fn check_dpop_async(&self, proof: &str, request: &ProofRequest<'_>) -> Result<Proof> {
        self.dpop_on()?;
        let log = StoreProofs(self.store.as_ref());
        let checker = &self.cfg.dpop_checker;
        crate::dpop::check_and_claim(checker, &log, proof, request, self.now(), None).await
    }

    /// Whether a session of `sub` from `context` must be DPoP-bound (the policy, or the rule of
    /// [`KeycardBuilder::dpop_required_for`]).
    fn dpop_required(&self, sub: &str, context: &ClientContext) -> bool {
        match self.cfg.dpop {
            DpopPolicy::Required => true,
            DpopPolicy::Optional => self
                .cfg
                .dpop_required_for
                .as_ref()
                .is_some_and(|rule| (rule.0)(sub, context)),
            DpopPolicy::Off => false,
        }
    }

    fn dpop_on(&self) -> Result<()> {
        if self.cfg.dpop == DpopPolicy::Off {
            return Err(Error::InvalidDpopProof("DPoP is off on this service"));
        }
        Ok(())
    }

    /// Verifies a DPoP-bound access token sent with its proof: [`Verifier::verify_dpop_async`]
    /// with this keycard's proof checks (window, nonces) and its session store as the proof
    /// log (so a proof is used once across every node of a shared store).
    ///
    /// ```
    /// # use keycard::{Keycard, NoCustomClaims};
    /// # async fn demo(kc: &Keycard, token: &str, proof: &str) -> keycard::Result<()> {
    /// let (verified, _proof) = kc
    ///     .verify_dpop_async::<NoCustomClaims>(token, proof, "GET", "https://api.example/me")
    ///     .await?;
    /// println!("{} on a key it holds", verified.subject());
    /// # Ok(()) }
    /// ```
    pub async fn verify_dpop_async<C: DeserializeOwned>(
        &self,
        token: &str,
        proof: &str,
        method: &str,
        url: &str,
    ) -> Result<(Verified<Access, C>, Proof)> {
        self.dpop_on()?;
        let log = StoreProofs(self.store.as_ref());
        self.verifier
            .verify_dpop_async(token, proof, method, url, &self.cfg.dpop_checker, &log)
            .await
    }

    /// The DPoP nonce clients should put in their next proof, when nonces are on.
    pub fn dpop_nonce(&self) -> Option<String> {
        self.cfg.dpop_checker.nonce(self.now())
    }

    /// The DPoP policy.
    pub fn dpop_policy(&self) -> DpopPolicy {
        self.cfg.dpop
    }

    /// Drops the cached Status List Token: this node just changed a bit (other nodes of a shared
    /// store show it within their second).
    fn forget_status_token(&self) {
        *self.status_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Gives back the index of a session that never handed out a token.
    async fn free_status(&self, family: &Family) -> Result<()> {
        if let Some(idx) = family.status {
            self.store.status_mark(&[(idx, self.now())]).await?;
        }
        Ok(())
    }

    /// The Token Status List Token (feature `status-list`): a JWT with `typ: statuslist+jwt`,
    /// signed with the active JWT key, `sub` = the list's URI, `iat` now, `ttl` as configured,
    /// `exp` four `ttl`s later (at least a minute), and every session's bit. Serve it at the
    /// URI with `Content-Type: application/statuslist+jwt`. Built at most once a second (at a
    /// million sessions with 10% logged out, building and compressing takes about 150 ms), so
    /// a logout shows in it within a second.
    #[cfg(feature = "status-list")]
    pub async fn status_list_token_async(&self) -> Result<String> {
        let cached = |guard: &Option<(std::time::Instant, Arc<str>)>| {
            guard
                .as_ref()
                .filter(|(at, _)| at.elapsed() < Duration::from_secs(1))
                .map(|(_, t)| t.to_string())
        };
        if let Some(t) = cached(&self.status_token.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(t);
        }
        let token = self.build_status_list_token().await?;
        *self.status_token.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), Arc::from(token.as_str())));
        Ok(token)
    }

    #[cfg(feature = "status-list")]
    async fn build_status_list_token(&self) -> Result<String> {
        let cfg = self.cfg.status.as_ref().ok_or_else(|| {
            Error::Config("this keycard publishes no status list (status_list(uri))".into())
        })?;
        let bits = crate::status::StatusBits::new(1, self.store.status_bits().await?)?;
        let key = self
            .issuer
            .keys()
            .active(Format::Jwt)
            .ok_or_else(|| Error::Config("no active JWT key to sign the status list".into()))?;
        crate::status::mint_status_list(
            &key,
            self.issuer.iss(),
            &cfg.uri,
            &bits,
            self.now(),
            cfg.ttl,
            (cfg.ttl * 4).max(Duration::from_secs(60)),
        )
    }

    /// [`Keycard::status_list_token_async`], blocking.
    #[cfg(feature = "status-list")]
    pub fn status_list_token(&self) -> Result<String> {
        self.wait(self.status_list_token_async())
    }

    /// The URI of the published status list, if any.
    pub fn status_list_uri(&self) -> Option<&str> {
        self.cfg.status.as_ref().map(|s| s.uri.as_str())
    }

    /// How long verifiers may cache the published status list, if any.
    pub fn status_list_ttl(&self) -> Option<Duration> {
        self.cfg.status.as_ref().map(|s| s.ttl)
    }

    /// Revokes every token of families already removed from the store, each until its absolute
    /// deadline (no token of a family expires later).
    async fn revoke_removed(
        &self,
        families: &[Family],
        reason: Option<RevokeReason>,
    ) -> Result<()> {
        if families.is_empty() {
            return Ok(());
        }
        let revocations: Vec<Revoke> = families
            .iter()
            .map(|f| Revoke::Session {
                sid: f.sid.clone(),
                until: f.absolute_deadline,
            })
            .collect();
        self.store.revoke(&revocations).await?;
        if self.cfg.status.is_some() {
            let reusable = self.now().saturating_add(self.status_reuse_delay());
            let marks: Vec<(u32, Timestamp)> = families
                .iter()
                .filter_map(|f| f.status.map(|idx| (idx, reusable)))
                .collect();
            if !marks.is_empty() {
                self.store.status_mark(&marks).await?;
                self.forget_status_token();
            }
        }
        if let Some(reason) = reason {
            for f in families {
                self.emit(SessionEvent::Revoked {
                    sid: f.sid.clone(),
                    sub: f.sub.clone(),
                    reason,
                });
            }
        }
        Ok(())
    }

    async fn expire(&self, family: &Family, timeout: Timeout) -> Result<()> {
        self.store.remove(&family.sub, &family.sid).await?;
        self.emit(SessionEvent::Expired {
            sid: family.sid.clone(),
            sub: family.sub.clone(),
            timeout,
        });
        Ok(())
    }

    /// [`Keycard::logout`] for async code.
    pub fn logout_async<C>(
        &self,
        token: &Verified<Access, C>,
    ) -> impl Future<Output = Result<()>> + Send + '_ {
        let sub = token.subject().to_owned();
        let sid = token.session_id().cloned();
        async move {
            let sid = sid.ok_or(Error::MissingClaim("sid"))?;
            self.end_family(&sub, &sid, None).await?;
            self.emit(SessionEvent::LoggedOut { sid, sub });
            Ok(())
        }
    }

    /// [`Keycard::logout_session`] for async code.
    pub async fn logout_session_async(&self, sub: &str, sid: &SessionId) -> Result<()> {
        // Only a session of `sub` is ended: an id of someone else's session finds nothing in the
        // store and revokes nothing (unlike a logout, whose sid comes from `sub`'s own token).
        match self.store.remove(sub, sid).await? {
            Some(f) => {
                self.revoke_removed(std::slice::from_ref(&f), None).await?;
                self.emit(SessionEvent::LoggedOut {
                    sid: sid.clone(),
                    sub: sub.to_owned(),
                });
                Ok(())
            }
            None => Err(Error::UnknownSession),
        }
    }

    /// Logs `sub` out everywhere: every token of `sub` issued up to now stops working, on every
    /// session, including tokens minted outside sessions. Returns how many sessions ended.
    ///
    /// Each family is removed and its session revoked, and only then is the subject's cutoff
    /// taken: a refresh racing this call either lands before the removal (its tokens are revoked
    /// with the session, and are issued before the cutoff) or after it (the family is gone). The
    /// cutoff is kept for the longest lifetime any token can have: the absolute timeout, or the
    /// key ring's grace period, which bounds tokens minted through [`Keycard::issuer`].
    pub async fn logout_all_async(&self, sub: &str) -> Result<usize> {
        let started = self.now();
        let mut removed = Vec::new();
        for f in self.store.by_subject(sub).await? {
            if let Some(gone) = self.store.remove(sub, &f.sid).await? {
                removed.push(gone);
            }
        }
        self.revoke_removed(&removed, None).await?;
        let cutoff = self.now();
        let longest = self.cfg.absolute.max(self.issuer.keys().grace());
        let r = Revoke::Subject {
            sub: sub.to_owned(),
            issued_before: cutoff,
            until: cutoff.saturating_add(longest),
        };
        self.store.revoke(std::slice::from_ref(&r)).await?;
        let sessions = removed.iter().filter(|f| f.is_live(started)).count();
        self.emit(SessionEvent::LoggedOutEverywhere {
            sub: sub.to_owned(),
            sessions,
        });
        Ok(sessions)
    }

    /// [`Keycard::sessions`] for async code.
    pub async fn sessions_async(&self, sub: &str) -> Result<Vec<SessionInfo>> {
        let now = self.now();
        let mut live: Vec<Family> = self
            .store
            .by_subject(sub)
            .await?
            .into_iter()
            .filter(|f| f.is_live(now))
            .collect();
        live.sort_by_key(|f| (f.created, f.sid.clone()));
        Ok(live.iter().map(SessionInfo::from).collect())
    }

    /// Privilege change: starts a new family (new `sid`) with `claims` for the same subject and
    /// revokes the old one. The new session keeps the old one's absolute deadline and
    /// `auth_time`: a privilege change never extends a session.
    pub fn reissue_async<'a, C, N: Serialize>(
        &'a self,
        token: &Verified<Access, C>,
        claims: &N,
    ) -> impl Future<Output = Result<TokenPair>> + Send + 'a {
        let claims = crate::claims::custom_members(claims);
        let sub = token.subject().to_owned();
        let sid = token.session_id().cloned();
        async move {
            let claims = claims?;
            let old = self.own_family(&sub, sid.as_ref()).await?;
            let now = self.now();
            let family = Family {
                sid: SessionId::random(),
                sub: old.sub.clone(),
                generation: 0,
                created: now,
                rotated_at: now,
                idle_deadline: now.saturating_add(self.cfg.idle).min(old.absolute_deadline),
                absolute_deadline: old.absolute_deadline,
                auth_time: old.auth_time,
                claims,
                context: old.context.clone(),
                status: self.new_status(old.absolute_deadline).await?,
                // A privilege change keeps the session's DPoP binding: never a downgrade.
                dpop_jkt: old.dpop_jkt.clone(),
            };
            let pair = self.pair(&family, now)?;
            self.store.insert(&family, None).await?;
            self.end_family(&old.sub, &old.sid, Some(RevokeReason::PrivilegeChange))
                .await?;
            self.emit(SessionEvent::Issued {
                sid: family.sid.clone(),
                sub: family.sub.clone(),
            });
            Ok(pair)
        }
    }

    async fn own_family(&self, sub: &str, sid: Option<&SessionId>) -> Result<Family> {
        let sid = sid.ok_or(Error::UnknownSession)?;
        match self.store.get(sub, sid).await? {
            Some(f) if f.is_live(self.now()) => Ok(f),
            _ => Err(Error::UnknownSession),
        }
    }

    /// Records a successful re-authentication (the application checked the password again):
    /// the family's `auth_time` becomes now, it rotates, and the new pair carries the new
    /// `auth_time`.
    pub fn step_up_async<C>(
        &self,
        token: &Verified<Access, C>,
    ) -> impl Future<Output = Result<TokenPair>> + Send + '_ {
        let sub = token.subject().to_owned();
        let sid = token.session_id().cloned();
        async move {
            for _ in 0..8 {
                let family = self.own_family(&sub, sid.as_ref()).await?;
                let now = self.now();
                let mut next = self.rotated(&family, now);
                next.auth_time = now;
                match self
                    .store
                    .compare_and_swap(family.generation, &next)
                    .await?
                {
                    CasOutcome::Swapped => {
                        self.emit(SessionEvent::Reauthenticated {
                            sid: next.sid.clone(),
                            sub: next.sub.clone(),
                        });
                        return self.pair(&next, now);
                    }
                    CasOutcome::Conflict(_) => continue,
                    CasOutcome::Missing => return Err(Error::UnknownSession),
                }
            }
            Err(Error::Config(
                "step-up kept conflicting; too much contention on one session".into(),
            ))
        }
    }

    /// Maintenance, to call every few seconds: the store's housekeeping (pruning revocations;
    /// for a distributed store, its replica's work) and ending sessions whose timeouts passed.
    /// Returns (revocations pruned, sessions expired).
    pub async fn maintain_async(&self) -> Result<(usize, usize)> {
        let pruned = self.store.maintain().await?;
        let now = self.now();
        if self.cfg.status.is_some() && self.store.status_reclaim(now).await? > 0 {
            self.forget_status_token();
        }
        let expired = self.store.remove_expired(now).await?;
        for f in &expired {
            let timeout = if now >= f.absolute_deadline {
                Timeout::Absolute
            } else {
                Timeout::Idle
            };
            self.emit(SessionEvent::Expired {
                sid: f.sid.clone(),
                sub: f.sub.clone(),
                timeout,
            });
        }
        Ok((pruned, expired.len()))
    }
}
