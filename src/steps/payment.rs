//! Step 5: how the booking is paid for, and confirming it. Only the pay
//! options the gateway allows are offered. The confirm button is disabled
//! while the booking is being submitted; each attempt carries a fresh
//! idempotency key, which the flow replaces with the pending one when a
//! retry must not book twice.

use booking_core::api::PayOption;
use booking_core::flow::{Intent, Step};
use booking_core::validation::{pay_option_note, FormField, PayOptionOffer};
use leptos::html::Div;
use leptos::prelude::*;

use crate::browser;
use crate::state::{effect, Load, WidgetState};
use crate::steps::details::{field_error, report, reported_errors, ErrorSummary};
use crate::steps::{BackButton, EventSummary};

/// Pay options and the confirm button.
#[component]
pub fn PaymentStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let summary = NodeRef::<Div>::new();
    let reported = reported_errors(state, summary);
    let offers = Memo::new(move |_| {
        let allowed = state.options.with(|options| match options {
            Load::Ready(options) => options.pay_options.clone(),
            _ => Vec::new(),
        });
        state.flow.with(|flow| flow.pay_option_offers(&allowed))
    });
    effect(move || {
        let sole = offers.with(|offers| {
            state
                .flow
                .with_untracked(|flow| flow.sole_pay_option(offers))
        });
        if let Some(option) = sole {
            state.dispatch(Intent::ChoosePayOption(option));
        }
    });
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        state.dispatch(Intent::Submit {
            idempotency_key: browser::random_token(),
        });
        report(state, reported, summary);
    };

    view! {
        <EventSummary/>
        <ErrorSummary errors=reported node=summary/>
        <form class="hbg-form" novalidate on:submit=on_submit>
            <PayOptions offers=offers/>
            <PayOptionNote/>
            <div class="hbg-actions">
                <ConfirmButton/>
                <BackButton/>
            </div>
        </form>
    }
}

/// The pay options on offer as radios, with the error about them.
#[component]
fn PayOptions(offers: Memo<Vec<PayOptionOffer>>) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let option_error = move || field_error(state, FormField::PayOption);
    view! {
        <fieldset
            class="hbg-fieldset"
            id="hbg-pay-option"
            aria-describedby=move || option_error().map(|_| "hbg-pay-option-error")
        >
            <legend class="hbg-legend">{FormField::PayOption.label()}</legend>
            {move || match option_error() {
                Some(text) => view! {
                    <p class="hbg-error-message" id="hbg-pay-option-error">
                        <span class="hbg-visually-hidden">"Error: "</span>
                        {text}
                    </p>
                }
                .into_any(),
                None => ().into_any(),
            }}
            {move || {
                offers
                    .get()
                    .into_iter()
                    .map(|offer| view! { <PayOptionRadio offer=offer/> }.into_any())
                    .collect::<Vec<_>>()
            }}
        </fieldset>
    }
}

/// One pay option: its radio and label, and why it cannot be used, if so.
#[component]
fn PayOptionRadio(offer: PayOptionOffer) -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let option = offer.option;
    let value = option.as_str().to_owned();
    let id = format!("hbg-pay-{value}");
    let checked = option.clone();
    let usable = offer.usable;
    let reason = match offer.reason {
        Some(reason) => view! { <span class="hbg-hint">{reason}</span> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <div class="hbg-radio">
            <input
                type="radio"
                class="hbg-radio-input"
                name="pay_option"
                id=id.clone()
                value=value
                disabled=move || !usable || submitting(state)
                prop:checked=move || chosen(state).as_ref() == Some(&checked)
                on:change=move |_| state.dispatch(Intent::ChoosePayOption(option.clone()))
            />
            <label class="hbg-radio-label" for=id>
                {offer.label}
                {reason}
            </label>
        </div>
    }
}

/// What to know before confirming with the chosen pay option, if anything.
#[component]
fn PayOptionNote() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    view! {
        {move || match chosen(state)
            .as_ref()
            .and_then(|option| pay_option_note(option, state.flow.with(|flow| flow.product())))
        {
            Some(note) => view! { <p class="hbg-note">{note}</p> }.into_any(),
            None => ().into_any(),
        }}
    }
}

/// The confirm button, disabled while the booking is being submitted.
#[component]
fn ConfirmButton() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    view! {
        <button
            type="submit"
            class="hbg-button" part="button"
            disabled=move || submitting(state)
            aria-disabled=move || submitting(state).then_some("true")
        >
            {move || {
                if submitting(state) { "Booking your seat…" } else { "Confirm booking" }.to_owned()
            }}
        </button>
    }
}

/// The chosen pay option.
fn chosen(state: WidgetState) -> Option<PayOption> {
    state.flow.with(|flow| flow.pay_option().cloned())
}

/// Whether the booking is being submitted (tracked through the step, so it
/// notifies only when the step changes).
fn submitting(state: WidgetState) -> bool {
    state.step.get() == Step::Submitting
}
