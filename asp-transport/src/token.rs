//! Client admission tokens: `asp1.<client>.<expiry>.<mac>`, an HMAC-SHA256 (ring) over the
//! first three parts with a key only the server holds, valid until `expiry` (Unix seconds).

use ring::hmac;

/// The server's token key.
pub struct TokenKey(hmac::Key);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not of the form `asp1.<client>.<expiry>.<mac>`.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match: forged, or made with another key.
    #[error("token signature does not match")]
    BadSignature,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
}

/// 32 random bytes from the system's generator, a secret for [`TokenKey::new`].
///
/// # Errors
/// When the system has no randomness to give.
pub fn random_secret() -> Result<[u8; 32], ring::error::Unspecified> {
    let mut secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)?;
    Ok(secret)
}

/// The expiry, in Unix seconds as [`TokenKey::issue`] takes it, of a token valid for
/// `valid_for` from now.
#[must_use]
pub fn expiry_after(valid_for: std::time::Duration) -> u64 {
    unix_now().saturating_add(valid_for.as_secs())
}

/// Seconds since the Unix epoch: token expiry is wall-clock time.
#[allow(clippy::disallowed_methods)]
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Longest client name in a token.
const MAX_CLIENT_LEN: usize = 64;

impl TokenKey {
    /// A key from 32 secret bytes.
    #[must_use]
    pub fn new(secret: &[u8; 32]) -> Self {
        TokenKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A token for `client` valid until `expiry_unix` (seconds).
    ///
    /// # Panics
    /// If `client` is empty, longer than 64 bytes, or not made of letters, digits, `-`, `_`.
    #[must_use]
    pub fn issue(&self, client: &str, expiry_unix: u64) -> String {
        assert!(valid_client(client), "client names are 1..=64 of [A-Za-z0-9_-]");
        let body = format!("asp1.{client}.{expiry_unix}");
        let tag = hmac::sign(&self.0, body.as_bytes());
        format!("{body}.{}", hex(tag.as_ref()))
    }

    /// Checks a token at `now_unix`; returns the client's name.
    ///
    /// # Errors
    /// [`TokenError`] says why it was refused.
    pub fn verify(&self, token: &str, now_unix: u64) -> Result<String, TokenError> {
        let mut parts = token.split('.');
        let (Some("asp1"), Some(client), Some(expiry), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if !valid_client(client) || mac.len() != 64 {
            return Err(TokenError::Malformed);
        }
        let expiry: u64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        let mac = unhex(mac).ok_or(TokenError::Malformed)?;
        let body = format!("asp1.{client}.{expiry}");
        hmac::verify(&self.0, body.as_bytes(), &mac).map_err(|_| TokenError::BadSignature)?;
        if now_unix > expiry {
            return Err(TokenError::Expired);
        }
        Ok(client.to_owned())
    }
}

fn valid_client(c: &str) -> bool {
    !c.is_empty() && c.len() <= MAX_CLIENT_LEN && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_expiry_and_only_with_their_key() {
        let key = TokenKey::new(&[7; 32]);
        let token = key.issue("viewer-1", 1000);
        assert_eq!(key.verify(&token, 999), Ok("viewer-1".into()));
        assert_eq!(key.verify(&token, 1001), Err(TokenError::Expired));
        assert_eq!(TokenKey::new(&[8; 32]).verify(&token, 999), Err(TokenError::BadSignature));
        let forged = token.replace(".1000.", ".9999.");
        assert_eq!(key.verify(&forged, 999), Err(TokenError::BadSignature));
        for bad in ["", "asp1", "asp1.a.b.c", "asp2.x.1.00", &format!("{token}.x")] {
            assert_eq!(key.verify(bad, 0), Err(TokenError::Malformed), "{bad}");
        }
    }
}
