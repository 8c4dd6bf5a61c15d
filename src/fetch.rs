//! Bounded HTTP GETs of public documents (feature `jwks-remote`): JWK Sets, OpenID Connect
//! discovery documents, Token Status Lists.
//!
//! - HTTPS only unless plain `http` is explicitly allowed (loopback demos and tests);
//! - hyper's client with rustls, the ring provider and Mozilla's root certificates
//!   (`webpki-roots`): no OpenSSL, no system trust store (the same trust on every machine), and no
//!   process-wide TLS provider installed behind the application's back (why not reqwest: its
//!   rustls mode without aws-lc makes every other reqwest client in the build depend on such a
//!   global provider);
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

use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

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
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    allow_http: bool,
    max_bytes: usize,
    timeout: Duration,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allow_http", &self.allow_http)
            .field("max_bytes", &self.max_bytes)
            .field("timeout", &self.timeout)
            .finish()
    }
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
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            // Plain http is refused (or allowed) by `check_url`, before any connection.
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Fetcher {
            client,
            allow_http,
            max_bytes,
            timeout,
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
        let uri: hyper::Uri = url.parse().map_err(|_| {
            FetchError::Refused(format!("`{}` is not a URL", crate::error::sanitize(url)))
        })?;
        let request = hyper::Request::get(uri)
            .header(hyper::header::ACCEPT, accept)
            .header(
                hyper::header::USER_AGENT,
                concat!("keycard/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|_| FetchError::Refused("a request that cannot be built".into()))?;
        let work = async {
            let response = self.client.request(request).await.map_err(|e| {
                FetchError::Transport(if e.is_connect() {
                    "cannot connect".to_owned()
                } else {
                    "transport error".to_owned()
                })
            })?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(FetchError::Status(status));
            }
            let declared = response
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > self.max_bytes as u64) {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            let body = Limited::new(response.into_body(), self.max_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<LengthLimitError>().is_some() {
                        FetchError::TooLarge(self.max_bytes)
                    } else {
                        FetchError::Transport("transport error".to_owned())
                    }
                })?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| FetchError::Transport("timed out".to_owned()))?
    }
}
