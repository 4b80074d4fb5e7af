//! Webhook endpoints of an organization and the *Standard Webhooks* signature (docs/domain.md §8).
//!
//! Everything here is pure: the endpoint entity, the table of audit actions that become
//! webhook events, the signature (`webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`) and its verification, and the address rules that keep deliveries off
//! private networks (the delivery adapter applies them to every address a host resolves to).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Meta, OrganizationId, WebhookId};

/// The prefix of every signing secret (the Standard Webhooks convention: the rest is the key in
/// base64).
pub const SECRET_PREFIX: &str = "whsec_";

/// The event type of the test event `POST /webhooks/{id}/test` sends. Every endpoint receives it,
/// whatever it subscribed to.
pub const TEST_EVENT: &str = "webhook.test";

/// Which audited actions become which webhook event. The audit log is the one place every
/// state change passes through, so events are produced there and nowhere else.
pub const EVENTS: &[(&str, &str)] = &[
    ("application.submit", "application.submitted"),
    ("application.withdraw", "application.withdrawn"),
    ("application.accept", "application.decided"),
    ("application.reject", "application.decided"),
    ("application.waitlist", "application.decided"),
    ("application.promote", "application.decided"),
    ("application.review", "review.submitted"),
    ("enrollment.create", "enrollment.created"),
    ("enrollment.drop_out", "enrollment.dropped_out"),
    ("program.publish", "program.published"),
    ("program.start", "program.started"),
    ("program.complete", "program.completed"),
    ("program.cancel", "program.cancelled"),
];

/// The event type an audited action produces, if any.
pub fn event_type_of(action: &str) -> Option<&'static str> {
    EVENTS.iter().find(|(a, _)| *a == action).map(|(_, t)| *t)
}

/// Every event type an endpoint may subscribe to, sorted, without duplicates.
pub fn event_types() -> Vec<&'static str> {
    let mut types: Vec<_> = EVENTS.iter().map(|(_, t)| *t).collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// A signing secret (`whsec_<base64 key>`). Prints as `[redacted]`; has no `Serialize`, so it
/// leaves the core only through [`WebhookSecret::expose`], once, when created or rotated.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A new random secret (24 bytes of key).
    ///
    /// # Panics
    /// When the operating system's random source fails, like
    /// [`generate_token`](super::secret::generate_token): nothing safe is left to do.
    pub fn generate() -> Self {
        let mut key = [0u8; 24];
        if let Err(e) = getrandom::fill(&mut key) {
            panic!("the OS random source failed: {e}");
        }
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
    }

    /// Wraps a stored secret.
    pub fn from_stored(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret text, for storing it and for showing it once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key: the base64 after the prefix, decoded (as the reference libraries do). A
    /// secret that is not of that form is used as raw bytes, so signing never fails.
    fn key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix(SECRET_PREFIX).unwrap_or(&self.0);
        STANDARD.decode(encoded).unwrap_or_else(|_| self.0.as_bytes().to_vec())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An organization's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Id.
    pub id: WebhookId,
    /// The organization whose events it receives.
    pub organization_id: OrganizationId,
    /// Target URL (https; plain http only to a loopback host, for development).
    pub url: String,
    /// Event types it receives (a subset of [`event_types`]), sorted.
    pub events: Vec<String>,
    /// Free text for the owner (≤ 500 chars).
    pub description: String,
    /// Receives events. Set false by its owner or automatically after failing too long.
    pub active: bool,
    /// The current signing secret.
    pub secret: WebhookSecret,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret: Option<WebhookSecret>,
    /// End of the rotation overlap window.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Start of the current run of failed deliveries (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// Last successful delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failed delivery.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Why the platform disabled it (`None` when active or disabled by a person).
    pub disabled_reason: Option<String>,
    /// Tracking and version.
    pub meta: Meta,
}

impl WebhookEndpoint {
    /// Whether it receives events of `event_type` now.
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && (event_type == TEST_EVENT || self.events.iter().any(|e| e == event_type))
    }

    /// The secrets that sign a delivery at `now`: the current one, and the previous one while
    /// its overlap window lasts (receivers accept any one signature that verifies).
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// One `v1,<base64>` signature of `"{id}.{timestamp}.{body}"` with `secret`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key()).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret, separated by spaces.
pub fn signature_header(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether any `v1` signature of `header` is `secret`'s signature of the message (compared in
/// constant time). What a receiver does, kept here so the tests and the docs share it.
pub fn verify(secret: &WebhookSecret, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key()).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    header.split_whitespace().any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|sig| mac.clone().verify_slice(&sig).is_ok())
    })
}

/// Addresses a webhook must never reach unless the operator allows private targets: loopback,
/// private (RFC 1918), carrier-grade NAT, link-local, unique-local, multicast, broadcast,
/// documentation, benchmarking, reserved and unspecified ranges, and IPv6 forms embedding any
/// of those (IPv4-mapped, NAT64).
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b {
        // NAT64: the last 32 bits are an IPv4 address.
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return is_private_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // IPv4-compatible
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let ts = 1614265330;
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&secret, id, ts, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(&secret, id, ts, body, &format!("v1,bogus {sig}")));
        assert!(!verify(&secret, id, ts + 1, body, &sig));
    }

    #[test]
    fn both_secrets_sign_during_the_overlap_window_only() {
        let now = DateTime::from_timestamp(1_900_000_000, 0).expect("a valid instant");
        let old = WebhookSecret::generate();
        let new = WebhookSecret::generate();
        let endpoint = WebhookEndpoint {
            id: WebhookId::from_uuid(uuid::Uuid::nil()),
            organization_id: OrganizationId::from_uuid(uuid::Uuid::nil()),
            url: "https://example.org/hook".into(),
            events: vec!["application.submitted".into()],
            description: String::new(),
            active: true,
            secret: new.clone(),
            previous_secret: Some(old.clone()),
            previous_secret_expires_at: Some(now + chrono::Duration::hours(1)),
            failing_since: None,
            last_success_at: None,
            last_failure_at: None,
            disabled_reason: None,
            meta: Meta::new(now, None),
        };
        let header = signature_header(&endpoint.signing_secrets(now), "m", 1, "{}");
        assert!(verify(&old, "m", 1, "{}", &header));
        assert!(verify(&new, "m", 1, "{}", &header));
        let later = now + chrono::Duration::hours(2);
        let header = signature_header(&endpoint.signing_secrets(later), "m", 1, "{}");
        assert!(!verify(&old, "m", 1, "{}", &header));
        assert!(format!("{endpoint:?}").contains("[redacted]"));
        assert!(!format!("{endpoint:?}").contains(new.expose()));
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_private_address(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_private_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn audit_actions_map_to_event_types() {
        assert_eq!(event_type_of("application.accept"), Some("application.decided"));
        assert_eq!(event_type_of("application.update"), None);
        assert!(event_types().contains(&"review.submitted"));
    }
}
