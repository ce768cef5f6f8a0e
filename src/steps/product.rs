//! The first step when the host page offers more than one product: which
//! training to book. Each product's options, courses and flow load once it
//! is chosen.

use booking_core::product::Product;
use leptos::prelude::*;

use crate::state::WidgetState;
use crate::steps::{Choice, ChoiceList};

/// The heading of the product choice.
pub use booking_core::first_step::PRODUCT_HEADING as HEADING;

/// The products the host page offers, a button each.
#[component]
pub fn ProductStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let choices = state
        .config()
        .products
        .into_iter()
        .map(|product: Product| Choice {
            hidden: None,
            title: product.label().to_owned(),
            meta: vec![product.description().to_owned()],
            action: Some(Callback::new(move |()| state.choose_product(product))),
        })
        .collect();
    view! { <ChoiceList choices=choices/> }
}
