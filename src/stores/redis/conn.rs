//! One connection type for a single Redis server and for a Redis Cluster, and the mapping of
//! Redis errors to keycard's.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, ScriptInvocation, Value};

use crate::error::Error;

/// Where the store's Redis is.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// One server (or a primary with replicas behind a proxy): `redis://host:port/db`.
    Single(String),
    /// A Redis Cluster, given some of its nodes.
    Cluster(Vec<String>),
}

/// A multiplexed connection that reconnects by itself, to a server or to a cluster. Cloning is
/// cheap: clones share the connection.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    /// Connects, with `timeout` as both the connection and the per-command response timeout.
    pub(crate) async fn open(target: &Target, timeout: Duration) -> Result<Conn, Error> {
        match target {
            Target::Single(url) => {
                let info = redis::IntoConnectionInfo::into_connection_info(url.as_str())
                    .map_err(config)?
                    .set_tcp_settings(tcp());
                let client = redis::Client::open(info).map_err(config)?;
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_secs(2))
                    .set_number_of_retries(3);
                let manager = ConnectionManager::new_with_config(client, cfg)
                    .await
                    .map_err(unavailable)?;
                Ok(Conn::Single(manager))
            }
            Target::Cluster(urls) => {
                let client =
                    redis::cluster::ClusterClient::builder(urls.iter().map(String::as_str))
                        .connection_timeout(timeout)
                        .response_timeout(timeout)
                        .tcp_settings(tcp())
                        .retries(3)
                        .build()
                        .map_err(config)?;
                let conn = client.get_async_connection().await.map_err(unavailable)?;
                Ok(Conn::Cluster(conn))
            }
        }
    }

    /// Runs one command (retried while the connection is being re-established).
    pub(crate) async fn query<T: redis::FromRedisValue>(&mut self, cmd: &Cmd) -> Result<T, Error> {
        let mut delay = Duration::from_millis(50);
        for _ in 0..RETRIES {
            match cmd.query_async(self).await {
                Err(e) if unsent(&e) => pause(&mut delay).await,
                other => return other.map_err(unavailable),
            }
        }
        cmd.query_async(self).await.map_err(unavailable)
    }

    /// Runs a script (retried while the connection is being re-established).
    pub(crate) async fn invoke<T: redis::FromRedisValue>(
        &mut self,
        script: &ScriptInvocation<'_>,
    ) -> Result<T, redis::RedisError> {
        let mut delay = Duration::from_millis(50);
        for _ in 0..RETRIES {
            match script.invoke_async(self).await {
                Err(e) if unsent(&e) => pause(&mut delay).await,
                other => return other,
            }
        }
        script.invoke_async(self).await
    }
}

/// Small requests and replies, one at a time per session: no Nagle delay.
fn tcp() -> redis::io::tcp::TcpSettings {
    redis::io::tcp::TcpSettings::default().set_nodelay(true)
}

/// How many times a request that was never sent is tried again.
const RETRIES: usize = 3;

/// Whether the request certainly never reached Redis, so that sending it again cannot apply it
/// twice: the connection was refused (a manager reconnecting after an outage answers the first
/// request with its last connection error).
fn unsent(e: &redis::RedisError) -> bool {
    e.is_connection_refusal()
}

async fn pause(delay: &mut Duration) {
    tokio::time::sleep(*delay).await;
    *delay *= 2;
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// A Redis failure while serving a request: the store is unavailable (retryable). The message is
/// Redis's own (it names no token and no secret).
pub(crate) fn unavailable(e: redis::RedisError) -> Error {
    Error::StoreUnavailable(e.to_string())
}

fn config(e: redis::RedisError) -> Error {
    Error::Config(format!("redis: {e}"))
}
