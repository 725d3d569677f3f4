//! The development log as files for an audit: CSV for a spreadsheet, and a dated PDF
//! (chronological, each entry with its reflection, then totals per kind and for the
//! period, against the requirement chosen) written with `pdf-writer` in the standard
//! Helvetica, so any reader shows it without embedded fonts.

use chrono::{NaiveDate, Utc};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::{
    service::log::{totals, AuditRecord},
    store::log::Entry,
};

fn kind_label(entry: &Entry) -> &'static str {
    entry.kind.label()
}

fn hours(minutes: i64) -> String {
    format!("{:.2}", minutes as f64 / 60.0)
}

/// One row per entry, oldest first, with a header row.
pub fn csv(record: &AuditRecord) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "date",
        "hours",
        "minutes",
        "kind",
        "title",
        "reflection",
        "status",
        "connection_id",
        "circle_id",
        "circle_meeting_id",
    ])?;
    for e in &record.entries {
        let id = |v: Option<uuid::Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
        out.write_record([
            e.occurred_on.to_string(),
            hours(i64::from(e.minutes)),
            e.minutes.to_string(),
            kind_label(e).to_owned(),
            e.title.clone(),
            e.reflection.clone().unwrap_or_default(),
            if e.draft { "draft" } else { "confirmed" }.to_owned(),
            id(e.connection_id),
            id(e.circle_id),
            id(e.circle_meeting_id),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Text in the PDF's WinAnsi encoding: Latin-1 as it is, typographic punctuation mapped,
/// anything else shown as `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{20ac}' => 0x80,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\t' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Lines of at most `width` characters, broken at spaces (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_owned();
            while word.chars().count() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                lines.push(cut);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 50.0;

/// A line of the document: its font (regular or bold), size, indent and text.
struct Line {
    bold: bool,
    size: f32,
    indent: f32,
    text: String,
}

impl Line {
    fn new(text: impl Into<String>) -> Self {
        Self {
            bold: false,
            size: 10.0,
            indent: 0.0,
            text: text.into(),
        }
    }

    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    fn size(mut self, size: f32) -> Self {
        self.size = size;
        self
    }

    fn indent(mut self, indent: f32) -> Self {
        self.indent = indent;
        self
    }

    fn height(&self) -> f32 {
        self.size * 1.4
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The lines of the whole document, before they are put on pages.
fn lines(record: &AuditRecord, today: NaiveDate) -> Vec<Line> {
    let mut out = vec![
        Line::new("Professional development log").bold().size(18.0),
        Line::new(record.name.clone()).size(13.0),
        Line::new(format!(
            "{} to {}. Produced by Alongside on {}.",
            record.from.map_or("From the first entry".to_owned(), day),
            record.to.map_or("the last entry".to_owned(), day),
            day(today)
        )),
    ];
    if let Some(r) = record.requirement {
        out.push(Line::new(format!("Reported to: {}", r.name)));
        for l in wrap(&r.summary, 95) {
            out.push(Line::new(l).size(9.0));
        }
        out.push(Line::new(format!("Source: {}", r.source)).size(9.0));
    }
    out.push(Line::new(""));
    out.push(Line::new("Activities, oldest first").bold().size(12.0));
    if record.entries.is_empty() {
        out.push(Line::new("No activities in this period."));
    }
    for e in &record.entries {
        out.push(
            Line::new(format!(
                "{}   {} h   {}{}",
                e.occurred_on.format("%Y-%m-%d"),
                hours(i64::from(e.minutes)),
                kind_label(e),
                if e.draft {
                    "   (draft, not confirmed)"
                } else {
                    ""
                }
            ))
            .bold(),
        );
        for l in wrap(&e.title, 90) {
            out.push(Line::new(l).indent(12.0));
        }
        if let Some(reflection) = &e.reflection {
            for (n, l) in wrap(reflection, 95).into_iter().enumerate() {
                let text = if n == 0 {
                    format!("Reflection: {l}")
                } else {
                    l
                };
                out.push(Line::new(text).size(9.0).indent(12.0));
            }
        }
    }
    out.push(Line::new(""));
    out.push(Line::new("Totals (confirmed activities)").bold().size(12.0));
    let by_kind = totals(&record.entries);
    for t in &by_kind {
        out.push(Line::new(format!(
            "{}: {} h in {} {}",
            t.kind.label(),
            hours(t.minutes),
            t.entries,
            if t.entries == 1 {
                "activity"
            } else {
                "activities"
            }
        )));
    }
    let total: i64 = by_kind.iter().map(|t| t.minutes).sum();
    out.push(Line::new(format!("All kinds: {} h", hours(total))).bold());
    if let Some(required) = record.requirement.and_then(|r| r.hours) {
        out.push(Line::new(format!(
            "Required in the period: {required} h; {}",
            if total >= i64::from(required) * 60 {
                "met".to_owned()
            } else {
                format!("{} h to go", hours(i64::from(required) * 60 - total))
            }
        )));
    }
    out
}

/// The log as a PDF of A4 pages, numbered "page n of m".
pub fn pdf(record: &AuditRecord) -> Vec<u8> {
    let today = Utc::now().date_naive();
    let all = lines(record, today);
    // Lines to pages.
    let mut pages: Vec<Vec<&Line>> = vec![Vec::new()];
    let mut y = PAGE.1 - MARGIN;
    for line in &all {
        if y - line.height() < MARGIN + 20.0 {
            pages.push(Vec::new());
            y = PAGE.1 - MARGIN;
        }
        y -= line.height();
        if let Some(page) = pages.last_mut() {
            page.push(line);
        }
    }

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|n| Ref::new(first + 2 * n as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&format!(
            "Professional development log, {}",
            record.name
        )))
        .creator(TextStr("Alongside"));
    let count = pages.len();
    for (n, page_lines) in pages.into_iter().enumerate() {
        let id = page_ids[n];
        let content_id = Ref::new(id.get() + 1);
        let mut page = pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
        page.parent(tree);
        page.contents(content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        page.finish();

        let mut content = Content::new();
        let mut y = PAGE.1 - MARGIN;
        for line in page_lines {
            y -= line.height();
            content.begin_text();
            content.set_font(Name(if line.bold { b"F2" } else { b"F1" }), line.size);
            content.next_line(MARGIN + line.indent, y);
            content.show(Str(&win_ansi(&line.text)));
            content.end_text();
        }
        content.begin_text();
        content.set_font(Name(b"F1"), 8.0);
        content.next_line(MARGIN, MARGIN - 10.0);
        content.show(Str(&win_ansi(&format!(
            "{} - professional development log - page {} of {count}",
            record.name,
            n + 1
        ))));
        content.end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
    }

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(win_ansi("Café – “ok”"), b"Caf\xe9 \x96 \x93ok\x94");
        assert_eq!(win_ansi("Māori"), b"M?ori");
    }
}
