"""Spreadsheet resources of the events app, one module each: venues
(``venues``), the session schedule (``schedule``) and registrations
(``registrations``), on ``spreadsheets.resources.GatherResource``.

Every change an import makes goes through the app's workflow functions:
sessions through ``events.sessions`` (so UIDs and sequence numbers stay
right and people hear about moves), new events through ``events.drafts``,
registrations through ``events.registration`` (so capacity and the
waitlist hold). Look-ups (events, venues, facilitators, existing rows) are
loaded once per import in ``before_import``, so reading a file never costs
a query per row.
"""
