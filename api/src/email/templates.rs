//! Every email has a plain-text and an HTML part, rendered from the same facts.

/// A rendered email, ready for the outbox.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Wraps paragraphs and an optional call to action in the shared HTML frame.
fn html_frame(greeting: &str, paragraphs: &[&str], action: Option<(&str, &str)>) -> String {
    let mut body = format!("<p>{}</p>\n", escape_html(greeting));
    for p in paragraphs {
        body.push_str(&format!("<p>{}</p>\n", escape_html(p)));
    }
    if let Some((label, url)) = action {
        let url = escape_html(url);
        body.push_str(&format!(
            "<p><a href=\"{url}\" style=\"display:inline-block;padding:10px 18px;\
             background:#2f6f5e;color:#fff;text-decoration:none;border-radius:4px\">{}</a></p>\n\
             <p style=\"font-size:12px;color:#555\">Or paste this link into your browser: {url}</p>\n",
            escape_html(label)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif;line-height:1.5;color:#222\">\n\
         {body}<p>— Alongside</p>\n</body></html>\n"
    )
}

fn text_frame(greeting: &str, paragraphs: &[&str], action: Option<(&str, &str)>) -> String {
    let mut text = format!("{greeting}\n\n");
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str("— Alongside\n");
    text
}

fn render(
    subject: &str,
    greeting: &str,
    paragraphs: &[&str],
    action: Option<(&str, &str)>,
) -> Rendered {
    Rendered {
        subject: subject.to_owned(),
        text: text_frame(greeting, paragraphs, action),
        html: html_frame(greeting, paragraphs, action),
    }
}

pub fn verify_email(display_name: &str, link: &str) -> Rendered {
    render(
        "Confirm your email for Alongside",
        &format!("Hi {display_name},"),
        &[
            "Welcome to Alongside. Please confirm your email address so that other \
             practitioners can find you and you can reach out to peers and mentors.",
            "The link works for 7 days. If you did not sign up, you can ignore this email.",
        ],
        Some(("Confirm my email", link)),
    )
}

pub fn password_reset(display_name: &str, link: &str) -> Rendered {
    render(
        "Reset your Alongside password",
        &format!("Hi {display_name},"),
        &[
            "Someone asked to reset the password of your Alongside account. If it was you, \
             choose a new password with the link below; it works for one hour.",
            "If it was not you, ignore this email: your password stays as it is.",
        ],
        Some(("Choose a new password", link)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_names() {
        let email = verify_email("<b>Sam</b>", "http://localhost:8080/verify-email?token=abc");
        assert!(email.html.contains("&lt;b&gt;Sam&lt;/b&gt;"));
        assert!(email.text.contains("Hi <b>Sam</b>,"));
        assert!(email
            .text
            .contains("http://localhost:8080/verify-email?token=abc"));
        assert!(email
            .html
            .contains("href=\"http://localhost:8080/verify-email?token=abc\""));
    }
}
