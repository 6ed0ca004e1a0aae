// Reads iCalendar files with ical.js (the parser of Thunderbird) and prints, per file, what it
// understood of each VEVENT as JSON: {"<file>": {"<uid>": {"start", "end", ...}}}.
// Instants are Unix seconds, computed by ical.js from the feed's own VTIMEZONE.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const result = {};
for (const path of process.argv.slice(2)) {
  const calendar = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
  const events = {};
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    events[event.uid] = {
      start: event.startDate.toUnixTime(),
      end: event.endDate.toUnixTime(),
      start_zone: event.startDate.zone ? event.startDate.zone.tzid : null,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      transp: vevent.getFirstPropertyValue("transp"),
      location: event.location,
      organizer: event.organizer,
      summary: event.summary,
    };
  }
  result[path] = events;
}
process.stdout.write(JSON.stringify(result));
