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

/// One practitioner described in a sentence or two, for emails.
pub fn profile_summary(profile: &crate::views::PublicProfile) -> String {
    use crate::vocabulary::VOCABULARY;
    let label = |terms: &[matcher::Term], code: &str| {
        terms
            .iter()
            .find(|t| t.code == code)
            .map_or_else(|| code.to_owned(), |t| t.label.to_lowercase())
    };
    let list = |terms: &[matcher::Term], codes: &[String]| {
        codes
            .iter()
            .map(|c| label(terms, c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let profession = VOCABULARY
        .professions
        .iter()
        .find(|t| t.code == profile.profession)
        .map_or_else(|| profile.profession.clone(), |t| t.label.clone());
    let distance = profile
        .distance_km
        .map(|d| format!(", about {d} km away"))
        .unwrap_or_default();
    format!(
        "{name}: {profession}, {years} years of experience. Works with {populations}; \
         practises in {settings}. Based near {place}, {region}{distance}.",
        name = profile.display_name,
        years = profile.years_experience,
        populations = list(&VOCABULARY.populations, &profile.populations),
        settings = list(&VOCABULARY.settings, &profile.settings),
        place = profile.place.name,
        region = profile.place.region,
    )
}

fn reasons_text(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!("Why you might click: {}.", reasons.join("; "))
    }
}

pub fn connection_request(
    recipient: &str,
    requester_summary: &str,
    kind: &str,
    message: Option<&str>,
    reasons: &[String],
    link: &str,
    from_round: bool,
) -> Rendered {
    let ask = match (kind, from_round) {
        ("mentorship", true) => {
            "Your programme's matching round suggests you as a mentor for a practitioner."
        }
        ("mentorship", false) => "A practitioner would like you to mentor them.",
        _ => "A practitioner would like to connect with you as a peer.",
    };
    let message = message
        .map(|m| format!("Their message: \"{m}\""))
        .unwrap_or_default();
    let reasons = reasons_text(reasons);
    let paragraphs: Vec<&str> = [
        ask,
        requester_summary,
        message.as_str(),
        reasons.as_str(),
        "Your contact details stay private unless you accept.",
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    render(
        "Someone on Alongside would like to connect",
        &format!("Hi {recipient},"),
        &paragraphs,
        Some(("Accept or decline", link)),
    )
}

pub fn reminder(recipient: &str, requester_summary: &str, link: &str) -> Rendered {
    render(
        "A connection request is waiting for you",
        &format!("Hi {recipient},"),
        &[
            "A practitioner asked to connect with you and is still waiting for an answer.",
            requester_summary,
            "A one-tap answer either way helps them move on.",
        ],
        Some(("Accept or decline", link)),
    )
}

pub fn introduction(
    to: &str,
    other_summary: &str,
    other_name: &str,
    other_email: &str,
    kind: &str,
) -> Rendered {
    let what = if kind == "mentorship" {
        "Your mentorship is agreed."
    } else {
        "You are now connected as peers."
    };
    let contact = format!("You can reach {other_name} at {other_email}.");
    render(
        &format!("Meet {other_name} on Alongside"),
        &format!("Hi {to},"),
        &[
            what,
            other_summary,
            &contact,
            "We suggest a first 30-minute call to get to know each other's practice.",
        ],
        None,
    )
}

pub fn declined(to: &str, other_name: &str) -> Rendered {
    render(
        "About your connection request",
        &format!("Hi {to},"),
        &[
            &format!("{other_name} is not able to take up your request right now. This is often about timing or capacity, not about you."),
            "Your suggestions on Alongside are updated all the time; there are other practitioners who share your practice.",
        ],
        None,
    )
}

pub fn expired(to: &str, other_name: &str) -> Rendered {
    render(
        "Your connection request has expired",
        &format!("Hi {to},"),
        &[
            &format!("{other_name} did not answer your request in time, so it has expired."),
            "Have a look at your latest suggestions on Alongside: you can ask someone else, or ask again later.",
        ],
        None,
    )
}

/// A pending request closed because the other person's account is no longer active. It
/// says nothing about why: the suspension is between them and the programme.
pub fn request_closed(to: &str, other_name: &str) -> Rendered {
    render(
        "A connection request is closed",
        &format!("Hi {to},"),
        &[
            &format!("The request between you and {other_name} is closed because their account is no longer active on Alongside."),
            "Have a look at your latest suggestions: there are other practitioners who share your practice.",
        ],
        None,
    )
}

/// A new circle, to each of its members: who the others are and where to meet them.
pub fn circle_formed(to: &str, domain: &str, others: &[String], link: &str) -> Rendered {
    let mut paragraphs = vec![
        format!(
            "You are now in a circle of {} practitioners: {domain}.",
            others.len() + 1
        ),
        "Here are the others:".to_owned(),
    ];
    paragraphs.extend(others.iter().cloned());
    paragraphs.push(
        "Say hello in the circle's discussion, and pick a first time to meet. Names and posts \
         stay inside the circle."
            .to_owned(),
    );
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("Your new circle: {domain}"),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Open your circle", link)),
    )
}

/// Someone asked to join a circle that admits by approval, to whoever may answer.
pub fn circle_join_request(to: &str, who: &str, domain: &str, link: &str) -> Rendered {
    render(
        &format!("{who} would like to join {domain}"),
        &format!("Hi {to},"),
        &[&format!(
            "{who} asked to join your circle \"{domain}\". You can accept or decline on the \
             circle's page."
        )],
        Some(("See the request", link)),
    )
}

/// What a meeting email says about the meeting, in the reader's own time zone.
pub struct MeetingFacts<'a> {
    pub domain: &'a str,
    pub title: &'a str,
    /// When, in the reader's time zone, e.g. "Thursday 10 December 2026, 18:00 (Australia/Sydney)".
    pub when: &'a str,
    pub minutes: i32,
    pub location: Option<&'a str>,
    pub link: &'a str,
}

fn meeting_lines(meeting: &MeetingFacts<'_>) -> Vec<String> {
    let mut lines = vec![format!(
        "{} — {}, for {} minutes.",
        meeting.title, meeting.when, meeting.minutes
    )];
    if let Some(location) = meeting.location {
        lines.push(format!("Where: {location}"));
    }
    lines
}

pub fn meeting_invitation(to: &str, meeting: &MeetingFacts<'_>) -> Rendered {
    let mut paragraphs = vec![format!("Your circle \"{}\" is meeting:", meeting.domain)];
    paragraphs.extend(meeting_lines(meeting));
    paragraphs.push(
        "The invitation is attached for your calendar. Let the others know on the circle's \
         page whether you will come."
            .to_owned(),
    );
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("Circle meeting: {}", meeting.title),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Will you come?", meeting.link)),
    )
}

pub fn meeting_changed(to: &str, meeting: &MeetingFacts<'_>) -> Rendered {
    let mut paragraphs = vec![format!(
        "A meeting of your circle \"{}\" has changed. It is now:",
        meeting.domain
    )];
    paragraphs.extend(meeting_lines(meeting));
    paragraphs.push("The updated invitation is attached for your calendar.".to_owned());
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("Changed: {}", meeting.title),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Will you come?", meeting.link)),
    )
}

pub fn meeting_cancelled(to: &str, meeting: &MeetingFacts<'_>) -> Rendered {
    let mut paragraphs = vec![format!(
        "A meeting of your circle \"{}\" is cancelled:",
        meeting.domain
    )];
    paragraphs.extend(meeting_lines(meeting));
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("Cancelled: {}", meeting.title),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Open your circle", meeting.link)),
    )
}

pub fn meeting_reminder(to: &str, meeting: &MeetingFacts<'_>) -> Rendered {
    let mut paragraphs = vec![format!(
        "A reminder: your circle \"{}\" meets tomorrow.",
        meeting.domain
    )];
    paragraphs.extend(meeting_lines(meeting));
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("Tomorrow: {}", meeting.title),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Open your circle", meeting.link)),
    )
}

/// New posts in one circle, for the daily digest.
pub struct DigestSection {
    pub domain: String,
    /// "Name: first words of the post".
    pub lines: Vec<String>,
}

pub fn circle_digest(to: &str, sections: &[DigestSection], link: &str) -> Rendered {
    let mut paragraphs = vec!["New in your circles since yesterday:".to_owned()];
    for section in sections {
        paragraphs.push(format!("{}:", section.domain));
        paragraphs.extend(section.lines.iter().map(|l| format!("- {l}")));
    }
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        "New in your circles",
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Read and reply", link)),
    )
}

/// A free seat in a circle, offered to a waiting practitioner who fits it.
pub fn seat_offer(to: &str, domain: &str, link: &str) -> Rendered {
    render(
        &format!("A seat is open in a circle: {domain}"),
        &format!("Hi {to},"),
        &[
            &format!(
                "A seat has opened in the circle \"{domain}\", and you are among the people \
                 waiting for a circle who fit it best."
            ),
            "The seat is yours if you take it while it is free: open the circle and join.",
        ],
        Some(("See the circle", link)),
    )
}

/// One person in the weekly digest: who, in a sentence, why, and where to see them.
pub struct DigestPerson {
    pub summary: String,
    pub reasons: Vec<String>,
    pub link: String,
}

/// An introduction, then each person: who, why, and where to see them.
fn people_paragraphs(intro: String, people: &[DigestPerson]) -> Vec<String> {
    let mut paragraphs = vec![intro];
    for person in people {
        paragraphs.push(person.summary.clone());
        if !person.reasons.is_empty() {
            paragraphs.push(format!("Why: {}.", person.reasons.join("; ")));
        }
        paragraphs.push(format!("See their profile: {}", person.link));
    }
    paragraphs
}

fn people_email(subject: &str, to: &str, paragraphs: &[String], link: &str) -> Rendered {
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        subject,
        &format!("Hi {to},"),
        &paragraphs,
        Some(("See all your suggestions", link)),
    )
}

pub fn match_digest(to: &str, people: &[DigestPerson], link: &str) -> Rendered {
    let paragraphs = people_paragraphs("Some practitioners you may like to know:".into(), people);
    people_email(
        "People you may like to know on Alongside",
        to,
        &paragraphs,
        link,
    )
}

/// The check-in: one question, each answer a link that answers with one click.
pub fn check_in(to: &str, other_name: &str, answers: &[(&str, String)], link: &str) -> Rendered {
    let mut paragraphs = vec![format!(
        "How is it going with {other_name}? One click answers:"
    )];
    for (label, url) in answers {
        paragraphs.push(format!("{label}: {url}"));
    }
    paragraphs.push(format!(
        "If it is not a good fit, that is fine: the connection ends kindly, {other_name} is not told why, and we suggest others at once."
    ));
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("How is it going with {other_name}?"),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Answer on Alongside", link)),
    )
}

/// The other side proposed an agreement, or an edit of one.
pub fn agreement_proposed(to: &str, other_name: &str, edit: bool, link: &str) -> Rendered {
    let what = if edit {
        "an edit of your agreement"
    } else {
        "an agreement"
    };
    render(
        &format!("{other_name} proposed {what}"),
        &format!("Hi {to},"),
        &[
            &format!("{other_name} proposed {what}: your goals, how often and how you meet, for how long, and what stays between you."),
            "Read it on Alongside, then accept it or propose your own changes.",
        ],
        Some(("Read the agreement", link)),
    )
}

/// The other side of a connection ended after a check-in: no reason, no blame.
pub fn connection_ended(to: &str, other_name: &str) -> Rendered {
    render(
        &format!("Your connection with {other_name} has ended"),
        &format!("Hi {to},"),
        &[
            &format!("{other_name} has ended your connection on Alongside. Fit is about timing, practice and people, and it is nobody's fault."),
            "Thank you for the time you gave. Your suggestions are up to date whenever you want to connect with someone new.",
        ],
        None,
    )
}

/// Someone whose connection just ended, with the next-best people to ask.
pub fn next_suggestions(
    to: &str,
    other_name: &str,
    people: &[DigestPerson],
    link: &str,
) -> Rendered {
    let paragraphs = people_paragraphs(
        format!(
            "Your connection with {other_name} has ended. These practitioners may fit you better:"
        ),
        people,
    );
    people_email("People who may fit you better", to, &paragraphs, link)
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

/// What happened to a meeting between the two sides of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairMeeting {
    Scheduled,
    Changed,
    Cancelled,
    Reminder,
}

/// A meeting with `other`, scheduled, changed, cancelled or due tomorrow. `meeting.domain`
/// is not used: the other person's name says who it is with.
pub fn pair_meeting(
    to: &str,
    other: &str,
    what: PairMeeting,
    meeting: &MeetingFacts<'_>,
) -> Rendered {
    let (subject, intro, closing) = match what {
        PairMeeting::Scheduled => (
            format!("Meeting with {other}: {}", meeting.title),
            format!("You and {other} are meeting:"),
            Some("The invitation is attached for your calendar."),
        ),
        PairMeeting::Changed => (
            format!("Changed: {}", meeting.title),
            format!("Your meeting with {other} has changed. It is now:"),
            Some("The updated invitation is attached for your calendar."),
        ),
        PairMeeting::Cancelled => (
            format!("Cancelled: {}", meeting.title),
            format!("Your meeting with {other} is cancelled:"),
            None,
        ),
        PairMeeting::Reminder => (
            format!("Tomorrow: {}", meeting.title),
            format!("A reminder: you and {other} meet tomorrow."),
            Some("Afterwards, mark on Alongside whether it took place: it goes into both your development logs."),
        ),
    };
    let mut paragraphs = vec![intro];
    paragraphs.extend(meeting_lines(meeting));
    paragraphs.extend(closing.map(str::to_owned));
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &subject,
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Open your connections", meeting.link)),
    )
}

/// The other side proposed times for a meeting: the reader picks one.
pub fn meeting_proposed(
    to: &str,
    other: &str,
    title: &str,
    times: &[String],
    link: &str,
) -> Rendered {
    let mut paragraphs = vec![format!(
        "{other} would like to meet: \"{title}\". The times they proposed, in your time zone:"
    )];
    paragraphs.extend(times.iter().map(|t| format!("• {t}")));
    paragraphs.push(
        "Pick the one that suits you on Alongside, and you will both get a calendar invitation."
            .to_owned(),
    );
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    render(
        &format!("{other} proposed a meeting"),
        &format!("Hi {to},"),
        &paragraphs,
        Some(("Pick a time", link)),
    )
}

/// A mentor whose requests went unanswered twice is paused, and told how to come back.
pub fn mentoring_paused(to: &str, until: &str, link: &str) -> Rendered {
    render(
        "Your mentoring is paused",
        &format!("Hi {to},"),
        &[
            "Two requests for mentoring reached you and expired without an answer, so we have paused your mentoring: nobody new is suggested to you, and people waiting are not left waiting on you.",
            &format!("It stays paused until {until}. To take requests again sooner, open your profile and clear the pause under Mentoring; it takes effect at once."),
            "If this is not a good time, that is fine: the pause is there for that.",
        ],
        Some(("Open your profile", link)),
    )
}
