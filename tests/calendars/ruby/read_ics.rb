# Reads iCalendar files with Ruby's icalendar gem (Debian's ruby-icalendar) and prints, per
# file, what it understood of each VEVENT as JSON: {"<file>": {"<uid>": {"start", "end", ...}}}.
# Instants are Unix seconds, computed by the gem from the feed's own VTIMEZONE.
require 'stringio' # icalendar 2.8 uses it without requiring it
require 'icalendar'
require 'json'

result = {}
ARGV.each do |path|
  calendars = Icalendar::Calendar.parse(File.read(path, encoding: 'UTF-8'))
  events = {}
  calendars.first.events.each do |event|
    events[event.uid.to_s] = {
      start: event.dtstart.to_time.to_i,
      end: event.dtend.to_time.to_i,
      sequence: event.sequence.to_i,
      status: event.status.to_s,
      transp: event.transp.to_s,
      location: event.location.to_s,
      organizer: event.organizer.to_s,
      summary: event.summary.to_s,
    }
  end
  result[path] = events
end
print JSON.generate(result)
