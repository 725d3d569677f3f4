//! Calendar invitations (RFC 5545, sent as iTIP `REQUEST` or `CANCEL` per RFC 5546). Times
//! are written in the organiser's time zone (`DTSTART;TZID=…`) with a `VTIMEZONE` that
//! carries that zone's real transitions around the meeting, so every calendar converts to
//! UTC exactly as the service does, across daylight-saving changes in a repeating series.

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};
use ics::{
    escape_text,
    properties::{
        Description, DtEnd, DtStart, Location, Organizer, RRule, RecurrenceID, Sequence, Status,
        Summary, TzName, URL,
    },
    Daylight, Event, ICalendar, Standard, TimeZone as IcsTimeZone,
};

/// What an invitation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

/// A weekly series: every `every_weeks` weeks, `count` times in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weekly {
    pub every_weeks: u32,
    pub count: u32,
}

pub struct Invitation<'a> {
    pub method: Method,
    /// Stable across changes and the cancellation of the same meeting or series.
    pub uid: &'a str,
    /// Goes up with every change sent for the same `uid`.
    pub sequence: i32,
    pub title: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub url: &'a str,
    /// Who sends it: the service's own address, so no member's address is revealed.
    pub organiser: (&'a str, &'a str),
    /// The invitee.
    pub attendee: &'a str,
    pub tz: Tz,
    /// The first (or only) start, in `tz`'s local time.
    pub start: NaiveDateTime,
    pub minutes: i64,
    pub repeat: Option<Weekly>,
    /// One occurrence of a series (for cancelling just that one).
    pub occurrence: Option<NaiveDateTime>,
    pub stamp: DateTime<Utc>,
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let m = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

/// The UTC offset of `tz` at `at`, in seconds, and whether it is daylight time.
fn offset_at(tz: Tz, at: DateTime<Utc>) -> (i32, bool) {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    (
        offset.fix().local_minus_utc(),
        !offset.dst_offset().is_zero(),
    )
}

/// The first moment after `from` (exclusive) and at or before `to` when the offset differs
/// from the one at `from`; `from` and `to` are less than two days apart.
fn transition_between(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let before = offset_at(tz, from).0;
    let (mut lo, mut hi) = (from, to);
    while hi - lo > Duration::minutes(1) {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, mid).0 == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// `tz` as a `VTIMEZONE`, with every transition from a year before `from` to a year after
/// `to` (a zone without any is one `STANDARD` part).
fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> IcsTimeZone<'static> {
    let start = from - Duration::days(366);
    let end = to + Duration::days(366);
    let mut parts: Vec<(NaiveDateTime, i32, i32, bool)> = Vec::new();
    let mut day = start;
    while day < end {
        let next = day + Duration::days(1);
        if offset_at(tz, day).0 != offset_at(tz, next).0 {
            let at = transition_between(tz, day, next);
            let (before, _) = offset_at(tz, day);
            let (after, daylight) = offset_at(tz, at);
            let onset = (at + Duration::seconds(i64::from(before))).naive_utc();
            parts.push((onset, before, after, daylight));
        }
        day = next;
    }
    let name = |at: DateTime<Utc>| tz.offset_from_utc_datetime(&at.naive_utc()).to_string();
    if parts.is_empty() {
        let (offset, _) = offset_at(tz, from);
        let mut standard =
            Standard::new("19700101T000000", offset_text(offset), offset_text(offset));
        standard.push(TzName::new(name(from)));
        return IcsTimeZone::standard(tz.name(), standard);
    }
    let mut zone: Option<IcsTimeZone<'static>> = None;
    for (onset, before, after, daylight) in parts {
        let at = Utc.from_utc_datetime(&(onset - Duration::seconds(i64::from(before))));
        let label = name(at + Duration::hours(1));
        let (dtstart, from, to) = (local(onset), offset_text(before), offset_text(after));
        zone = Some(match (zone, daylight) {
            (None, true) => {
                let mut part = Daylight::new(dtstart, from, to);
                part.push(TzName::new(label));
                IcsTimeZone::daylight(tz.name(), part)
            }
            (None, false) => {
                let mut part = Standard::new(dtstart, from, to);
                part.push(TzName::new(label));
                IcsTimeZone::standard(tz.name(), part)
            }
            (Some(mut zone), true) => {
                let mut part = Daylight::new(dtstart, from, to);
                part.push(TzName::new(label));
                zone.add_daylight(part);
                zone
            }
            (Some(mut zone), false) => {
                let mut part = Standard::new(dtstart, from, to);
                part.push(TzName::new(label));
                zone.add_standard(part);
                zone
            }
        });
    }
    zone.unwrap_or_else(|| {
        IcsTimeZone::standard(
            tz.name(),
            Standard::new("19700101T000000", "+0000", "+0000"),
        )
    })
}

/// The UTC time of `local` in `tz`: for a time that happens twice (clocks going back) the
/// first, for one that is skipped (clocks going forward) the moment just after the gap.
pub fn to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => tz
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc)),
    }
}

/// The invitation as an `.ics` document.
pub fn render(invitation: &Invitation<'_>) -> String {
    let tz = invitation.tz;
    let tzid = tz.name();
    let first = to_utc(tz, invitation.start);
    let weeks = invitation.repeat.map_or(0, |r| {
        i64::from(r.every_weeks) * i64::from(r.count.saturating_sub(1))
    });
    let last = first + Duration::weeks(weeks) + Duration::minutes(invitation.minutes);

    let mut calendar = ICalendar::new("2.0", "-//Alongside//Circles//EN");
    calendar.push(ics::properties::Method::new(match invitation.method {
        Method::Request => "REQUEST",
        Method::Cancel => "CANCEL",
    }));
    calendar.add_timezone(vtimezone(tz, first, last));

    let mut event = Event::new(invitation.uid.to_owned(), utc(invitation.stamp));
    let mut start = DtStart::new(local(invitation.start));
    start.add(ics::parameters::TzIDParam::new(tzid));
    event.push(start);
    let mut end = DtEnd::new(local(
        invitation.start + Duration::minutes(invitation.minutes),
    ));
    end.add(ics::parameters::TzIDParam::new(tzid));
    event.push(end);
    if let Some(repeat) = invitation.repeat {
        event.push(RRule::new(format!(
            "FREQ=WEEKLY;INTERVAL={};COUNT={}",
            repeat.every_weeks, repeat.count
        )));
    }
    if let Some(occurrence) = invitation.occurrence {
        let mut id = RecurrenceID::new(local(occurrence));
        id.add(ics::parameters::TzIDParam::new(tzid));
        event.push(id);
    }
    event.push(Sequence::new(invitation.sequence.to_string()));
    event.push(Summary::new(escape_text(invitation.title.to_owned())));
    event.push(Description::new(escape_text(
        invitation.description.to_owned(),
    )));
    if let Some(location) = invitation.location {
        event.push(Location::new(escape_text(location.to_owned())));
    }
    event.push(URL::new(invitation.url.to_owned()));
    let (name, address) = invitation.organiser;
    let mut organiser = Organizer::new(format!("mailto:{address}"));
    organiser.add(ics::parameters::CN::new(escape_text(name.to_owned())));
    event.push(organiser);
    let mut attendee = ics::properties::Attendee::new(format!("mailto:{}", invitation.attendee));
    attendee.add(ics::parameters::Role::new("REQ-PARTICIPANT"));
    attendee.add(ics::parameters::PartStat::new("NEEDS-ACTION"));
    attendee.add(ics::parameters::RSVP::False);
    event.push(attendee);
    event.push(match invitation.method {
        Method::Request => Status::confirmed(),
        Method::Cancel => Status::cancelled(),
    });
    calendar.add_event(event);
    calendar.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sydney_series() -> String {
        render(&Invitation {
            method: Method::Request,
            uid: "series-1@alongside.test",
            sequence: 0,
            title: "Circle meeting; cases, and questions",
            description: "Bring one case",
            location: Some("https://meet.example.org/abc"),
            url: "https://alongside.test/circles/1",
            organiser: ("Alongside", "no-reply@alongside.test"),
            attendee: "sam@example.org",
            tz: chrono_tz::Australia::Sydney,
            start: NaiveDateTime::parse_from_str("2027-03-18T18:00", "%Y-%m-%dT%H:%M")
                .unwrap_or_default(),
            minutes: 60,
            repeat: Some(Weekly {
                every_weeks: 1,
                count: 6,
            }),
            occurrence: None,
            stamp: Utc
                .with_ymd_and_hms(2027, 3, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        })
    }

    #[test]
    fn a_series_is_written_in_the_organisers_zone_with_its_daylight_saving_change() {
        let ics = sydney_series();
        assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");
        assert!(
            ics.contains("DTSTART;TZID=Australia/Sydney:20270318T180000\r\n"),
            "{ics}"
        );
        assert!(
            ics.contains("DTEND;TZID=Australia/Sydney:20270318T190000\r\n"),
            "{ics}"
        );
        assert!(ics.contains("RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=6\r\n"));
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Australia/Sydney\r\n"));
        // Daylight time ends on the first Sunday of April 2027, 03:00 local (16:00 UTC on
        // the Saturday): the series' last meetings are at 08:00 UTC instead of 07:00.
        assert!(
            ics.contains("BEGIN:STANDARD\r\nDTSTART:20270404T030000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n"),
            "{ics}"
        );
        assert!(ics.contains("SUMMARY:Circle meeting\\; cases\\, and questions\r\n"));
        assert!(ics.contains("ORGANIZER;CN=Alongside:mailto:no-reply@alongside.test\r\n"));
        assert!(ics.contains("SEQUENCE:0\r\n"));
    }

    #[test]
    fn local_times_convert_to_utc_across_the_change() {
        let tz = chrono_tz::Australia::Sydney;
        let at = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap_or_default();
        assert_eq!(
            to_utc(tz, at("2027-03-18T18:00")).to_rfc3339(),
            "2027-03-18T07:00:00+00:00"
        );
        assert_eq!(
            to_utc(tz, at("2027-04-08T18:00")).to_rfc3339(),
            "2027-04-08T08:00:00+00:00"
        );
        // 02:30 on 3 October 2027 does not happen in Sydney (clocks go from 02:00 to 03:00).
        assert_eq!(
            to_utc(tz, at("2027-10-03T02:30")).to_rfc3339(),
            "2027-10-02T16:30:00+00:00"
        );
    }

    #[test]
    fn a_zone_without_daylight_time_has_one_standard_part() {
        let ics = render(&Invitation {
            method: Method::Cancel,
            uid: "m@alongside.test",
            sequence: 1,
            title: "Meeting",
            description: "",
            location: None,
            url: "https://alongside.test",
            organiser: ("Alongside", "no-reply@alongside.test"),
            attendee: "sam@example.org",
            tz: chrono_tz::Australia::Brisbane,
            start: NaiveDateTime::parse_from_str("2027-01-14T09:00", "%Y-%m-%dT%H:%M")
                .unwrap_or_default(),
            minutes: 30,
            repeat: None,
            occurrence: None,
            stamp: Utc::now(),
        });
        assert!(ics.contains("METHOD:CANCEL\r\n") && ics.contains("STATUS:CANCELLED\r\n"));
        assert!(ics.contains("BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+1000\r\nTZOFFSETTO:+1000\r\n"), "{ics}");
        assert_eq!(ics.matches("BEGIN:DAYLIGHT").count(), 0);
    }
}
