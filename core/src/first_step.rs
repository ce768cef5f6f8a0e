//! The widget's first step in words: the product choice, or the course
//! list. The widget's components show these words, and the gateway sends
//! the same step as HTML before the WebAssembly module has loaded, so the
//! candidate can choose at once (the "early step").

use crate::api::Course;
use crate::flow::Step;
use crate::product::Product;

/// The heading of the product choice.
pub const PRODUCT_HEADING: &str = "Choose the training";

/// What the course list says when there is no course to book.
pub const NO_COURSES: &str = "No courses are open for booking at the moment.";

/// The progress line of a step: "Step 1 of 6".
pub fn progress_text(step: u8, of: u8) -> String {
    format!("Step {step} of {of}")
}

/// The lines under a course's name: its price for this agency, if known.
pub fn course_meta(course: &Course) -> Vec<String> {
    course
        .cost_inc_vat
        .map(|cost| format!("{cost} per place"))
        .into_iter()
        .collect()
}

/// One button of the first step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstChoice {
    /// The choice's name.
    pub title: String,
    /// Lines under the name.
    pub meta: Vec<String>,
}

/// The first step the widget shows, as words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstStep {
    /// "Step 1 of 6", or `None` before a product is chosen.
    pub progress: Option<String>,
    /// The step's heading.
    pub heading: &'static str,
    /// The buttons, in the order the widget lists them.
    pub choices: Vec<FirstChoice>,
}

impl FirstStep {
    /// The product choice, shown when the host page offers several.
    pub fn products(products: &[Product]) -> FirstStep {
        FirstStep {
            progress: None,
            heading: PRODUCT_HEADING,
            choices: products
                .iter()
                .map(|product| FirstChoice {
                    title: product.label().to_owned(),
                    meta: vec![product.description().to_owned()],
                })
                .collect(),
        }
    }

    /// The course list of one product, in the order the gateway lists them.
    pub fn courses(product: Product, courses: &[Course]) -> FirstStep {
        FirstStep {
            progress: Step::ChooseCourse
                .progress_of(product)
                .map(|(step, of)| progress_text(step, of)),
            heading: Step::ChooseCourse.heading(),
            choices: courses
                .iter()
                .map(|course| FirstChoice {
                    title: course.name.clone(),
                    meta: course_meta(course),
                })
                .collect(),
        }
    }

    /// The step the widget shows first for these settings, when it is one
    /// that needs no session: the product choice when several products are
    /// offered, else the course list, unless a course is preselected (its
    /// locations come first then) or a booking link is open.
    pub fn for_settings(
        products: &[Product],
        course_preselected: bool,
        booking_link: bool,
    ) -> Option<FirstStepKind> {
        match products {
            _ if booking_link => None,
            [] => None,
            [product] if !course_preselected => Some(FirstStepKind::Courses(*product)),
            [_] => None,
            several => Some(FirstStepKind::Products(several.to_vec())),
        }
    }
}

/// Which first step a widget shows before its module has loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstStepKind {
    /// The product choice.
    Products(Vec<Product>),
    /// One product's course list.
    Courses(Product),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Money;

    fn course(name: &str, pence: Option<i64>) -> Course {
        Course {
            id: 1,
            name: name.to_owned(),
            description: None,
            duration_minutes: None,
            cost_inc_vat: pence.map(Money),
            requires_review: false,
        }
    }

    #[test]
    fn the_course_list_has_the_widgets_words() {
        let step = FirstStep::courses(
            Product::Practical,
            &[course("First Aid", Some(9500)), course("Fire", None)],
        );
        assert_eq!(step.heading, "Choose a course");
        assert_eq!(step.progress.as_deref(), Some("Step 1 of 6"));
        assert_eq!(step.choices[0].meta, ["£95 per place"]);
        assert!(step.choices[1].meta.is_empty());
    }

    #[test]
    fn the_product_choice_has_no_progress() {
        let step = FirstStep::products(&Product::ALL);
        assert_eq!(step.heading, PRODUCT_HEADING);
        assert_eq!(step.progress, None);
        assert_eq!(step.choices.len(), 2);
    }

    #[test]
    fn the_first_step_follows_the_settings() {
        let practical = [Product::Practical];
        assert_eq!(
            FirstStep::for_settings(&practical, false, false),
            Some(FirstStepKind::Courses(Product::Practical))
        );
        assert_eq!(FirstStep::for_settings(&practical, true, false), None);
        assert_eq!(FirstStep::for_settings(&Product::ALL, false, true), None);
        assert_eq!(
            FirstStep::for_settings(&Product::ALL, true, false),
            Some(FirstStepKind::Products(Product::ALL.to_vec()))
        );
    }
}
