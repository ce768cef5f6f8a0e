//! Widget sessions and session-bound references, signed with HMAC-SHA256.
//!
//! The gateway keeps no memory of sessions, holds or bookings: everything is
//! in tokens it signs with the configured key, so any instance sharing the
//! key can verify them.
//!
//! * A session token is `base64url(id) . base64url(tag)`: a random 128-bit
//!   id and a truncated HMAC of it.
//! * A hold reference is `hold_hash . tag`, the tag an HMAC over the session
//!   id and the hash; a booking reference is `booking_id . tag` likewise.
//!   A reference only opens for the session it was made for, and names its
//!   product by its label (a Virtual BLS hold's tag is signed under another
//!   label than a Practical Training one's), so it opens as that product's
//!   only.
//! * The upstream idempotency key is an HMAC over the session id and the
//!   widget's key, so two sessions can never collide on (or replay) a key.
//!
//! Invariants: each kind of token is signed under its own label, so one can
//! never pass for another; tags are compared in constant time; the key never
//! leaves this module (its `Debug` is redacted).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use booking_core::product::Product;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of a tag kept in tokens (128 bits).
const TAG_BYTES: usize = 16;

/// Longest upstream hold hash accepted into a reference.
const MAX_HOLD_HASH: usize = 128;

/// Longest idempotency key the widget may send.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// The shortest signing key accepted from the configuration, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// A widget session's id, recovered from a verified session token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SessionId([u8; 16]);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

/// Signs and verifies sessions and references with the gateway's key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    /// A signer with the given key (at least [`MIN_KEY_BYTES`] long; the
    /// configuration checks that).
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.to_vec() }
    }

    /// A signer with a fresh random 256-bit key.
    pub fn random() -> Signer {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Signer::new(&key)
    }

    fn mac(&self, label: &str, session: Option<&SessionId>, value: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label.as_bytes());
        mac.update(&[0]);
        if let Some(session) = session {
            mac.update(&session.0);
        }
        mac.update(&[0]);
        mac.update(value);
        mac
    }

    fn tag(&self, label: &str, session: Option<&SessionId>, value: &[u8]) -> String {
        let tag = self.mac(label, session, value).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
    }

    fn verify(&self, label: &str, session: Option<&SessionId>, value: &[u8], tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        tag.len() == TAG_BYTES
            && self
                .mac(label, session, value)
                .verify_truncated_left(&tag)
                .is_ok()
    }

    /// A new session: its id and the token the widget keeps.
    pub fn new_session(&self) -> (SessionId, String) {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(id),
            self.tag("session", None, &id)
        );
        (SessionId(id), token)
    }

    /// The session a token names, if the token is one this key signed.
    pub fn verify_session(&self, token: &str) -> Option<SessionId> {
        let (id, tag) = token.split_once('.')?;
        let id: [u8; 16] = URL_SAFE_NO_PAD.decode(id).ok()?.try_into().ok()?;
        self.verify("session", None, &id, tag)
            .then_some(SessionId(id))
    }

    /// The reference a session gets for an upstream hold of `product`, or
    /// `None` when the upstream's hash is not a plain token (letters, digits,
    /// `-`, `_`).
    pub fn hold_ref(
        &self,
        session: &SessionId,
        product: Product,
        hold_hash: &str,
    ) -> Option<String> {
        is_plain_token(hold_hash).then(|| {
            format!(
                "{hold_hash}.{}",
                self.tag(hold_label(product), Some(session), hold_hash.as_bytes())
            )
        })
    }

    /// The product and upstream hold hash behind a reference, if it was
    /// made for this session.
    pub fn open_hold_ref<'a>(
        &self,
        session: &SessionId,
        hold_ref: &'a str,
    ) -> Option<(Product, &'a str)> {
        let (hash, tag) = hold_ref.rsplit_once('.')?;
        if !is_plain_token(hash) {
            return None;
        }
        Product::ALL.into_iter().find_map(|product| {
            self.verify(hold_label(product), Some(session), hash.as_bytes(), tag)
                .then_some((product, hash))
        })
    }

    /// The reference a session gets for an upstream booking of `product`.
    pub fn booking_ref(&self, session: &SessionId, product: Product, booking_id: u64) -> String {
        let id = booking_id.to_string();
        format!(
            "{id}.{}",
            self.tag(booking_label(product), Some(session), id.as_bytes())
        )
    }

    /// The product and upstream booking id behind a reference, if it was
    /// made for this session.
    pub fn open_booking_ref(
        &self,
        session: &SessionId,
        booking_ref: &str,
    ) -> Option<(Product, u64)> {
        let (id, tag) = booking_ref.split_once('.')?;
        let booking_id: u64 = id.parse().ok()?;
        if booking_id.to_string() != id {
            return None;
        }
        Product::ALL.into_iter().find_map(|product| {
            self.verify(booking_label(product), Some(session), id.as_bytes(), tag)
                .then_some((product, booking_id))
        })
    }

    /// The idempotency key sent upstream for the widget's key in this
    /// session: 64 hex digits.
    pub fn idempotency_key(&self, session: &SessionId, widget_key: &str) -> String {
        self.session_key("idempotency", session, widget_key.as_bytes())
    }

    /// The key under which the gateway remembers the hold one session was
    /// granted on one place (an event's id or a timeslot's key; hex, 64
    /// characters; names no session).
    pub fn hold_key(&self, session: &SessionId, place: &str) -> String {
        self.session_key("held", session, place.as_bytes())
    }

    fn session_key(&self, label: &str, session: &SessionId, value: &[u8]) -> String {
        let digest = self
            .mac(label, Some(session), value)
            .finalize()
            .into_bytes();
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// The label a product's hold references are signed under.
fn hold_label(product: Product) -> &'static str {
    match product {
        Product::Practical => "hold",
        Product::VirtualBls => "bls-hold",
    }
}

/// The label a product's booking references are signed under.
fn booking_label(product: Product) -> &'static str {
    match product {
        Product::Practical => "booking",
        Product::VirtualBls => "bls-booking",
    }
}

/// Letters, digits, `-` and `_`, 1 to 128 of them: safe in a URL path and
/// unambiguous before the `.` of a reference.
fn is_plain_token(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_HOLD_HASH
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Whether a widget idempotency key is acceptable: 1 to 128 visible ASCII
/// characters.
pub fn is_valid_idempotency_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY && key.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "Q8vTz2LmPa9RkWc4NbXy7HdJf3GsEu6K";

    fn signer() -> Signer {
        Signer::new(b"a test key that is long enough for the gateway!!")
    }

    #[test]
    fn session_tokens_verify_only_with_their_key() {
        let (id, token) = signer().new_session();
        assert_eq!(signer().verify_session(&token), Some(id));
        assert_eq!(Signer::random().verify_session(&token), None);
    }

    #[test]
    fn tampered_or_malformed_session_tokens_fail() {
        let (_, token) = signer().new_session();
        let (id, tag) = token.split_once('.').unwrap();
        let mut other_id = URL_SAFE_NO_PAD.decode(id).unwrap();
        other_id[0] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(other_id));
        for bad in [
            forged.as_str(),
            "",
            ".",
            id,
            "not-base64!.x",
            &token[..token.len() - 1],
        ] {
            assert_eq!(signer().verify_session(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hold_refs_open_only_for_their_session() {
        let signer = signer();
        let (mine, _) = signer.new_session();
        let (theirs, _) = signer.new_session();
        let hold_ref = signer.hold_ref(&mine, Product::Practical, HASH).unwrap();
        assert_eq!(
            signer.open_hold_ref(&mine, &hold_ref),
            Some((Product::Practical, HASH))
        );
        assert_eq!(signer.open_hold_ref(&theirs, &hold_ref), None);
        assert_eq!(signer.open_hold_ref(&mine, HASH), None);
        let other = format!("{}X.{}", HASH, hold_ref.rsplit_once('.').unwrap().1);
        assert_eq!(signer.open_hold_ref(&mine, &other), None);
    }

    #[test]
    fn hold_hashes_that_are_not_plain_tokens_get_no_ref() {
        let (session, _) = signer().new_session();
        assert_eq!(
            signer().hold_ref(&session, Product::VirtualBls, "a/b"),
            None
        );
        assert_eq!(signer().hold_ref(&session, Product::VirtualBls, ""), None);
        assert_eq!(
            signer().hold_ref(&session, Product::VirtualBls, "a.b"),
            None
        );
    }

    #[test]
    fn booking_refs_open_only_for_their_session() {
        let signer = signer();
        let (mine, _) = signer.new_session();
        let (theirs, _) = signer.new_session();
        let booking_ref = signer.booking_ref(&mine, Product::Practical, 102_388);
        assert_eq!(
            signer.open_booking_ref(&mine, &booking_ref),
            Some((Product::Practical, 102_388))
        );
        assert_eq!(signer.open_booking_ref(&theirs, &booking_ref), None);
        let tag = booking_ref.split_once('.').unwrap().1;
        assert_eq!(
            signer.open_booking_ref(&mine, &format!("0102388.{tag}")),
            None
        );
    }

    #[test]
    fn a_reference_opens_as_its_own_product_only() {
        let signer = signer();
        let (session, _) = signer.new_session();
        let bls = signer
            .hold_ref(&session, Product::VirtualBls, HASH)
            .unwrap();
        let practical = signer.hold_ref(&session, Product::Practical, HASH).unwrap();
        assert_ne!(bls, practical);
        assert_eq!(
            signer.open_hold_ref(&session, &bls),
            Some((Product::VirtualBls, HASH))
        );
        let booking = signer.booking_ref(&session, Product::VirtualBls, 7731);
        assert_eq!(
            signer.open_booking_ref(&session, &booking),
            Some((Product::VirtualBls, 7731))
        );
        assert_eq!(signer.open_hold_ref(&session, &booking), None);
    }

    #[test]
    fn a_hold_ref_tag_does_not_open_a_booking() {
        let signer = signer();
        let (session, _) = signer.new_session();
        let hold_ref = signer
            .hold_ref(&session, Product::Practical, "1234")
            .unwrap();
        assert_eq!(signer.open_booking_ref(&session, &hold_ref), None);
    }

    #[test]
    fn idempotency_keys_are_scoped_to_the_session() {
        let signer = signer();
        let (one, _) = signer.new_session();
        let (two, _) = signer.new_session();
        let key = signer.idempotency_key(&one, "attempt-1");
        assert_eq!(key, signer.idempotency_key(&one, "attempt-1"));
        assert_ne!(key, signer.idempotency_key(&two, "attempt-1"));
        assert_ne!(key, signer.idempotency_key(&one, "attempt-2"));
        assert_eq!(key.len(), 64);
        let held = signer.hold_key(&one, "41");
        assert_eq!(held, signer.hold_key(&one, "41"));
        assert_ne!(held, signer.hold_key(&two, "41"));
        assert_ne!(held, signer.hold_key(&one, "42"));
    }

    #[test]
    fn widget_idempotency_keys_are_checked() {
        assert!(is_valid_idempotency_key("3f2b-9c1d"));
        assert!(!is_valid_idempotency_key(""));
        assert!(!is_valid_idempotency_key("has space"));
        assert!(!is_valid_idempotency_key(&"x".repeat(129)));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let text = format!("{:?}", Signer::new(b"super-secret-signing-key-0123456789"));
        assert!(!text.contains("super-secret"));
    }
}
