//! Step 4: the candidate's details, with the GOV.UK error pattern: checked
//! on submit (and, once a field is in error, again on blur; its message goes
//! as soon as it is typed right), an error summary that takes focus, and
//! each message above its field.

use booking_core::flow::Intent;
use booking_core::validation::{FieldErrors, FormField};
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::WidgetState;
use crate::steps::{BackButton, EventSummary};

/// How one input is drawn.
struct FieldSpec {
    field: FormField,
    input_type: &'static str,
    autocomplete: &'static str,
    input_mode: Option<&'static str>,
    hint: Option<&'static str>,
}

const FIELDS: [FieldSpec; 8] = [
    FieldSpec {
        field: FormField::FirstName,
        input_type: "text",
        autocomplete: "given-name",
        input_mode: None,
        hint: None,
    },
    FieldSpec {
        field: FormField::LastName,
        input_type: "text",
        autocomplete: "family-name",
        input_mode: None,
        hint: None,
    },
    FieldSpec {
        field: FormField::Email,
        input_type: "email",
        autocomplete: "email",
        input_mode: Some("email"),
        hint: Some("We send the booking confirmation here."),
    },
    FieldSpec {
        field: FormField::Phone,
        input_type: "tel",
        autocomplete: "tel",
        input_mode: Some("tel"),
        hint: Some("A UK number, like 07700 900123, or an international number starting with +."),
    },
    FieldSpec {
        field: FormField::JobRole,
        input_type: "text",
        autocomplete: "organization-title",
        input_mode: None,
        hint: Some("For example, Healthcare Assistant."),
    },
    FieldSpec {
        field: FormField::Address,
        input_type: "text",
        autocomplete: "street-address",
        input_mode: None,
        hint: Some("House number and street, and a flat number if any."),
    },
    FieldSpec {
        field: FormField::City,
        input_type: "text",
        autocomplete: "address-level2",
        input_mode: None,
        hint: None,
    },
    FieldSpec {
        field: FormField::Postcode,
        input_type: "text",
        autocomplete: "postal-code",
        input_mode: None,
        hint: Some("A UK postcode, like LS1 4AP."),
    },
];

/// The id of a field's input (for the pay option, its fieldset).
pub fn input_id(field: FormField) -> String {
    format!("hbg-{}", field.name().replace('_', "-"))
}

/// The candidate form.
#[component]
pub fn DetailsStep() -> impl IntoView {
    let state = expect_context::<WidgetState>();
    let summary = NodeRef::<Div>::new();
    let reported = reported_errors(state, summary);
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        state.dispatch(Intent::ContinueToPayment);
        report(state, reported, summary);
    };
    let product = state.flow.with_untracked(|flow| flow.product());
    let shown = FormField::candidate_fields(product);
    let note = match product.details_note() {
        Some(note) => view! { <p class="hbg-note">{note}</p> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <EventSummary/>
        <ErrorSummary errors=reported node=summary/>
        {note}
        <form class="hbg-form" novalidate on:submit=on_submit>
            {FIELDS
                .iter()
                .filter(|spec| shown.contains(&spec.field))
                .map(|spec| field_view(state, spec))
                .collect::<Vec<_>>()}
            <div class="hbg-actions">
                <button type="submit" class="hbg-button" part="button">"Continue"</button>
                <BackButton/>
            </div>
        </form>
    }
}

fn field_view(state: WidgetState, spec: &FieldSpec) -> AnyView {
    let field = spec.field;
    let id = input_id(field);
    let hint_id = spec.hint.map(|_| format!("{id}-hint"));
    let error_id = format!("{id}-error");
    let message = move || field_error(state, field);
    let describing = (hint_id.clone(), error_id.clone());
    let on_input = move |event: leptos::ev::Event| {
        let typed = event_target_value(&event);
        let mut form = state.flow.with_untracked(|flow| flow.form().clone());
        form.set(field, typed);
        state.dispatch(Intent::EditForm(form));
    };
    let hint = match spec.hint {
        Some(hint) => view! { <p class="hbg-hint" id=hint_id>{hint}</p> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <div class="hbg-field" class:hbg-field-error=move || message().is_some()>
            <label class="hbg-label" for=id.clone()>{field.label()}</label>
            {hint}
            {move || match message() {
                Some(text) => view! {
                    <p class="hbg-error-message" id=error_id.clone()>
                        <span class="hbg-visually-hidden">"Error: "</span>
                        {text}
                    </p>
                }
                .into_any(),
                None => ().into_any(),
            }}
            <input
                class="hbg-input"
                part="input"
                id=id
                name=field.name()
                type=spec.input_type
                autocomplete=spec.autocomplete
                inputmode=spec.input_mode
                spellcheck="false"
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=move || {
                    let (hint_id, error_id) = &describing;
                    let ids: Vec<&str> = hint_id
                        .iter()
                        .map(String::as_str)
                        .chain(message().is_some().then_some(error_id.as_str()))
                        .collect();
                    (!ids.is_empty()).then(|| ids.join(" "))
                }
                prop:value=move || {
                    state
                        .flow
                        .with(|flow| flow.form().value(field).unwrap_or_default().to_owned())
                }
                on:input=on_input
                on:blur=move |_| state.dispatch(Intent::CheckField(field))
            />
        </div>
    }
    .into_any()
}

/// Focuses an element after the next render.
fn focus_later(node: NodeRef<Div>) {
    request_animation_frame(move || {
        if let Some(element) = node.try_get_untracked().flatten() {
            let _ = element.focus();
        }
    });
}

/// The flow's error message for a field, if it has one.
pub fn field_error(state: WidgetState, field: FormField) -> Option<String> {
    state
        .flow
        .with(|flow| flow.errors().get(field).map(str::to_owned))
}

/// The errors the summary lists: those of the last submit (or of the
/// server's answer that brought the step back). Re-checking a field on blur
/// updates its own message but not the summary, so nothing moves under the
/// pointer between pressing and releasing a button.
pub fn reported_errors(state: WidgetState, summary: NodeRef<Div>) -> RwSignal<FieldErrors> {
    let reported = RwSignal::new(state.flow.with_untracked(|flow| flow.errors().clone()));
    if state.focus_errors.get_untracked() {
        state.focus_errors.set(false);
        focus_later(summary);
    }
    reported
}

/// After a submit: the summary lists the flow's errors and takes focus if
/// there are any.
pub fn report(state: WidgetState, reported: RwSignal<FieldErrors>, summary: NodeRef<Div>) {
    let errors = state.flow.with_untracked(|flow| flow.errors().clone());
    let any = !errors.is_empty();
    reported.set(errors);
    if any {
        focus_later(summary);
    }
}

/// "There is a problem": every error as a link to its field, plus errors
/// not tied to a field. It takes focus after a failed submit.
#[component]
pub fn ErrorSummary(
    /// The errors to list.
    errors: RwSignal<FieldErrors>,
    /// The summary's element, to focus.
    node: NodeRef<Div>,
) -> impl IntoView {
    view! {
        <div
            class="hbg-error-summary"
            role="alert"
            tabindex="-1"
            node_ref=node
            aria-labelledby="hbg-error-summary-title"
            hidden=move || errors.with(FieldErrors::is_empty)
        >
            <h3 id="hbg-error-summary-title" class="hbg-error-summary-title">"There is a problem"</h3>
            <ul class="hbg-error-list">
                {move || {
                    errors
                        .get()
                        .general()
                        .iter()
                        .map(|message| view! { <li>{message.clone()}</li> }.into_any())
                        .collect::<Vec<_>>()
                }}
                {move || {
                    errors
                        .get()
                        .fields()
                        .map(|(field, message)| {
                            let target = input_id(field);
                            let href = format!("#{target}");
                            view! {
                                <li>
                                    <a
                                        href=href
                                        on:click=move |event| {
                                            event.prevent_default();
                                            focus_field(&event, &target);
                                        }
                                    >
                                        {message.to_owned()}
                                    </a>
                                </li>
                            }
                            .into_any()
                        })
                        .collect::<Vec<_>>()
                }}
            </ul>
        </div>
    }
}

/// Focuses the input with `id` in the same (shadow) root as the event's
/// target (fragment links do not reach into shadow roots); for a group of
/// radios (a fieldset), its first choice that can be chosen.
fn focus_field(event: &leptos::ev::MouseEvent, id: &str) {
    let root = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Node>().ok())
        .map(|node| node.get_root_node());
    let element = root.and_then(|root| {
        if let Some(shadow) = root.dyn_ref::<web_sys::ShadowRoot>() {
            shadow.get_element_by_id(id)
        } else {
            root.dyn_ref::<web_sys::Document>()
                .and_then(|document| document.get_element_by_id(id))
        }
    });
    let element = element.and_then(|element| {
        if element.tag_name().eq_ignore_ascii_case("fieldset") {
            element
                .query_selector("input:not([disabled])")
                .ok()
                .flatten()
        } else {
            Some(element)
        }
    });
    if let Some(element) =
        element.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
