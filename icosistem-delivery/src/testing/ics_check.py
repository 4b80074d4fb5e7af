"""Reads iCalendar with the reference `icalendar` package (PyPI) for the Icosistem tests.

Usage: ics_check.py FILE...

Each FILE is either a raw email (RFC 5322; its `text/calendar` parts are read) or a bare
`.ics`. Prints one JSON list: per calendar found, {"source", "content_type", "method",
"timezone", "events": [{uid, sequence, status, dtstart, dtend, summary, organizer,
attendees}]}. Anything `icalendar.Calendar.from_ical` refuses makes the script fail.
"""
import email
import email.policy
import json
import sys

from icalendar import Calendar


def text(value):
    return None if value is None else str(value)


def read(source, data, content_type=None):
    cal = Calendar.from_ical(data)
    events = []
    for ev in cal.walk("VEVENT"):
        attendees = ev.get("ATTENDEE")
        if attendees is None:
            attendees = []
        elif not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            "uid": text(ev.get("UID")),
            "sequence": int(ev.get("SEQUENCE", 0)),
            "status": text(ev.get("STATUS")),
            # Python datetimes with tzinfo: UTC times must come back as UTC.
            "dtstart": ev.decoded("DTSTART").isoformat(),
            "dtend": ev.decoded("DTEND").isoformat(),
            "summary": text(ev.get("SUMMARY")),
            "organizer": text(ev.get("ORGANIZER")),
            "attendees": [text(a) for a in attendees],
        })
    return {
        "source": source,
        "content_type": content_type,
        "method": text(cal.get("METHOD")),
        "timezone": text(cal.get("X-WR-TIMEZONE")),
        "events": events,
    }


def main(paths):
    out = []
    for path in paths:
        with open(path, "rb") as f:
            raw = f.read()
        if raw.lstrip().startswith(b"BEGIN:VCALENDAR"):
            out.append(read(path, raw))
            continue
        message = email.message_from_bytes(raw, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                out.append(read(path, part.get_payload(decode=True), part.get("Content-Type")))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
