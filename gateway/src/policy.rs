//! The agency's rules for public bookings: which pay options a candidate may
//! use, the agency contact fields added to every booking, and which origins
//! a `payment_url` or a `return_url` may point at.
//!
//! Invariants: a pay option outside the policy is refused before anything
//! reaches the upstream; agency fields come only from the configuration,
//! never from the browser; URLs and origins are read by
//! `booking_core::redirect`, the widget's own parser, and a `payment_url` is
//! judged by the widget's own [`PaymentRedirectPolicy`], so the gateway
//! hands the widget only payment pages it will open.

use booking_core::api::bls::CreateVirtualBookingRequest;
use booking_core::api::{CreateBookingRequest, PayOption};
use booking_core::redirect::{origin_of, PaymentRedirectPolicy};
use booking_core::widget_api::{BookingRequest, KitAddress};

use super::errors::GatewayError;

/// Agency contact fields filled into every booking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgencyContact {
    /// Person at the agency (`agency_contact_name`).
    pub contact_name: Option<String>,
    /// That person's email (`agency_contact_email`).
    pub contact_email: Option<String>,
    /// Agency mailbox, e.g. for invoices (`agency_email`).
    pub email: Option<String>,
}

/// The booking policy of one gateway.
#[derive(Debug, Clone)]
pub struct Policy {
    pay_options: Vec<PayOption>,
    payment: PaymentRedirectPolicy,
    allowed_origins: Vec<String>,
    agency: AgencyContact,
}

impl Policy {
    /// A policy; origins must already be in canonical form (the
    /// configuration reads them with `booking_core::redirect`).
    pub fn new(
        pay_options: Vec<PayOption>,
        payment_origins: Vec<String>,
        allowed_origins: Vec<String>,
        agency: AgencyContact,
    ) -> Policy {
        Policy {
            pay_options,
            payment: PaymentRedirectPolicy::new(payment_origins),
            allowed_origins,
            agency,
        }
    }

    /// The pay options to offer, in order; `inv` unless the account says
    /// its invoice payments are off. When that is not known (no profile, or
    /// one that does not say: it is inferred), the configured options are
    /// offered as they are, and the upstream's 422 explains a refusal.
    pub fn offered(&self, invoice_payments: Option<bool>) -> Vec<PayOption> {
        self.pay_options
            .iter()
            .filter(|option| invoice_payments != Some(false) || **option != PayOption::Inv)
            .cloned()
            .collect()
    }

    /// The pay options allowed, in order.
    pub fn pay_options(&self) -> &[PayOption] {
        &self.pay_options
    }

    /// Origins a `payment_url` may point at.
    pub fn payment_origins(&self) -> &[String] {
        &self.payment.allowed_origins
    }

    /// Refuses a pay option the policy does not allow, with a 422 on
    /// `pay_option`.
    pub fn check_pay_option(&self, option: &PayOption) -> Result<(), GatewayError> {
        if self.pay_options.contains(option) {
            return Ok(());
        }
        let message = match option {
            PayOption::Credits => "Paying with booking credits is not available here.",
            PayOption::Balance => "Paying from the account balance is not available here.",
            PayOption::Inv => "Paying by invoice is not available here.",
            PayOption::CandidatePays => "Paying by card is not available here.",
            PayOption::Other(_) => "That payment option is not available here.",
        };
        Err(GatewayError::invalid("pay_option", message))
    }

    /// Whether a `payment_url` may be handed to the widget: exactly when
    /// the widget, given [`Policy::payment_origins`], would open it.
    pub fn payment_url_allowed(&self, url: &str) -> bool {
        self.payment.check(url).is_ok()
    }

    /// Whether a `return_url` may be forwarded: its origin is an allowed
    /// host page or `own_origin`, the gateway's own (from its settings,
    /// never from a request).
    pub fn return_url_allowed(&self, url: &str, own_origin: &str) -> bool {
        origin_of(url)
            .is_ok_and(|origin| self.allowed_origins.contains(&origin) || origin == own_origin)
    }

    /// The upstream booking request for a widget request and a hold: the
    /// candidate's fields from the widget, the agency's from the policy.
    pub fn booking_request(
        &self,
        request: &BookingRequest,
        hold_hash: &str,
    ) -> CreateBookingRequest {
        CreateBookingRequest {
            hold_hash: hold_hash.to_owned(),
            first_name: request.first_name.clone(),
            last_name: request.last_name.clone(),
            email: request.email.clone(),
            phone: request.phone.clone(),
            job_role: request.job_role.clone(),
            pay_option: request.pay_option.clone(),
            agency_contact_name: self.agency.contact_name.clone(),
            agency_contact_email: self.agency.contact_email.clone(),
            agency_email: self.agency.email.clone(),
        }
    }

    /// The Virtual BLS upstream booking request for a widget request, a
    /// hold and the kit's address: as [`Policy::booking_request`], with no
    /// `job_role` or `agency_email`, which its API does not take (the pay
    /// option is written in Virtual BLS's names, `invoice`).
    pub fn virtual_booking_request(
        &self,
        request: &BookingRequest,
        hold_hash: &str,
        kit: &KitAddress,
    ) -> CreateVirtualBookingRequest {
        CreateVirtualBookingRequest {
            hold_hash: hold_hash.to_owned(),
            first_name: request.first_name.clone(),
            last_name: request.last_name.clone(),
            email: request.email.clone(),
            phone: request.phone.clone(),
            pay_option: request.pay_option.clone(),
            agency_contact_name: self.agency.contact_name.clone(),
            agency_contact_email: self.agency.contact_email.clone(),
            address: kit.address.clone(),
            city: kit.city.clone(),
            postcode: kit.postcode.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::new(
            vec![PayOption::CandidatePays, PayOption::Inv],
            vec!["https://checkout.stripe.com".into()],
            vec!["https://www.agency.example".into()],
            AgencyContact {
                contact_name: Some("Tom Birch".into()),
                contact_email: Some("tom@agency.example".into()),
                email: Some("accounts@agency.example".into()),
            },
        )
    }

    #[test]
    fn pay_options_outside_the_policy_are_refused_on_the_field() {
        let policy = policy();
        assert!(policy.check_pay_option(&PayOption::CandidatePays).is_ok());
        let Err(GatewayError::Validation(error)) = policy.check_pay_option(&PayOption::Credits)
        else {
            panic!("credits must be refused");
        };
        assert_eq!(
            error.errors["pay_option"],
            vec!["Paying with booking credits is not available here."]
        );
    }

    #[test]
    fn invoice_is_offered_unless_the_account_says_it_is_off() {
        assert_eq!(
            policy().offered(Some(false)),
            vec![PayOption::CandidatePays]
        );
        for known_or_not in [Some(true), None] {
            assert_eq!(
                policy().offered(known_or_not),
                vec![PayOption::CandidatePays, PayOption::Inv]
            );
        }
    }

    #[test]
    fn payment_urls_must_match_an_origin_exactly() {
        let policy = policy();
        assert!(policy.payment_url_allowed("https://checkout.stripe.com/c/pay/cs_test_1"));
        assert!(policy.payment_url_allowed("https://checkout.stripe.com:443/x"));
        for bad in [
            "http://checkout.stripe.com/x",
            "https://checkout.stripe.com.evil.example/x",
            "https://evil.example/?https://checkout.stripe.com",
            "javascript:alert(1)",
            "/relative",
        ] {
            assert!(!policy.payment_url_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn return_urls_go_to_allowed_or_own_origins_only() {
        let policy = policy();
        let own = "http://127.0.0.1:8080";
        assert!(policy.return_url_allowed("https://www.agency.example/booked?x=1", own));
        assert!(policy.return_url_allowed("http://127.0.0.1:8080/done", own));
        assert!(!policy.return_url_allowed("http://localhost:8080/done", own));
        assert!(!policy.return_url_allowed("https://evil.example/", own));
        assert!(!policy.return_url_allowed("https://tom@www.agency.example/", own));
        assert!(!policy.return_url_allowed("https://www.agency.example\\@evil.example/", own));
    }

    #[test]
    fn agency_fields_come_from_the_policy() {
        let request = BookingRequest {
            hold_ref: "h.t".into(),
            first_name: "Priya".into(),
            last_name: "Patel".into(),
            email: "priya@example.com".into(),
            phone: None,
            job_role: None,
            pay_option: PayOption::Inv,
            return_url: None,
            kit: None,
        };
        let upstream = policy().booking_request(&request, "HASH");
        assert_eq!(upstream.hold_hash, "HASH");
        assert_eq!(upstream.agency_contact_name.as_deref(), Some("Tom Birch"));
        assert_eq!(
            upstream.agency_email.as_deref(),
            Some("accounts@agency.example")
        );
        let kit = KitAddress {
            address: "4 Mill Lane".into(),
            city: "Leeds".into(),
            postcode: "LS1 4AP".into(),
        };
        let virtual_bls = policy().virtual_booking_request(&request, "HASH", &kit);
        assert_eq!(
            serde_json::to_value(&virtual_bls).unwrap()["pay_option"],
            "invoice"
        );
        assert_eq!(virtual_bls.postcode, "LS1 4AP");
        assert_eq!(
            virtual_bls.agency_contact_email.as_deref(),
            Some("tom@agency.example")
        );
    }
}
