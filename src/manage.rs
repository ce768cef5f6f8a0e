//! The candidate's own booking page, opened from a durable booking link
//! (`?hbg-booking=` on the host page): the booking read live, its
//! certificate, a cancel within the agency's policy, and a move to another
//! date (the new booking made before the old one is cancelled). It renders
//! `booking_core::manage::BookingPage` and sends it intents; the page
//! decides.

use std::rc::Rc;

use booking_core::api::TrainingEvent;
use booking_core::calendar::when_label;
use booking_core::flow::Booked;
use booking_core::manage::{
    another_date_offered, booking_page_url, cancel_question, cancel_words, move_question,
    page_facts, AnotherDate, BookingPage, OtherDates, PageCommand, PageIntent, PageView,
};
use booking_core::widget_api::CancelState;
use leptos::html::{Button, H2, H3};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::BookingApi;
use crate::browser;
use crate::steps::{summary, Problem, Skeleton};

/// The booking page for `link`, on the page at `page_url` (the host page's,
/// in the iframe mode).
#[component]
pub fn BookingPageView(
    link: String,
    api: Rc<dyn BookingApi>,
    page_url: Option<String>,
) -> impl IntoView {
    let (page, first) = BookingPage::open();
    let page = RwSignal::new(page);
    let opened = StoredValue::new(link);
    let api = StoredValue::new_local(api);
    let move_key = StoredValue::new(browser::random_token());
    let heading = NodeRef::<H2>::new();
    let keep = NodeRef::<Button>::new();
    let dates_heading = NodeRef::<H3>::new();
    let keep_date = NodeRef::<Button>::new();
    let link = move || page.with(|page| opened.with_value(|opened| page.link(opened).to_owned()));
    let certificate = Signal::derive(move || api.with_value(|api| api.certificate_url(&link())));
    let run = move |command: PageCommand| {
        let api = api.get_value();
        let link = link();
        spawn_local(async move {
            let failed = |error: crate::api::ApiError| (error.status(), error.message());
            match command {
                PageCommand::Read => {
                    let answer = api.managed_booking(link).await.map_err(failed);
                    page.update(|page| page.read(answer));
                }
                PageCommand::Cancel => {
                    let answer = api.cancel_managed_booking(link).await.map_err(failed);
                    let cancelled = answer.is_ok();
                    page.update(|page| page.cancelled(answer));
                    if cancelled {
                        focus_after_render(move || heading.get_untracked().map(|h| h.focus()));
                    }
                }
                PageCommand::LoadDates => {
                    let answer = api.other_dates(link).await.map_err(failed);
                    page.update(|page| page.dates(answer));
                    focus_after_render(move || dates_heading.get_untracked().map(|h| h.focus()));
                }
                PageCommand::Move(event_id) => {
                    let key = format!("{}-{event_id}", move_key.get_value());
                    let answer = api
                        .move_managed_booking(link, event_id, key)
                        .await
                        .map_err(failed);
                    let moved = answer.is_ok();
                    page.update(|page| page.moved(answer));
                    if moved {
                        focus_after_render(move || heading.get_untracked().map(|h| h.focus()));
                    }
                }
            }
        });
    };
    run(first);
    let send = move |intent: PageIntent| {
        let command = page.try_update(|page| page.apply(intent)).flatten();
        match intent {
            PageIntent::AskToCancel => {
                focus_after_render(move || keep.get_untracked().map(|button| button.focus()));
            }
            PageIntent::AskForAnotherDate | PageIntent::BackToDates => {
                focus_after_render(move || dates_heading.get_untracked().map(|h| h.focus()));
            }
            PageIntent::ChooseDate(_) => {
                focus_after_render(move || keep_date.get_untracked().map(|button| button.focus()));
            }
            _ => {}
        }
        if let Some(command) = command {
            run(command);
        }
    };
    let page_url = StoredValue::new(page_url);
    let new_link = move || {
        let moved_to = page.with(|page| page.moved_to.clone())?;
        let url = page_url.with_value(|page_url| {
            page_url
                .as_deref()
                .map(|page_url| booking_page_url(page_url, &moved_to))
        })?;
        Some(view! {
            <p class="hbg-keep-link">
                "Keep this new link to see or change your booking: "
                <a href=url.clone() part="link">{url.clone()}</a>
            </p>
        })
    };
    let old_kept = move || {
        page.with(|page| page.old_booking_kept.clone())
            .map(|message| view! { <p class="hbg-problem" role="alert">{message}</p> })
    };

    let shown_view = Memo::new(move |_| page.with(|page| page.view.clone()));
    let body = move || match shown_view.get() {
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
            let certificate = certificate_action(&shown.booking, certificate.get());
            let words = cancel_words(&shown).map(|words| view! { <p>{words}</p> }.into_any());
            let can_cancel = shown.cancel.state == CancelState::Open;
            let can_move = another_date_offered(&shown.cancel, shown.booking.pay_option());
            let question = cancel_question(&shown.booking);
            let booked = shown.booking.clone();
            let choosing = move || page.with(|page| page.another_date.is_some());
            view! {
                {old_kept}
                {summary(page_facts(&shown.booking))}
                {new_link}
                {words}
                <div class="hbg-actions">
                    {certificate}
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        hidden=move || !can_move || choosing() || page.with(|page| page.confirming)
                        on:click=move |_| send(PageIntent::AskForAnotherDate)
                    >
                        "Choose another date"
                    </button>
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        hidden=move || !can_cancel || choosing() || page.with(|page| page.confirming)
                        on:click=move |_| send(PageIntent::AskToCancel)
                    >
                        "Cancel this booking"
                    </button>
                </div>
                {move || {
                    page.with(|page| page.another_date.clone())
                        .map(|choice| {
                            another_date_view(
                                &booked,
                                choice,
                                Callback::new(send),
                                dates_heading,
                                keep_date,
                            )
                        })
                }}
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

/// The choice of another date: the dates offered, then, in their place,
/// the question that confirms the one chosen.
fn another_date_view(
    booked: &Booked,
    choice: AnotherDate,
    send: Callback<PageIntent>,
    heading: NodeRef<H3>,
    keep_date: NodeRef<Button>,
) -> AnyView {
    let chosen_id = choice.chosen.as_ref().map(|event| event.id);
    let dates = match choice.dates {
        _ if chosen_id.is_some() => ().into_any(),
        OtherDates::Loading => {
            view! { <Skeleton rows=3 label="Loading the other dates"/> }.into_any()
        }
        OtherDates::Failed(message) => view! {
            <Problem
                message
                action="Try again"
                on_action=Callback::new(move |()| send.run(PageIntent::RetryDates))
            />
        }
        .into_any(),
        OtherDates::Shown(dates) if dates.is_empty() => view! {
            <p>"No other date of this course has a free place at the moment."</p>
        }
        .into_any(),
        OtherDates::Shown(dates) => {
            let items = dates
                .into_iter()
                .map(|event| date_button(event, choice.moving, send))
                .collect::<Vec<_>>();
            view! { <ul class="hbg-choices" role="list">{items}</ul> }.into_any()
        }
    };
    let confirm = choice.chosen.as_ref().map(|event| {
        let question = move_question(booked, event);
        let moving = choice.moving;
        view! {
            <div class="hbg-confirm-move" role="group" aria-labelledby="hbg-move-question">
                <p id="hbg-move-question">{question}</p>
                <p class="hbg-problem" role="alert">{choice.problem.clone()}</p>
                <div class="hbg-actions">
                    <button
                        type="button"
                        class="hbg-button"
                        part="button"
                        aria-disabled=moving.to_string()
                        on:click=move |_| send.run(PageIntent::ConfirmMove)
                    >
                        {if moving { "Moving..." } else { "Yes, move it" }}
                    </button>
                    <button
                        type="button"
                        class="hbg-button hbg-button-secondary"
                        part="button"
                        hidden=moving
                        on:click=move |_| send.run(PageIntent::BackToDates)
                    >
                        "Choose a different date"
                    </button>
                </div>
            </div>
        }
    });
    view! {
        <section class="hbg-another-date" aria-labelledby="hbg-another-date-heading">
            <h3 id="hbg-another-date-heading" tabindex="-1" node_ref=heading>
                "Choose another date"
            </h3>
            {dates}
            {confirm}
            <div class="hbg-actions">
                <button
                    type="button"
                    class="hbg-button hbg-button-secondary"
                    part="button"
                    node_ref=keep_date
                    hidden=choice.moving
                    on:click=move |_| send.run(PageIntent::KeepDate)
                >
                    "Keep my date"
                </button>
            </div>
        </section>
    }
    .into_any()
}

/// One of the other dates, as a button naming its full date, time and
/// venue.
fn date_button(event: TrainingEvent, moving: bool, send: Callback<PageIntent>) -> AnyView {
    let id = event.id;
    let label = format!(
        "{}, {}",
        when_label(event.start_date, Some(event.end_date)),
        event.location.name
    );
    view! {
        <li>
            <button
                type="button"
                class="hbg-choice"
                part="choice"
                aria-disabled=moving.to_string()
                on:click=move |_| send.run(PageIntent::ChooseDate(id))
            >
                {label}
            </button>
        </li>
    }
    .into_any()
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
