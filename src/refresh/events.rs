//! Session events: emitted as `tracing` events (target `keycard::session`) and to an optional
//! hook. No token and no secret ever appears in an event; ids, subjects and causes do.

use std::fmt;
use std::sync::Arc;

use crate::claims::SessionId;

/// Why a retired refresh token came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReuseCause {
    /// Within the grace interval, more than a second after the rotation: a client retrying after
    /// losing the response. Tolerated.
    LostResponse,
    /// Within a second of the rotation: two requests racing with the same token. Tolerated.
    Concurrent,
    /// Outside the grace interval, or an older generation: treated as theft; the family is
    /// revoked.
    Theft,
}

impl ReuseCause {
    /// `lost_response`, `concurrent` or `theft`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReuseCause::LostResponse => "lost_response",
            ReuseCause::Concurrent => "concurrent",
            ReuseCause::Theft => "theft",
        }
    }
}

/// Which timeout ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The refresh token was not used within the idle timeout.
    Idle,
    /// The session reached login + absolute timeout.
    Absolute,
}

/// Why a family was revoked (other than by a logout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeReason {
    /// Refresh-token reuse detected.
    Theft,
    /// Replaced by a new family after a privilege change (`reissue`).
    PrivilegeChange,
    /// Evicted to make room under the concurrent-session limit.
    Evicted,
    /// The anomaly policy decided so.
    Anomaly,
}

/// What the anomaly policy decides about a refresh from a different client context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnomalyDecision {
    /// Let the refresh proceed (the event is still emitted).
    Allow,
    /// Revoke the family; the refresh fails with `revoked`.
    Revoke,
}

/// A refresh whose client context differs from the one the family remembers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnomalyInfo {
    /// The session.
    pub sid: SessionId,
    /// Its subject.
    pub sub: String,
    /// Which members changed: `ip`, `user_agent`, `device`.
    pub changed: Vec<&'static str>,
}

/// Something that happened to a session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A login started a family.
    Issued {
        /// The new session.
        sid: SessionId,
        /// Its subject.
        sub: String,
    },
    /// A refresh rotated the family.
    Refreshed {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
        /// The new generation.
        generation: u64,
    },
    /// A retired refresh token was presented.
    ReuseDetected {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
        /// Why it is believed to have happened.
        cause: ReuseCause,
        /// Whether the family was revoked for it (only for theft).
        family_revoked: bool,
    },
    /// A family was revoked.
    Revoked {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
        /// Why.
        reason: RevokeReason,
    },
    /// A session was logged out.
    LoggedOut {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
    },
    /// Every session of a subject was logged out.
    LoggedOutEverywhere {
        /// The subject.
        sub: String,
        /// How many live sessions it had.
        sessions: usize,
    },
    /// A session ended by timeout.
    Expired {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
        /// Which timeout.
        timeout: Timeout,
    },
    /// A refresh came from a different client context.
    Anomaly {
        /// What changed.
        info: AnomalyInfo,
        /// What the policy decided.
        decision: AnomalyDecision,
    },
    /// The user proved their credentials again (step-up).
    Reauthenticated {
        /// The session.
        sid: SessionId,
        /// Its subject.
        sub: String,
    },
}

impl SessionEvent {
    /// A stable snake_case name: `issued`, `refreshed`, `refresh_reuse_detected`, `revoked`,
    /// `logged_out`, `logged_out_everywhere`, `expired`, `anomaly`, `reauthenticated`.
    pub fn name(&self) -> &'static str {
        match self {
            SessionEvent::Issued { .. } => "issued",
            SessionEvent::Refreshed { .. } => "refreshed",
            SessionEvent::ReuseDetected { .. } => "refresh_reuse_detected",
            SessionEvent::Revoked { .. } => "revoked",
            SessionEvent::LoggedOut { .. } => "logged_out",
            SessionEvent::LoggedOutEverywhere { .. } => "logged_out_everywhere",
            SessionEvent::Expired { .. } => "expired",
            SessionEvent::Anomaly { .. } => "anomaly",
            SessionEvent::Reauthenticated { .. } => "reauthenticated",
        }
    }

    /// Emits the event through `tracing` (warnings for reuse and anomalies).
    pub(crate) fn trace(&self) {
        match self {
            SessionEvent::ReuseDetected {
                sid,
                sub,
                cause,
                family_revoked,
            } => tracing::warn!(
                target: "keycard::session",
                event = self.name(),
                %sid,
                %sub,
                cause = cause.as_str(),
                family_revoked
            ),
            SessionEvent::Anomaly { info, decision } => tracing::warn!(
                target: "keycard::session",
                event = self.name(),
                sid = %info.sid,
                sub = %info.sub,
                changed = ?info.changed,
                decision = ?decision
            ),
            SessionEvent::Revoked { sid, sub, reason } => tracing::warn!(
                target: "keycard::session",
                event = self.name(),
                %sid,
                %sub,
                reason = ?reason
            ),
            SessionEvent::LoggedOutEverywhere { sub, sessions } => tracing::info!(
                target: "keycard::session",
                event = self.name(),
                %sub,
                sessions
            ),
            SessionEvent::Issued { sid, sub }
            | SessionEvent::LoggedOut { sid, sub }
            | SessionEvent::Reauthenticated { sid, sub } => {
                tracing::info!(target: "keycard::session", event = self.name(), %sid, %sub)
            }
            SessionEvent::Refreshed {
                sid,
                sub,
                generation,
            } => tracing::debug!(
                target: "keycard::session",
                event = self.name(),
                %sid,
                %sub,
                generation
            ),
            SessionEvent::Expired { sid, sub, timeout } => tracing::info!(
                target: "keycard::session",
                event = self.name(),
                %sid,
                %sub,
                timeout = ?timeout
            ),
        }
    }
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A callback receiving every session event.
pub type EventHook = Arc<dyn Fn(&SessionEvent) + Send + Sync>;
