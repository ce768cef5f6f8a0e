//! `GET /api/first-step`: the widget's first step as HTML, which
//! `widget.js` shows in the shadow root while the WebAssembly module loads
//! (the "early step"), so a candidate on a slow phone can choose at once;
//! with it the courses it lists, which the module takes instead of reading
//! them again.
//!
//! The words are `booking_core::first_step`'s, the ones the widget's
//! components show, and the markup is the widget's own (the same classes
//! and structure), so that the module takes the step over without a flash.
//! Every text is escaped: course names come from the upstream.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use booking_core::api::Course;
use booking_core::first_step::{FirstStep, FirstStepKind};
use booking_core::product::Product;
use booking_core::widget_api::FirstStepAnswer;
use serde::Deserialize;

use super::budget::Caller;
use super::errors::GatewayError;
use super::routes::course_list;
use super::AppState;

/// Query of `GET /api/first-step`.
#[derive(Debug, Default, Deserialize)]
pub struct FirstStepQuery {
    product: Option<String>,
    course: Option<String>,
}

impl FirstStepQuery {
    /// The products named (Practical Training when none), or a 422.
    fn products(&self) -> Result<Vec<Product>, GatewayError> {
        let names = self.product.as_deref().unwrap_or_default();
        let mut products = Vec::new();
        for name in names.split_whitespace() {
            let product = Product::parse(name).ok_or_else(|| {
                GatewayError::invalid("product", "The product must be practical or virtual-bls.")
            })?;
            if !products.contains(&product) {
                products.push(product);
            }
        }
        if products.is_empty() {
            products.push(Product::Practical);
        }
        Ok(products)
    }
}

/// `GET /api/first-step?product=&course=`.
pub async fn first_step(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(query): Query<FirstStepQuery>,
) -> Result<Response, GatewayError> {
    let products = query.products()?;
    let preselected = query.course.as_deref().is_some_and(|id| !id.is_empty());
    let (step, courses) = match FirstStep::for_settings(&products, preselected, false) {
        None => return Ok(StatusCode::NO_CONTENT.into_response()),
        Some(FirstStepKind::Products(products)) => (FirstStep::products(&products), Vec::new()),
        Some(FirstStepKind::Courses(product)) => {
            let upstream = state.product(product)?;
            let bytes = course_list(&state, upstream, &caller).await?;
            let courses: Vec<Course> = serde_json::from_slice(&bytes)
                .map_err(|error| GatewayError::BadGateway(super::upstream::unreadable(&error)))?;
            if courses.is_empty() {
                return Ok(StatusCode::NO_CONTENT.into_response());
            }
            (FirstStep::courses(product, &courses), courses)
        }
    };
    Ok(Json(FirstStepAnswer {
        html: render(&step),
        courses,
    })
    .into_response())
}

/// The step as the widget's markup, every text escaped. Its heading has an
/// id of its own, so that it and the module's step, side by side (one
/// hidden) while the module takes over, never share one.
pub fn render(step: &FirstStep) -> String {
    let mut html = String::from(
        "<section class=\"hbg\" aria-labelledby=\"hbg-early-heading\" data-hbg-early=\"\">",
    );
    html.push_str("<p class=\"hbg-progress\">");
    if let Some(progress) = &step.progress {
        html.push_str(&escape(progress));
    }
    html.push_str(
        "</p><h2 id=\"hbg-early-heading\" class=\"hbg-heading\" part=\"heading\" tabindex=\"-1\">",
    );
    html.push_str(&escape(step.heading));
    html.push_str("</h2><ul class=\"hbg-choices\">");
    for choice in &step.choices {
        html.push_str(
            "<li><button type=\"button\" class=\"hbg-choice\" part=\"choice\"><span class=\"hbg-choice-title\">",
        );
        html.push_str(&escape(&choice.title));
        html.push_str("</span>");
        for line in &choice.meta {
            html.push_str("<span class=\"hbg-choice-meta\">");
            html.push_str(&escape(line));
            html.push_str("</span>");
        }
        html.push_str("</button></li>");
    }
    html.push_str("</ul></section>");
    html
}

/// Text made safe for an element's content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking_core::first_step::FirstChoice;

    #[test]
    fn markup_in_texts_is_escaped() {
        assert_eq!(
            escape("<img src=x onerror=\"a('&')\">"),
            "&lt;img src=x onerror=&quot;a(&#39;&amp;&#39;)&quot;&gt;"
        );
        let html = render(&FirstStep {
            progress: None,
            heading: "Choose a course",
            choices: vec![FirstChoice {
                title: "<script>alert(1)</script>".to_owned(),
                meta: vec!["£95 per place".to_owned()],
            }],
        });
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script"));
        assert!(html.contains("<span class=\"hbg-choice-meta\">£95 per place</span>"));
    }
}
