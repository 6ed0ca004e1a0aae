"""iCalendar export and import as pure functions over plain dataclasses (no Flask, no models)."""
