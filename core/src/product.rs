//! The booking products an agency can offer through one widget and one
//! gateway: Practical Training (seats on scheduled training events at a
//! venue) and Virtual BLS (a timeslot generated from trainers' capacity, a
//! kit posted to the candidate and a Zoom session).
//!
//! Everything the two share (the hold and its countdown, the candidate's
//! details, pay options, the payment redirect policy, host events) is one
//! piece of code that asks a [`Product`] where they differ: what is held
//! (an event or a timeslot), whether a kit delivery address is needed, and
//! the upstream's name for each pay option.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::bls::BlsPayOption;
use crate::api::PayOption;

/// A booking product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Product {
    /// Practical Training: seats on training events at a venue (the default).
    #[default]
    Practical,
    /// Virtual BLS: a timeslot over Zoom, with a kit posted to the candidate.
    VirtualBls,
}

impl Product {
    /// Both products, in the order a choice offers them.
    pub const ALL: [Product; 2] = [Product::Practical, Product::VirtualBls];

    /// The product's name in the widget's `product` attribute, the gateway's
    /// `?product=` and host events: `practical` or `virtual-bls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Practical => "practical",
            Product::VirtualBls => "virtual-bls",
        }
    }

    /// The product a name stands for; `None` for any other text.
    pub fn parse(name: &str) -> Option<Product> {
        Product::ALL
            .into_iter()
            .find(|product| product.as_str() == name.trim())
    }

    /// What a candidate calls it, e.g. on the product choice.
    pub fn label(self) -> &'static str {
        match self {
            Product::Practical => "Practical training at a venue",
            Product::VirtualBls => "Virtual Basic Life Support over Zoom",
        }
    }

    /// A line under the label on the product choice.
    pub fn description(self) -> &'static str {
        match self {
            Product::Practical => "Choose a date and a venue near you.",
            Product::VirtualBls => {
                "Choose a time for a live session over Zoom. A training kit is posted to you first."
            }
        }
    }

    /// What the details step says above the form, if anything: where the
    /// training kit goes.
    pub fn details_note(self) -> Option<&'static str> {
        match self {
            Product::Practical => None,
            Product::VirtualBls => Some(
                "We post a training kit (a mannequin and an AED trainer) to the address below before the session. Please post it back afterwards in the bag provided.",
            ),
        }
    }

    /// Whether a booking needs the address the training kit is posted to.
    pub fn needs_kit_address(self) -> bool {
        self == Product::VirtualBls
    }

    /// The upstream's name for a pay option (the widget contract names pay
    /// options as Practical Training does: Virtual BLS says `invoice` where
    /// Practical Training says `inv`).
    pub fn upstream_pay_option(self, option: &PayOption) -> String {
        match self {
            Product::Practical => option.as_str().to_owned(),
            Product::VirtualBls => BlsPayOption::from(option).as_str().to_owned(),
        }
    }

    /// The pay option an upstream name stands for, in the widget contract's
    /// names.
    pub fn widget_pay_option(self, upstream: &str) -> PayOption {
        match self {
            Product::Practical => PayOption::parse(upstream),
            Product::VirtualBls => PayOption::from(&BlsPayOption::parse(upstream)),
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Product {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Product {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Product, D::Error> {
        let name = String::deserialize(deserializer)?;
        Product::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown product {name:?}: expected practical or virtual-bls"
            ))
        })
    }
}

impl From<&PayOption> for BlsPayOption {
    fn from(option: &PayOption) -> BlsPayOption {
        match option {
            PayOption::Credits => BlsPayOption::Credits,
            PayOption::Balance => BlsPayOption::Balance,
            PayOption::Inv => BlsPayOption::Invoice,
            PayOption::CandidatePays => BlsPayOption::CandidatePays,
            PayOption::Other(other) => BlsPayOption::Other(other.clone()),
        }
    }
}

impl From<&BlsPayOption> for PayOption {
    fn from(option: &BlsPayOption) -> PayOption {
        match option {
            BlsPayOption::Credits => PayOption::Credits,
            BlsPayOption::Balance => PayOption::Balance,
            BlsPayOption::Invoice => PayOption::Inv,
            BlsPayOption::CandidatePays => PayOption::CandidatePays,
            BlsPayOption::Other(other) => PayOption::Other(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for product in Product::ALL {
            assert_eq!(Product::parse(product.as_str()), Some(product));
            let json = serde_json::to_string(&product).unwrap();
            assert_eq!(serde_json::from_str::<Product>(&json).unwrap(), product);
        }
        assert_eq!(Product::parse(" virtual-bls "), Some(Product::VirtualBls));
        for other in ["", "bls", "Practical", "virtual_bls"] {
            assert_eq!(Product::parse(other), None, "{other}");
        }
        assert!(serde_json::from_str::<Product>("\"virtual_bls\"").is_err());
        assert_eq!(Product::default(), Product::Practical);
    }

    #[test]
    fn invoice_is_inv_for_practical_and_invoice_for_virtual_bls() {
        assert_eq!(
            Product::Practical.upstream_pay_option(&PayOption::Inv),
            "inv"
        );
        assert_eq!(
            Product::VirtualBls.upstream_pay_option(&PayOption::Inv),
            "invoice"
        );
        for option in PayOption::KNOWN {
            for product in Product::ALL {
                let upstream = product.upstream_pay_option(&option);
                assert_eq!(
                    product.widget_pay_option(&upstream),
                    option,
                    "{product} {option}"
                );
            }
        }
        assert_eq!(
            Product::VirtualBls.widget_pay_option("inv"),
            PayOption::Other("inv".into()),
            "Virtual BLS does not know inv"
        );
        assert_eq!(
            Product::Practical.widget_pay_option("invoice"),
            PayOption::Other("invoice".into())
        );
    }

    #[test]
    fn only_virtual_bls_posts_a_kit() {
        assert!(!Product::Practical.needs_kit_address());
        assert!(Product::VirtualBls.needs_kit_address());
    }
}
