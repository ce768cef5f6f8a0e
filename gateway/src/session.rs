//! Widget sessions and session-bound references, signed with HMAC-SHA256.
//!
//! The gateway keeps no memory of sessions, holds or bookings: everything is
//! in tokens it signs with the configured key, so any instance sharing the
//! key can verify them.
//!
//! * A session token is `base64url(id, issued) . base64url(tag)`: a random
//!   128-bit id, its issue time and a truncated HMAC of both. A session
//!   lives at most its maximum age (`session_max_age`, 12 hours by default).
//! * A hold reference is `hold_hash . lapses . tag`, the tag an HMAC over
//!   the session id, the hash and when the hold lapses: it opens until its
//!   hold lapses (and [`HOLD_REF_GRACE`] after). A booking reference is
//!   `booking_id . tag` likewise, and lives as long as its session.
//!   A reference only opens for the session it was made for, and names its
//!   product by its label (a Virtual BLS hold's tag is signed under another
//!   label than a Practical Training one's), so it opens as that product's
//!   only.
//! * The key of a create-booking attempt (also the upstream idempotency key)
//!   is an HMAC over the session id, the product, the hold and the widget's
//!   key, so an attempt belongs to one session, product and hold: two
//!   sessions never collide on (or replay) a key, nor does one key name
//!   attempts on two holds or two products.
//! * A booking link is `product . booking_id . issued . expires . tag`
//!   ([`BookingLink`]), the tag an HMAC with the link key (the gateway's
//!   key, or `HBG_BOOKING_LINK_KEY`): it names no session, and opens until
//!   it expires or the link key is rotated.
//!
//! Invariants: each kind of token is signed under its own label, so one can
//! never pass for another; tags are compared in constant time; the key never
//! leaves this module (its `Debug` is redacted).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use booking_core::manage::{BookingLink, LinkRefusal};
use booking_core::product::Product;
use chrono::{DateTime, Duration, Utc};
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

/// Bytes of a session token's signed part: the id and the issue time.
const SESSION_BYTES: usize = 24;

/// How far in the future a session's issue time may be (instances' clocks
/// differ a little).
const CLOCK_SKEW_SECONDS: i64 = 60;

/// How long after its hold lapses a hold reference still opens: the
/// upstream then answers for the lapsed hold itself (its clock and the
/// gateway's differ a little).
pub const HOLD_REF_GRACE: Duration = Duration::minutes(10);

/// The longest a widget session lives by default: 12 hours.
pub const DEFAULT_SESSION_MAX_AGE: std::time::Duration =
    std::time::Duration::from_secs(12 * 60 * 60);

/// Signs and verifies sessions and references with the gateway's key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    /// The key booking links are signed with: the gateway's own unless
    /// `HBG_BOOKING_LINK_KEY` gives another, so links can be revoked by
    /// rotating it alone.
    link_key: Vec<u8>,
    /// Seconds a session lives at most.
    session_max_age: i64,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    /// A signer with the given key (at least [`MIN_KEY_BYTES`] long; the
    /// configuration checks that) whose sessions live `session_max_age`.
    pub fn new(key: &[u8], session_max_age: std::time::Duration) -> Signer {
        Signer {
            key: key.to_vec(),
            link_key: key.to_vec(),
            session_max_age: i64::try_from(session_max_age.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// A signer with a fresh random 256-bit key.
    pub fn random(session_max_age: std::time::Duration) -> Signer {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Signer::new(&key, session_max_age)
    }

    /// This signer, signing booking links with `key` instead of its own
    /// key.
    pub fn with_link_key(mut self, key: &[u8]) -> Signer {
        self.link_key = key.to_vec();
        self
    }

    /// The durable link to a booking: its signed part and a signature with
    /// the link key. It names no session.
    pub fn booking_link(&self, link: &BookingLink) -> String {
        let signed = link.signed_part();
        let tag = self
            .link_signer()
            .tag("booking-link", None, signed.as_bytes());
        format!("{signed}.{tag}")
    }

    /// The booking a link names, if the link key signed it and it has not
    /// expired at `now`.
    pub fn open_booking_link(
        &self,
        link: &str,
        now: DateTime<Utc>,
    ) -> Result<BookingLink, LinkRefusal> {
        let (signed, tag) = link.rsplit_once('.').ok_or(LinkRefusal::Invalid)?;
        let opened = BookingLink::read_signed_part(signed)
            .filter(|_| {
                self.link_signer()
                    .verify("booking-link", None, signed.as_bytes(), tag)
            })
            .ok_or(LinkRefusal::Invalid)?;
        opened.opens_at(now)?;
        Ok(opened)
    }

    fn link_signer(&self) -> Signer {
        Signer {
            key: self.link_key.clone(),
            link_key: self.link_key.clone(),
            session_max_age: self.session_max_age,
        }
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

    /// A new session issued at `now`: its id and the token the widget
    /// keeps.
    pub fn new_session(&self, now: DateTime<Utc>) -> (SessionId, String) {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let mut signed = [0u8; SESSION_BYTES];
        signed[..16].copy_from_slice(&id);
        signed[16..].copy_from_slice(&now.timestamp().to_be_bytes());
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(signed),
            self.tag("session", None, &signed)
        );
        (SessionId(id), token)
    }

    /// The session a token names, if the token is one this key signed and
    /// the session is no older than the maximum age at `now`.
    pub fn verify_session(&self, token: &str, now: DateTime<Utc>) -> Option<SessionId> {
        let (signed, tag) = token.split_once('.')?;
        let signed: [u8; SESSION_BYTES] = URL_SAFE_NO_PAD.decode(signed).ok()?.try_into().ok()?;
        if !self.verify("session", None, &signed, tag) {
            return None;
        }
        let id: [u8; 16] = signed[..16].try_into().ok()?;
        let issued = i64::from_be_bytes(signed[16..].try_into().ok()?);
        let age = now.timestamp().saturating_sub(issued);
        (-CLOCK_SKEW_SECONDS..=self.session_max_age)
            .contains(&age)
            .then_some(SessionId(id))
    }

    /// The reference a session gets for an upstream hold of `product` that
    /// lapses at `lapses`, or `None` when the upstream's hash is not a
    /// plain token (letters, digits, `-`, `_`).
    pub fn hold_ref(
        &self,
        session: &SessionId,
        product: Product,
        hold_hash: &str,
        lapses: DateTime<Utc>,
    ) -> Option<String> {
        is_plain_token(hold_hash).then(|| {
            let signed = format!("{hold_hash}.{}", lapses.timestamp());
            let tag = self.tag(hold_label(product), Some(session), signed.as_bytes());
            format!("{signed}.{tag}")
        })
    }

    /// The product and upstream hold hash behind a reference, if it was
    /// made for this session and its hold has not lapsed at `now` (give or
    /// take [`HOLD_REF_GRACE`]).
    pub fn open_hold_ref<'a>(
        &self,
        session: &SessionId,
        hold_ref: &'a str,
        now: DateTime<Utc>,
    ) -> Option<(Product, &'a str)> {
        let (signed, tag) = hold_ref.rsplit_once('.')?;
        let (hash, lapses) = signed.split_once('.')?;
        let lapses: i64 = lapses.parse().ok()?;
        if !is_plain_token(hash) || lapses.to_string() != signed[hash.len() + 1..] {
            return None;
        }
        let open = Product::ALL.into_iter().find_map(|product| {
            self.verify(hold_label(product), Some(session), signed.as_bytes(), tag)
                .then_some((product, hash))
        })?;
        (now.timestamp() <= lapses.saturating_add(HOLD_REF_GRACE.num_seconds())).then_some(open)
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

    /// The key of one create-booking attempt, also sent upstream as its
    /// idempotency key: an HMAC over the session, the product, the hold
    /// and the widget's key (64 hex digits), so an attempt belongs to one
    /// session, product and hold and a key replayed under another names
    /// another attempt.
    pub fn attempt_key(
        &self,
        session: &SessionId,
        product: Product,
        hold_hash: &str,
        widget_key: &str,
    ) -> String {
        let value = [hold_label(product), hold_hash, widget_key].join("\0");
        self.session_key("attempt", session, value.as_bytes())
    }

    /// The session a move of booking `booking_id` to another date runs as,
    /// in place of a widget session: named by the booking and the widget's
    /// key for the move, so every retry of one move is the same session
    /// (its hold and its booking attempt are found again), and another
    /// move is another session.
    pub fn move_session(&self, booking_id: u64, widget_key: &str) -> SessionId {
        let value = [booking_id.to_string().as_str(), widget_key].join("\0");
        let digest = self
            .mac("move", None, value.as_bytes())
            .finalize()
            .into_bytes();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        SessionId(id)
    }

    /// The key the gateway knows a session by when it counts its holds and
    /// its requests waiting (hex, 64 characters; names no session).
    pub fn owner_key(&self, session: &SessionId) -> String {
        self.session_key("owner", session, &[])
    }

    /// The key the gateway knows a client address by when it counts its
    /// holds and requests (hex, 64 characters; names no address).
    pub fn address_key(&self, address: std::net::IpAddr) -> String {
        let digest = self
            .mac("address", None, address.to_string().as_bytes())
            .finalize()
            .into_bytes();
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
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
        Signer::new(
            b"a test key that is long enough for the gateway!!",
            DEFAULT_SESSION_MAX_AGE,
        )
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn session() -> SessionId {
        signer().new_session(now()).0
    }

    /// A reference to a hold lapsing half an hour from [`now`].
    fn hold_ref(signer: &Signer, session: &SessionId, product: Product, hash: &str) -> String {
        signer
            .hold_ref(session, product, hash, now() + Duration::minutes(30))
            .unwrap()
    }

    fn link() -> BookingLink {
        BookingLink::issue(Product::Practical, 102436, now(), now() + Duration::days(3))
    }

    #[test]
    fn a_booking_link_opens_without_a_session_until_it_expires() {
        let text = signer().booking_link(&link());
        assert_eq!(signer().open_booking_link(&text, now()), Ok(link()));
        let after = DateTime::from_timestamp(link().expires + 1, 0).unwrap();
        assert_eq!(
            signer().open_booking_link(&text, after),
            Err(LinkRefusal::Expired)
        );
    }

    #[test]
    fn a_forged_or_altered_booking_link_does_not_open() {
        let text = signer().booking_link(&link());
        let (signed, tag) = text.rsplit_once('.').unwrap();
        let other_booking = signed.replacen("102436", "102437", 1);
        let other_product = signed.replacen("pt.", "bls.", 1);
        let later = format!("{}9", signed);
        for forged in [
            format!("{other_booking}.{tag}"),
            format!("{other_product}.{tag}"),
            format!("{later}.{tag}"),
            format!("{signed}.{}", &tag[1..]),
            signed.to_owned(),
            String::new(),
        ] {
            assert_eq!(
                signer().open_booking_link(&forged, now()),
                Err(LinkRefusal::Invalid),
                "{forged}"
            );
        }
    }

    #[test]
    fn rotating_the_link_key_revokes_links_and_keeps_sessions() {
        let text = signer().booking_link(&link());
        let rotated = signer().with_link_key(b"the agency's new booking link key, rotated!");
        assert_eq!(
            rotated.open_booking_link(&text, now()),
            Err(LinkRefusal::Invalid)
        );
        let (id, token) = signer().new_session(now());
        assert_eq!(rotated.verify_session(&token, now()), Some(id));
    }

    #[test]
    fn session_tokens_verify_only_with_their_key() {
        let (id, token) = signer().new_session(now());
        assert_eq!(signer().verify_session(&token, now()), Some(id));
        assert_eq!(
            Signer::random(DEFAULT_SESSION_MAX_AGE).verify_session(&token, now()),
            None
        );
    }

    #[test]
    fn a_session_lives_its_maximum_age_and_no_longer() {
        let (id, token) = signer().new_session(now());
        let at = |hours: i64| now() + Duration::hours(hours);
        assert_eq!(signer().verify_session(&token, at(12)), Some(id));
        assert_eq!(
            signer().verify_session(&token, at(12) + Duration::seconds(1)),
            None
        );
        assert_eq!(
            signer().verify_session(&token, now() - Duration::minutes(5)),
            None,
            "a session issued in the future"
        );
        let short = Signer::new(
            b"a test key that is long enough for the gateway!!",
            std::time::Duration::from_secs(3600),
        );
        assert_eq!(short.verify_session(&token, at(2)), None);
    }

    #[test]
    fn tampered_or_malformed_session_tokens_fail() {
        let (_, token) = signer().new_session(now());
        let (signed, tag) = token.split_once('.').unwrap();
        let mut other = URL_SAFE_NO_PAD.decode(signed).unwrap();
        other[0] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&other));
        let mut older = URL_SAFE_NO_PAD.decode(signed).unwrap();
        older[23] ^= 1;
        let backdated = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&older));
        for bad in [
            forged.as_str(),
            backdated.as_str(),
            "",
            ".",
            signed,
            "not-base64!.x",
            &token[..token.len() - 1],
        ] {
            assert_eq!(signer().verify_session(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn hold_refs_open_only_for_their_session_until_their_hold_lapses() {
        let signer = signer();
        let (mine, theirs) = (session(), session());
        let hold_ref = hold_ref(&signer, &mine, Product::Practical, HASH);
        assert_eq!(
            signer.open_hold_ref(&mine, &hold_ref, now()),
            Some((Product::Practical, HASH))
        );
        assert_eq!(signer.open_hold_ref(&theirs, &hold_ref, now()), None);
        assert_eq!(signer.open_hold_ref(&mine, HASH, now()), None);
        let (signed, tag) = hold_ref.rsplit_once('.').unwrap();
        let other = format!("{}X{}.{tag}", HASH, &signed[HASH.len()..]);
        assert_eq!(signer.open_hold_ref(&mine, &other, now()), None);
        let lapsed = now() + Duration::minutes(30) + HOLD_REF_GRACE;
        assert!(signer.open_hold_ref(&mine, &hold_ref, lapsed).is_some());
        assert_eq!(
            signer.open_hold_ref(&mine, &hold_ref, lapsed + Duration::seconds(1)),
            None,
            "a reference ends with its hold"
        );
        let (_, lapses) = signed.split_once('.').unwrap();
        let later = hold_ref.replace(lapses, &(lapses.parse::<i64>().unwrap() + 3600).to_string());
        assert_eq!(
            signer.open_hold_ref(&mine, &later, now()),
            None,
            "a reference's lapse is signed"
        );
    }

    #[test]
    fn hold_hashes_that_are_not_plain_tokens_get_no_ref() {
        let session = session();
        for hash in ["a/b", "", "a.b"] {
            assert_eq!(
                signer().hold_ref(&session, Product::VirtualBls, hash, now()),
                None
            );
        }
    }

    #[test]
    fn booking_refs_open_only_for_their_session() {
        let signer = signer();
        let (mine, theirs) = (session(), session());
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
        let session = session();
        let bls = hold_ref(&signer, &session, Product::VirtualBls, HASH);
        let practical = hold_ref(&signer, &session, Product::Practical, HASH);
        assert_ne!(bls, practical);
        assert_eq!(
            signer.open_hold_ref(&session, &bls, now()),
            Some((Product::VirtualBls, HASH))
        );
        let booking = signer.booking_ref(&session, Product::VirtualBls, 7731);
        assert_eq!(
            signer.open_booking_ref(&session, &booking),
            Some((Product::VirtualBls, 7731))
        );
        assert_eq!(signer.open_hold_ref(&session, &booking, now()), None);
    }

    #[test]
    fn a_hold_ref_tag_does_not_open_a_booking() {
        let signer = signer();
        let session = session();
        let hold_ref = hold_ref(&signer, &session, Product::Practical, "1234");
        assert_eq!(signer.open_booking_ref(&session, &hold_ref), None);
    }

    #[test]
    fn attempt_keys_name_the_session_product_and_hold() {
        let signer = signer();
        let (one, two) = (session(), session());
        let key = signer.attempt_key(&one, Product::Practical, HASH, "attempt-1");
        assert_eq!(
            key,
            signer.attempt_key(&one, Product::Practical, HASH, "attempt-1")
        );
        for other in [
            signer.attempt_key(&two, Product::Practical, HASH, "attempt-1"),
            signer.attempt_key(&one, Product::VirtualBls, HASH, "attempt-1"),
            signer.attempt_key(&one, Product::Practical, "another", "attempt-1"),
            signer.attempt_key(&one, Product::Practical, HASH, "attempt-2"),
        ] {
            assert_ne!(key, other);
        }
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
        let text = format!(
            "{:?}",
            Signer::new(
                b"super-secret-signing-key-0123456789",
                DEFAULT_SESSION_MAX_AGE
            )
        );
        assert!(!text.contains("super-secret"));
    }
}
