//! The candidate's own booking page, opened from a durable booking link
//! (`?hbg-booking=` on the host page): the booking read live, its
//! certificate, and a cancel within the agency's policy. It renders
//! `booking_core::manage::BookingPage` and sends it intents; the page
//! decides.

use std::rc::Rc;

use booking_core::flow::Booked;
use booking_core::manage::{
    cancel_question, cancel_words, page_facts, BookingPage, PageCommand, PageIntent, PageView,
};
use booking_core::widget_api::CancelState;
use leptos::html::{Button, H2};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::BookingApi;
use crate::steps::{summary, Problem, Skeleton};

/// The booking page for `link`.
#[component]
pub fn BookingPageView(link: String, api: Rc<dyn BookingApi>) -> impl IntoView {
    let (page, first) = BookingPage::open();
    let page = RwSignal::new(page);
    let certificate = api.certificate_url(&link);
    let link = StoredValue::new(link);
    let api = StoredValue::new_local(api);
    let heading = NodeRef::<H2>::new();
    let keep = NodeRef::<Button>::new();
    let run = move |command: PageCommand| {
        let api = api.get_value();
        let link = link.get_value();
        spawn_local(async move {
            let answer = match command {
                PageCommand::Read => api.managed_booking(link).await,
                PageCommand::Cancel => api.cancel_managed_booking(link).await,
            }
            .map_err(|error| (error.status(), error.message()));
            let cancelled = command == PageCommand::Cancel && answer.is_ok();
            page.update(|page| match command {
                PageCommand::Read => page.read(answer),
                PageCommand::Cancel => page.cancelled(answer),
            });
            if cancelled {
                focus_after_render(move || heading.get_untracked().map(|h| h.focus()));
            }
        });
    };
    run(first);
    let send = move |intent: PageIntent| {
        let command = page.try_update(|page| page.apply(intent)).flatten();
        if intent == PageIntent::AskToCancel {
            focus_after_render(move || keep.get_untracked().map(|button| button.focus()));
        }
        if let Some(command) = command {
            run(command);
        }
    };

    let body = move || match page.with(|page| page.view.clone()) {
        PageView::Loading => view! { <Skeleton rows=4 label="Loading your booking"/> }.into_any(),
        PageView::Refused(message) => {
            view! { <p class="hbg-problem" role="alert">{message}</p> }.into_any()
        }
        PageView::Failed(message) => view! {
            <Problem
                message
                action="Try again"
                on_action=Callback::new(move |()| send(PageIntent::Retry))
            />
        }
        .into_any(),
        PageView::Shown(shown) => {
            let certificate = certificate_action(&shown.booking, certificate.clone());
            let words = cancel_words(&shown).map(|words| view! { <p>{words}</p> }.into_any());
            let can_cancel = shown.cancel.state == CancelState::Open;
            let question = cancel_question(&shown.booking);
            view! {
                {summary(page_facts(&shown.booking))}
                {words}
                <div class="hbg-actions">
                    {certificate}
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        hidden=move || !can_cancel || page.with(|page| page.confirming)
                        on:click=move |_| send(PageIntent::AskToCancel)
                    >
                        "Cancel this booking"
                    </button>
                </div>
                <div
                    class="hbg-confirm-cancel"
                    role="group"
                    aria-labelledby="hbg-cancel-question"
                    hidden=move || !page.with(|page| page.confirming)
                >
                    <p id="hbg-cancel-question">{question}</p>
                    <p class="hbg-problem" role="alert">
                        {move || page.with(|page| page.problem.clone())}
                    </p>
                    <div class="hbg-actions">
                        <button
                            type="button"
                            class="hbg-button"
                            part="button"
                            aria-disabled=move || page.with(|page| page.cancelling).to_string()
                            on:click=move |_| send(PageIntent::ConfirmCancel)
                        >
                            {move || {
                                if page.with(|page| page.cancelling) {
                                    "Cancelling..."
                                } else {
                                    "Yes, cancel it"
                                }
                            }}
                        </button>
                        <button
                            type="button"
                            class="hbg-button hbg-button-secondary"
                            part="button"
                            node_ref=keep
                            on:click=move |_| send(PageIntent::KeepBooking)
                        >
                            "Keep my booking"
                        </button>
                    </div>
                </div>
            }
            .into_any()
        }
    };

    view! {
        <section class="hbg" aria-labelledby="hbg-step-heading">
            <h2 id="hbg-step-heading" class="hbg-heading" part="heading" tabindex="-1" node_ref=heading>
                "Your booking"
            </h2>
            <p class="hbg-visually-hidden" role="status">
                {move || page.with(|page| page.announcement).unwrap_or_default()}
            </p>
            {body}
        </section>
    }
}

/// The certificate's download, when the upstream has one.
fn certificate_action(booked: &Booked, url: String) -> AnyView {
    if booked.certificate_available() {
        view! {
            <a class="hbg-button" part="button" href=url download="">
                "Download your certificate (PDF)"
            </a>
        }
        .into_any()
    } else {
        ().into_any()
    }
}

/// Runs `focus` once the change just made is on screen.
fn focus_after_render<T>(focus: impl FnOnce() -> Option<T> + 'static) {
    request_animation_frame(move || {
        let _ = focus();
    });
}
