//! A one-page completion certificate as a PDF, written by hand.
//!
//! Invariants: the file is a valid PDF 1.4 whose cross-reference table gives
//! the exact byte offset of every object; text uses the standard Helvetica
//! fonts with WinAnsi encoding, so characters outside Latin-1 print as `?`
//! and `(`, `)` and `\` are escaped.

use std::fmt::Write as _;

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

/// What the certificate shows.
#[derive(Debug, Clone)]
pub(crate) struct CertificateFields {
    /// Booking reference.
    pub booking_id: i64,
    /// Candidate's full name.
    pub candidate_name: String,
    /// Course completed.
    pub course_name: String,
    /// Venue name.
    pub location: String,
    /// Date of the training, written out.
    pub date: String,
}

/// Longest value (name, course, place) printed on one line, in characters.
const MAX_VALUE: usize = 70;

/// A PDF string literal body of at most `max` characters (then `...`):
/// Latin-1 as octal escapes, specials escaped.
fn pdf_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (index, c) in text.chars().enumerate() {
        if index == max {
            out.push_str("...");
            break;
        }
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '\u{a0}'..='\u{ff}' => {
                let _ = write!(out, "\\{:03o}", u32::from(c));
            }
            _ => out.push('?'),
        }
    }
    out
}

/// The certificate as a download: the PDF, its type and its file name.
pub(crate) fn certificate_download(fields: &CertificateFields) -> Response {
    let disposition = format!(
        "attachment; filename=\"certificate-{}.pdf\"",
        fields.booking_id
    );
    let mut response = certificate_pdf(fields).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// The certificate as PDF bytes.
pub(crate) fn certificate_pdf(fields: &CertificateFields) -> Vec<u8> {
    let lines: [(&str, u32, u32, String); 7] = [
        ("F2", 30, 470, "Certificate of Completion".to_owned()),
        ("F1", 14, 425, "This is to certify that".to_owned()),
        ("F2", 24, 390, pdf_text(&fields.candidate_name, MAX_VALUE)),
        ("F1", 14, 350, "has completed the practical training".to_owned()),
        ("F2", 18, 318, pdf_text(&fields.course_name, MAX_VALUE)),
        (
            "F1",
            14,
            280,
            pdf_text(
                &format!("on {} at {}", fields.date, fields.location),
                2 * MAX_VALUE,
            ),
        ),
        (
            "F1",
            10,
            90,
            pdf_text(
                &format!(
                    "Booking reference {}. Issued by the Practical Training API sandbox: not a real certificate.",
                    fields.booking_id
                ),
                usize::MAX,
            ),
        ),
    ];
    let mut content = String::new();
    for (font, size, y, text) in &lines {
        let _ = writeln!(content, "BT /{font} {size} Tf 72 {y} Td ({text}) Tj ET");
    }
    let title = pdf_text(&format!("Certificate {}", fields.booking_id), usize::MAX);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] \
         /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
        format!("<< /Title ({title}) /Producer (booking-sandbox) >>"),
    ];
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref_at = pdf.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(xref, "{offset:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        objects.len() + 1,
        objects.len()
    );
    pdf.extend_from_slice(xref.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        certificate_pdf(&CertificateFields {
            booking_id: 100123,
            candidate_name: name.to_owned(),
            course_name: "Moving & Handling Practical".to_owned(),
            location: "Leeds".to_owned(),
            date: "Tuesday 4 August 2026".to_owned(),
        })
    }

    #[test]
    fn xref_offsets_point_at_objects() {
        let pdf = sample("Priya Patel");
        let text = String::from_utf8_lossy(&pdf);
        let start = text.rfind("startxref\n").unwrap() + "startxref\n".len();
        let xref_at: usize = text[start..].lines().next().unwrap().parse().unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref\n0 8\n"));
        let table = String::from_utf8_lossy(&pdf[xref_at..]).into_owned();
        let entries: Vec<&str> = table.lines().skip(3).take(7).collect();
        for (index, entry) in entries.iter().enumerate() {
            assert_eq!(entry.len(), 19, "{entry:?}");
            let offset: usize = entry[..10].parse().unwrap();
            let expected = format!("{} 0 obj\n", index + 1);
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {}",
                index + 1
            );
        }
        assert!(text.ends_with("%%EOF\n"));
    }

    #[test]
    fn stream_length_is_exact() {
        let pdf = sample("Zoë O'Brien (née Smith) \\ 李");
        let text = String::from_utf8_lossy(&pdf).into_owned();
        let length_at = text.find("/Length ").unwrap() + "/Length ".len();
        let length: usize = text[length_at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let body_at = text.find("stream\n").unwrap() + "stream\n".len();
        assert_eq!(&text[body_at + length..body_at + length + 9], "endstream");
        assert!(text.contains("(Zo\\353 O'Brien \\(n\\351e Smith\\) \\\\ ?)"));
    }

    #[test]
    fn long_values_are_cut_and_the_footer_is_whole() {
        let pdf = sample(&"N".repeat(200));
        let text = String::from_utf8_lossy(&pdf).into_owned();
        assert!(text.contains(&format!("({}...)", "N".repeat(MAX_VALUE))));
        assert!(text.contains("not a real certificate.) Tj"));
    }
}
