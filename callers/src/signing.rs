//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a secret is `whsec_` and
//! the base64 of random bytes; a message is signed as `v1,` and the base64 of
//! HMAC-SHA256(secret bytes, `{webhook-id}.{webhook-timestamp}.{body}`). While a secret is being
//! rotated both are valid: the header carries one signature per secret, space-separated.
//! Outbound webhooks and scheduled reports sign with it; inbound webhooks are verified with it,
//! within a replay window.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// The `webhook-signature` header for the message, one `v1,` signature per secret.
pub fn signature_header(secrets: &[String], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|secret| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            Some(format!(
                "v1,{}",
                STANDARD.encode(mac.finalize().into_bytes())
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The replay window: a message whose timestamp is further from now than this is refused.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signed message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("webhook-id, webhook-timestamp and webhook-signature are required")]
    MissingHeaders,
    #[error("webhook-timestamp is not within {TOLERANCE_SECONDS} s of now")]
    OutsideWindow,
    #[error("webhook-signature does not verify")]
    BadSignature,
}

/// Verifies a message the Standard Webhooks way: its timestamp within the replay window of
/// `now` (seconds since the epoch), and one of its `v1,` signatures made with one of `secrets`.
/// Compared in constant time.
pub fn verify(
    secrets: &[String],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), Unverified> {
    let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
        return Err(Unverified::MissingHeaders);
    };
    let sent: i64 = timestamp.parse().map_err(|_| Unverified::OutsideWindow)?;
    if (now - sent).abs() > TOLERANCE_SECONDS {
        return Err(Unverified::OutsideWindow);
    }
    let offered: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|s| STANDARD.decode(s.strip_prefix("v1,")?).ok())
        .collect();
    let verified = secrets.iter().filter_map(|s| key(s)).any(|key| {
        offered.iter().any(|candidate| {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
                return false;
            };
            mac.update(format!("{id}.{sent}.").as_bytes());
            mac.update(body);
            mac.verify_slice(candidate).is_ok()
        })
    });
    if verified {
        Ok(())
    } else {
        Err(Unverified::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector_signs_alike() {
        // The specification's example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature_header(
                &[secret],
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                body.as_bytes()
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn what_is_signed_verifies_within_the_window_and_nothing_else_does() {
        let secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()];
        let header = signature_header(&secrets, "m1", 1_000, b"{}");
        let check = |id: &str, body: &[u8], now: i64| {
            verify(&secrets, Some(id), Some("1000"), Some(&header), body, now)
        };
        assert_eq!(check("m1", b"{}", 1_000 + TOLERANCE_SECONDS), Ok(()));
        assert_eq!(check("m1", b"{ }", 1_000), Err(Unverified::BadSignature));
        assert_eq!(check("m2", b"{}", 1_000), Err(Unverified::BadSignature));
        assert_eq!(
            check("m1", b"{}", 1_001 + TOLERANCE_SECONDS),
            Err(Unverified::OutsideWindow)
        );
        let other = ["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()];
        assert_eq!(
            verify(
                &other,
                Some("m1"),
                Some("1000"),
                Some(&header),
                b"{}",
                1_000
            ),
            Err(Unverified::BadSignature)
        );
        assert_eq!(
            verify(&secrets, None, Some("1000"), Some(&header), b"{}", 1_000),
            Err(Unverified::MissingHeaders)
        );
    }

    #[test]
    fn two_secrets_sign_twice() {
        let secrets = [
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        ];
        assert_eq!(
            signature_header(&secrets, "m", 1, b"{}").split(' ').count(),
            2
        );
    }
}
