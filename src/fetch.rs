//! Bounded HTTP GETs of public documents (feature `jwks-remote`): JWK Sets, OpenID Connect
//! discovery documents, Token Status Lists.
//!
//! - HTTPS only unless plain `http` is explicitly allowed (loopback demos and tests);
//! - rustls with the ring provider and Mozilla's root certificates (`webpki-roots`): no OpenSSL,
//!   no system trust store, the same trust on every machine;
//! - no redirects (a redirect could take a fetch to plain http or to another host); no proxy from
//!   the environment; no cookies;
//! - a whole-request timeout, and a size limit enforced while the body streams in (a
//!   `Content-Length` over the limit is refused before any body is read);
//! - only a `200` answer is a document.
//!
//! Every URL fetched here comes from configuration (or from a discovery document fetched from
//! configuration), never from a token: `jku` and `x5u` stay forbidden.

use std::sync::Arc;
use std::time::Duration;

/// Why a fetch failed, for the caller to map to its error kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// Plain `http` without permission, or not a URL at all.
    Refused(String),
    /// Connection, TLS, timeout.
    Transport(String),
    /// A status other than 200.
    Status(u16),
    /// The body exceeds the limit.
    TooLarge(usize),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Refused(why) => write!(f, "{why}"),
            FetchError::Transport(why) => write!(f, "{why}"),
            FetchError::Status(code) => write!(f, "HTTP status {code}"),
            FetchError::TooLarge(limit) => write!(f, "the response exceeds {limit} bytes"),
        }
    }
}

/// An HTTP client with the rules above.
#[derive(Clone, Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    allow_http: bool,
    max_bytes: usize,
}

impl Fetcher {
    pub(crate) fn new(
        timeout: Duration,
        max_bytes: usize,
        allow_http: bool,
    ) -> Result<Fetcher, FetchError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Transport(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("keycard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Transport(format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            allow_http,
            max_bytes,
        })
    }

    /// Whether `url` may be fetched: `https://…`, or `http://…` when allowed.
    pub(crate) fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let lower = url
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if lower.starts_with("https://") {
            return Ok(());
        }
        if lower.starts_with("http://") {
            return if self.allow_http {
                Ok(())
            } else {
                Err(FetchError::Refused(format!(
                    "`{}` is plain http (allow it explicitly, for loopback tests only)",
                    crate::error::sanitize(url)
                )))
            };
        }
        Err(FetchError::Refused(format!(
            "`{}` is not an https URL",
            crate::error::sanitize(url)
        )))
    }

    /// GETs `url` and returns its body.
    pub(crate) async fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, FetchError> {
        self.check_url(url)?;
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| FetchError::Transport(transport(&e)))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status(status));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Transport(transport(&e)))?
        {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A transport error's text without the URL's query (reqwest prints the URL).
fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "transport error".to_owned()
    }
}
