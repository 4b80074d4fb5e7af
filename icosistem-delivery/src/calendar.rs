//! iCalendar (RFC 5545) rendering of the core's [`CalendarEntry`], with the `icalendar` crate:
//! the invite a session or meeting email carries and a user's calendar feed share this code.
//!
//! - An **invite** is one event with `METHOD:REQUEST` (RFC 5546 iTIP), or `METHOD:CANCEL` and
//!   `STATUS:CANCELLED` once the entry is cancelled. Its `UID` is stable per session or meeting
//!   and its `SEQUENCE` grows with every change, so a calendar replaces the event it holds
//!   instead of adding a second one. It names the organizer and the attendees.
//! - A **feed** (`METHOD:PUBLISH`) lists many events without attendees: a subscribed calendar
//!   shows them, it does not treat them as invitations to answer. Cancelled ones stay listed
//!   with `STATUS:CANCELLED` so the subscriber's copy goes away.
//!
//! Times are written in UTC (`…Z`), which every calendar reads without a `VTIMEZONE`; the zone
//! they were planned in is named with `X-WR-TIMEZONE` (the organizer's for an invite, the
//! owner's for a feed), the de-facto property Google, Apple and Outlook read as the calendar's
//! display zone.

use icalendar::{Calendar, Component, EventLike, EventStatus, Property};
use icosistem_core::model::{CalendarEntry, CalendarStatus, OutboxMessage};

/// `PRODID` of everything rendered here.
pub const PRODID: &str = "-//Icosistem//Icosistem//EN";

/// The media type of an invite (`method` goes in the `Content-Type` too, as RFC 6047 asks).
pub fn invite_content_type(entry: &CalendarEntry) -> String {
    format!("text/calendar; method={}; charset=UTF-8", method(entry))
}

/// `REQUEST`, or `CANCEL` for a cancelled entry.
pub fn method(entry: &CalendarEntry) -> &'static str {
    match entry.status {
        CalendarStatus::Cancelled => "CANCEL",
        _ => "REQUEST",
    }
}

/// The calendar entry an outbox message carries (`data.calendar`), if any. A malformed one is
/// an error: the core wrote it, so it is a bug worth failing the message over, not a mail sent
/// without its invite.
pub fn entry_of(message: &OutboxMessage) -> Result<Option<CalendarEntry>, serde_json::Error> {
    match message.data.get("calendar") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone()).map(Some),
    }
}

/// The invite of one entry: a whole `VCALENDAR` with `METHOD:REQUEST` or `METHOD:CANCEL`.
pub fn invite(entry: &CalendarEntry) -> String {
    let mut calendar = base(method(entry), &entry.timezone);
    calendar.push(event(entry, true));
    calendar.to_string()
}

/// A feed named `name` of `entries`, its display zone `timezone` (the owner's).
pub fn feed(name: &str, timezone: &str, entries: &[CalendarEntry]) -> String {
    let mut calendar = base("PUBLISH", timezone);
    calendar.name(name);
    // How often subscribers should poll (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL for Apple
    // and Outlook): an hour, as sessions move rarely and the reminders come by email anyway.
    calendar.append_property(
        Property::new("REFRESH-INTERVAL", "PT1H")
            .add_parameter("VALUE", "DURATION")
            .done(),
    );
    calendar.append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    for entry in entries {
        calendar.push(event(entry, false));
    }
    calendar.to_string()
}

fn base(method: &str, timezone: &str) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method))
        .timezone(timezone);
    calendar
}

fn event(entry: &CalendarEntry, with_attendees: bool) -> icalendar::Event {
    let mut event = icalendar::Event::new();
    event
        .uid(&entry.uid)
        .sequence(entry.sequence)
        .timestamp(entry.updated_at)
        .last_modified(entry.updated_at)
        .starts(entry.starts_at)
        .ends(entry.ends_at)
        .summary(&entry.title)
        .status(match entry.status {
            CalendarStatus::Tentative => EventStatus::Tentative,
            CalendarStatus::Confirmed => EventStatus::Confirmed,
            CalendarStatus::Cancelled => EventStatus::Cancelled,
        });
    if let Some(description) = &entry.description {
        event.description(description);
    }
    if let Some(location) = &entry.location {
        event.location(location);
    }
    event.append_property(
        Property::new("ORGANIZER", format!("mailto:{}", entry.organizer.email))
            .add_parameter("CN", &entry.organizer.name)
            .done(),
    );
    if with_attendees {
        for person in &entry.attendees {
            event.append_multi_property(
                Property::new("ATTENDEE", format!("mailto:{}", person.email))
                    .add_parameter("CN", &person.name)
                    .add_parameter("ROLE", "REQ-PARTICIPANT")
                    .add_parameter("PARTSTAT", "NEEDS-ACTION")
                    .add_parameter("RSVP", "TRUE")
                    .done(),
            );
        }
    }
    event.done()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use icosistem_core::model::CalendarPerson;

    use super::*;

    fn entry(status: CalendarStatus, sequence: u32) -> CalendarEntry {
        CalendarEntry {
            uid: "session-0190e7a8-0000-7000-8000-000000000001@icosistem".into(),
            sequence,
            status,
            title: "Mentoring session: Ana Pérez / Juan, \"JJ\"; Gómez".into(),
            description: Some("Pricing; go-to-market, and more\nsecond line".into()),
            location: None,
            starts_at: Utc.with_ymd_and_hms(2030, 3, 1, 15, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2030, 3, 1, 16, 0, 0).unwrap(),
            timezone: "America/Bogota".into(),
            organizer: CalendarPerson {
                name: "Ana Pérez".into(),
                email: "ana@example.com".into(),
            },
            attendees: vec![CalendarPerson {
                name: "Juan Gómez".into(),
                email: "juan@example.com".into(),
            }],
            updated_at: Utc.with_ymd_and_hms(2030, 2, 1, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn an_invite_is_a_request_in_utc_with_its_uid_and_sequence() {
        let ics = invite(&entry(CalendarStatus::Confirmed, 2));
        for line in [
            "BEGIN:VCALENDAR\r\n",
            "METHOD:REQUEST\r\n",
            "X-WR-TIMEZONE:America/Bogota\r\n",
            "UID:session-0190e7a8-0000-7000-8000-000000000001@icosistem\r\n",
            "SEQUENCE:2\r\n",
            "DTSTART:20300301T150000Z\r\n",
            "DTEND:20300301T160000Z\r\n",
            "DTSTAMP:20300201T090000Z\r\n",
            "STATUS:CONFIRMED\r\n",
            "ORGANIZER;CN=Ana Pérez:mailto:ana@example.com\r\n",
            // Text is escaped (`,` `;` `\n`), so a title cannot inject properties.
            "DESCRIPTION:Pricing\\; go-to-market\\, and more\\nsecond line\r\n",
        ] {
            assert!(ics.contains(line), "{line:?} missing from\n{ics}");
        }
        assert!(ics.contains("ATTENDEE;"), "{ics}");
        assert!(ics.contains("mailto:juan@example.com"), "{ics}");
        assert_eq!(
            invite_content_type(&entry(CalendarStatus::Confirmed, 2)),
            "text/calendar; method=REQUEST; charset=UTF-8"
        );
    }

    #[test]
    fn a_cancelled_entry_is_a_cancel() {
        let cancelled = entry(CalendarStatus::Cancelled, 3);
        let ics = invite(&cancelled);
        assert!(ics.contains("METHOD:CANCEL\r\n"), "{ics}");
        assert!(ics.contains("STATUS:CANCELLED\r\n"), "{ics}");
        assert!(ics.contains("SEQUENCE:3\r\n"), "{ics}");
        assert_eq!(method(&cancelled), "CANCEL");
    }

    #[test]
    fn a_feed_publishes_every_entry_without_attendees() {
        let ics = feed(
            "Icosistem — Ana",
            "UTC",
            &[entry(CalendarStatus::Tentative, 0), entry(CalendarStatus::Cancelled, 1)],
        );
        assert!(ics.contains("METHOD:PUBLISH\r\n"), "{ics}");
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
        assert!(ics.contains("STATUS:TENTATIVE\r\n"));
        assert!(ics.contains("STATUS:CANCELLED\r\n"));
        assert!(!ics.contains("ATTENDEE"), "{ics}");
        assert!(ics.contains("X-WR-CALNAME:"));
    }

    #[test]
    fn the_entry_travels_in_the_outbox_data() {
        let original = entry(CalendarStatus::Confirmed, 4);
        let data = serde_json::json!({ "session_id": "x", "calendar": original });
        let now = Utc::now();
        let message = OutboxMessage {
            id: uuid::Uuid::now_v7().into(),
            channel: icosistem_core::model::OutboxChannel::Email,
            user_id: None,
            recipient: "juan@example.com".into(),
            kind: "session_booked".into(),
            subject: "s".into(),
            body: "b".into(),
            data,
            status: icosistem_core::model::OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            sent_at: None,
            last_error: None,
            meta: icosistem_core::model::Meta::new(now, None),
        };
        assert_eq!(entry_of(&message).unwrap(), Some(original));
    }
}
