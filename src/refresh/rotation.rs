//! The rotation decision, as a pure function of the family, the presented generation and time.

use std::time::Duration;

use super::{Family, ReuseCause, Timeout};
use crate::claims::{SessionId, TokenId};
use crate::clock::Timestamp;
use crate::encoding::b64;

/// Two presentations of the same token closer than this are "concurrent", not a lost response.
const CONCURRENT_WINDOW: Duration = Duration::from_secs(1);

/// What to do with a presented refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The token is the family's current one: rotate.
    Rotate,
    /// The token was rotated away within the grace interval: hand out the current one again.
    Retry(ReuseCause),
    /// The token was rotated away earlier (or never existed): theft; revoke the family.
    Theft,
    /// The family's idle or absolute timeout has passed.
    Expired(Timeout),
}

/// Decides how to treat generation `presented` of `family` at `now`.
pub(crate) fn decide(family: &Family, presented: u64, now: Timestamp, grace: Duration) -> Decision {
    if now >= family.absolute_deadline {
        return Decision::Expired(Timeout::Absolute);
    }
    if now >= family.idle_deadline {
        return Decision::Expired(Timeout::Idle);
    }
    if presented == family.generation {
        return Decision::Rotate;
    }
    let since = now.duration_since(family.rotated_at);
    if presented.checked_add(1) == Some(family.generation) && !grace.is_zero() && since < grace {
        let cause = if since < CONCURRENT_WINDOW {
            ReuseCause::Concurrent
        } else {
            ReuseCause::LostResponse
        };
        return Decision::Retry(cause);
    }
    Decision::Theft
}

/// The `jti` of generation `generation` of session `sid`: a hash of both, so the family's current
/// refresh token can be re-derived exactly.
pub(crate) fn refresh_token_id(sid: &SessionId, generation: u64) -> TokenId {
    let mut input = Vec::with_capacity(32 + sid.as_str().len());
    input.extend_from_slice(b"keycard refresh jti\0");
    input.extend_from_slice(sid.as_str().as_bytes());
    input.push(0);
    input.extend_from_slice(&generation.to_be_bytes());
    let d = ring::digest::digest(&ring::digest::SHA256, &input);
    let id = b64::encode(&d.as_ref()[..16]);
    TokenId::new(&id).unwrap_or_else(TokenId::random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::ClientContext;

    fn family(generation: u64, rotated_at: i64) -> Family {
        let t = |s| Timestamp::from_unix(s).unwrap();
        Family {
            sid: SessionId::new("s").unwrap(),
            sub: "alice".into(),
            generation,
            created: t(1000),
            rotated_at: t(rotated_at),
            idle_deadline: t(rotated_at + 1800),
            absolute_deadline: t(1000 + 86_400),
            auth_time: t(1000),
            claims: Default::default(),
            context: ClientContext::default(),
            status: None,
            dpop_jkt: None,
        }
    }

    #[test]
    fn decisions() {
        let grace = Duration::from_secs(10);
        let at = |s| Timestamp::from_unix(s).unwrap();
        let f = family(5, 2000);
        assert_eq!(decide(&f, 5, at(2000), grace), Decision::Rotate);
        assert_eq!(
            decide(&f, 4, at(2000), grace),
            Decision::Retry(ReuseCause::Concurrent)
        );
        assert_eq!(
            decide(&f, 4, at(2009), grace),
            Decision::Retry(ReuseCause::LostResponse)
        );
        assert_eq!(decide(&f, 4, at(2010), grace), Decision::Theft);
        assert_eq!(decide(&f, 3, at(2000), grace), Decision::Theft);
        assert_eq!(decide(&f, 6, at(2000), grace), Decision::Theft);
        assert_eq!(decide(&f, u64::MAX, at(2000), grace), Decision::Theft);
        assert_eq!(decide(&f, 4, at(2000), Duration::ZERO), Decision::Theft);
        assert_eq!(
            decide(&f, 5, at(3800), grace),
            Decision::Expired(Timeout::Idle)
        );
        let old = family(5, 1000 + 86_000);
        assert_eq!(
            decide(&old, 5, at(1000 + 86_400), grace),
            Decision::Expired(Timeout::Absolute)
        );
    }

    #[test]
    fn refresh_ids_are_deterministic_and_distinct() {
        let s = SessionId::new("abc").unwrap();
        assert_eq!(refresh_token_id(&s, 1), refresh_token_id(&s, 1));
        assert_ne!(refresh_token_id(&s, 1), refresh_token_id(&s, 2));
        assert_ne!(
            refresh_token_id(&s, 1),
            refresh_token_id(&SessionId::new("abd").unwrap(), 1)
        );
        assert_eq!(refresh_token_id(&s, 1).as_str().len(), 22);
    }
}
