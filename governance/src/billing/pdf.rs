//! The invoice as a one-page PDF (A4, Helvetica, no embedded font), written
//! with `pdf-writer`. Its text is the invoice's: id, tenant, plan, period,
//! each line item and the totals; the JSON stays the signed original.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use super::invoice::Invoice;

/// The most line items on the page; more are summarised in one line.
const MAX_LINES: usize = 40;

/// Text a Type 1 standard font can show (WinAnsi, printable ASCII here).
fn ascii(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else {
                b'?'
            }
        })
        .collect()
}

/// The invoice's PDF bytes.
pub fn render_pdf(invoice: &Invoice) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_id = Ref::new(3);
    let font = Ref::new(4);
    let bold = Ref::new(5);
    let contents = Ref::new(6);
    let (regular_name, bold_name) = (Name(b"F1"), Name(b"F2"));

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    page.parent(tree);
    page.contents(contents);
    let mut resources = page.resources();
    let mut fonts = resources.fonts();
    fonts.pair(regular_name, font);
    fonts.pair(bold_name, bold);
    fonts.finish();
    resources.finish();
    page.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold"));

    let mut lines: Vec<(bool, f32, String)> = vec![
        (true, 18.0, format!("Invoice {}", invoice.id)),
        (false, 11.0, String::new()),
        (false, 11.0, format!("Tenant: {}", invoice.tenant)),
        (
            false,
            11.0,
            format!("Plan: {} ({} edition)", invoice.plan, invoice.edition),
        ),
        (
            false,
            11.0,
            format!(
                "Period: {} ({} to {})",
                invoice.period, invoice.period_start, invoice.period_end
            ),
        ),
        (false, 11.0, format!("Issued: {}", invoice.issued_at)),
        (
            false,
            11.0,
            format!(
                "Price per verified proof: {} {}",
                invoice.unit_price_usd, invoice.currency
            ),
        ),
        (false, 11.0, String::new()),
        (true, 11.0, "Line items".to_string()),
    ];
    for item in invoice.line_items.iter().take(MAX_LINES) {
        lines.push((
            false,
            10.0,
            format!(
                "{}  x {}  @ {}  = {} USD",
                item.description, item.quantity, item.unit_price_usd, item.amount_usd
            ),
        ));
    }
    if invoice.line_items.len() > MAX_LINES {
        lines.push((
            false,
            10.0,
            format!(
                "... and {} more line items (see the JSON invoice)",
                invoice.line_items.len() - MAX_LINES
            ),
        ));
    }
    lines.extend([
        (false, 11.0, String::new()),
        (
            false,
            11.0,
            format!("Verifications billed: {}", invoice.quantity),
        ),
        (
            false,
            11.0,
            format!("Total (exact): {} USD", invoice.total_usd),
        ),
        (
            true,
            13.0,
            format!("Amount due: {} USD", invoice.amount_due_usd),
        ),
        (false, 11.0, String::new()),
        (
            false,
            8.0,
            format!(
                "Receipts billed (SHA-256 of their sorted ids): {}",
                invoice.receipts_sha256
            ),
        ),
        (
            false,
            8.0,
            "The signed original is the JSON invoice; its SHA-256 is signed with the receipt key."
                .to_string(),
        ),
    ]);

    let mut content = Content::new();
    let mut y = 790.0;
    for (is_bold, size, text) in &lines {
        if !text.is_empty() {
            content.begin_text();
            content.set_font(if *is_bold { bold_name } else { regular_name }, *size);
            content.next_line(56.0, y);
            content.show(Str(&ascii(text)));
            content.end_text();
        }
        y -= size * 1.6;
    }
    pdf.stream(contents, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::super::invoice::{rate, InvoiceInputs, UsageLine};
    use super::super::period::Period;
    use super::*;
    use crate::entitlements::Edition;

    #[test]
    fn the_pdf_holds_the_invoice_text() {
        let invoice = rate(InvoiceInputs {
            tenant: "acme".into(),
            plan: "pro".into(),
            edition: Edition::Pro,
            period: Period::parse("2026-11").unwrap(),
            issued_at_ms: Period::parse("2026-12").unwrap().start_ms(),
            usage: vec![UsageLine {
                circuit: "zktx/overlap/v1/capacity-16".into(),
                verdict: "valid".into(),
                quantity: 1234,
            }],
            receipts_sha256: "ab".repeat(32),
        });
        let bytes = render_pdf(&invoice);
        assert!(bytes.starts_with(b"%PDF-"));
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let text = doc.extract_text(&[1]).unwrap();
        for expected in [
            "Invoice inv-2026-11-acme",
            "Tenant: acme",
            "Plan: pro (pro edition)",
            "Period: 2026-11",
            "x 1234",
            "6.1700 USD",
            "Amount due: 6.17 USD",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
    }
}
