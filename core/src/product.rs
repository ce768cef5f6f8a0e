//! The booking products an agency can offer through one widget and one
//! gateway: Practical Training (seats on scheduled training events at a
//! venue) and Virtual BLS (a timeslot generated from trainers' capacity, a
//! kit posted to the candidate and a Zoom session).
//!
//! Everything the two share (the hold and its countdown, the candidate's
//! details, pay options, the payment redirect policy, host events) is one
//! piece of code that asks a [`Product`] where they differ: what is held
//! (an event or a timeslot), whether a kit delivery address is needed, and
//! the upstream's name for each pay option
//! ([`PayOption::wire_name`](crate::api::PayOption::wire_name)).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PayOption;

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
        assert_eq!(PayOption::Inv.wire_name(Product::Practical), "inv");
        assert_eq!(PayOption::Inv.wire_name(Product::VirtualBls), "invoice");
        for option in PayOption::KNOWN {
            for product in Product::ALL {
                let upstream = option.wire_name(product);
                assert_eq!(
                    PayOption::from_wire_name(product, upstream),
                    option,
                    "{product} {option}"
                );
            }
        }
        assert_eq!(
            PayOption::from_wire_name(Product::VirtualBls, "inv"),
            PayOption::Other("inv".into()),
            "Virtual BLS does not know inv"
        );
        assert_eq!(
            PayOption::from_wire_name(Product::Practical, "invoice"),
            PayOption::Other("invoice".into())
        );
    }

    #[test]
    fn only_virtual_bls_posts_a_kit() {
        assert!(!Product::Practical.needs_kit_address());
        assert!(Product::VirtualBls.needs_kit_address());
    }
}
