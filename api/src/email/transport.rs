//! Turning an outbox row into a MIME message and handing it to SMTP or the file outbox.

use std::path::Path;

use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue},
        Body, MultiPart, SinglePart,
    },
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::store::outbox::OutboxEmail;

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Writes `.eml` files: the embedded default, so a fresh checkout needs no mail server.
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, outbox_dir: &Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not valid: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(15)))
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(outbox_dir)?;
                Ok(Self::File(AsyncFileTransport::new(outbox_dir)))
            }
        }
    }

    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Self::Smtp(transport) => transport.send(message).await.map(drop)?,
            Self::File(transport) => transport.send(message).await.map(drop)?,
        }
        Ok(())
    }
}

/// The plain part goes as 8bit whenever SMTP allows it (lines under 998 octets), so that
/// links stay whole and can be copied straight out of a saved `.eml` file.
fn plain_text_body(text: &str) -> Body {
    let crlf = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n");
    let fits = !crlf.contains('\0') && crlf.split("\r\n").all(|line| line.len() < 998);
    if fits {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// The `Message-ID` is derived from the outbox id so that a retried send is recognisable.
pub fn build_message(email: &OutboxEmail, from: &str, domain: &str) -> anyhow::Result<Message> {
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(plain_text_body(&email.text_body)),
        )
        .singlepart(SinglePart::html(email.html_body.clone()));
    let body = match &email.calendar {
        None => alternative,
        Some(calendar) => MultiPart::mixed()
            .multipart(alternative)
            .singlepart(calendar_part(calendar)?),
    };
    let mut message = Message::builder()
        .from(from.parse()?)
        .to(email.to_address.parse()?)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}@{}>", email.id, domain)))
        .multipart(body)?;
    if let Some(headers) = email.headers.as_object() {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                let name = HeaderName::new_from_ascii(name.clone())?;
                message
                    .headers_mut()
                    .insert_raw(HeaderValue::new(name, value.to_owned()));
            }
        }
    }
    Ok(message)
}

/// The invitation as `invite.ics`, typed with its iTIP method (`REQUEST` or `CANCEL`) so
/// that mail programs offer to add it to (or take it off) the calendar.
fn calendar_part(calendar: &str) -> anyhow::Result<SinglePart> {
    let method = calendar
        .lines()
        .find_map(|line| line.strip_prefix("METHOD:"))
        .unwrap_or("PUBLISH")
        .trim();
    let content_type = ContentType::parse(&format!(
        "text/calendar; charset=utf-8; method={method}; name=\"invite.ics\""
    ))?;
    Ok(lettre::message::Attachment::new("invite.ics".to_owned())
        .body(calendar.to_owned(), content_type))
}
