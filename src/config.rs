//! What the host page tells the widget: the gateway's address, what to
//! preselect, and candidate fields to prefill. `widget.js` reads these from
//! the element's attributes and passes them as JSON.

use booking_core::api::Course;
use booking_core::product::Product;
use booking_core::validation::CandidateForm;
use serde::Deserialize;

/// The widget's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct WidgetConfig {
    /// The gateway's API base, e.g. `/api` or `https://booking.agency.example/api`.
    pub api: String,
    /// The products the host page offers (its `product` attribute): one is
    /// booked straight away; several are offered as the first choice.
    pub products: Vec<Product>,
    /// A course id to preselect.
    pub course: Option<u64>,
    /// A location id to preselect.
    pub location: Option<u64>,
    /// Candidate fields to prefill.
    pub prefill: Prefill,
    /// Where the payment page sends the candidate back; `None` for the page
    /// the widget is on (the iframe mode passes its host page's address).
    pub return_url: Option<String>,
    /// The durable link of a booking to show instead of the booking flow
    /// (the host page's `?hbg-booking=`).
    pub booking_link: Option<String>,
    /// Tells apart several widgets on one page (the element's `id`, or its
    /// position), so each keeps its own booking across the payment page.
    pub instance: String,
    /// The one product's courses as the early step read them (`widget.js`
    /// passes them on), taken instead of reading them again.
    pub courses: Option<Vec<Course>>,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        WidgetConfig {
            api: booking_core::widget_api::API_BASE.to_owned(),
            products: vec![Product::Practical],
            course: None,
            location: None,
            prefill: Prefill::default(),
            return_url: None,
            booking_link: None,
            instance: String::new(),
            courses: None,
        }
    }
}

/// Candidate fields the host page already knows.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Prefill {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Job role.
    pub job_role: String,
}

impl Prefill {
    /// The prefill as the form's starting values.
    pub fn form(&self) -> CandidateForm {
        CandidateForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            job_role: self.job_role.clone(),
            ..CandidateForm::default()
        }
    }

    /// Whether nothing is prefilled.
    pub fn is_empty(&self) -> bool {
        self.form() == CandidateForm::default()
    }
}

impl WidgetConfig {
    /// Reads the JSON `widget.js` passes; anything unreadable falls back to
    /// the defaults, with a console warning, rather than a blank widget.
    pub fn from_json(json: &str) -> WidgetConfig {
        match booking_core::json::from_str(json) {
            Ok(config) => config,
            Err(error) => {
                leptos::logging::warn!("hbg-booking: ignoring unreadable settings ({error})");
                WidgetConfig::default()
            }
        }
    }
}
