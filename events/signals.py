"""Signals other apps listen to (the staff follow-up inbox, for one).

Both are sent once per batch, with every row of the batch, including rows
written with ``bulk_create`` (which sends no ``post_save``).
"""

from django.dispatch import Signal

#: People only a call from staff can reach have something to hear:
#: ``call_requests`` is a list of new ``CallRequest`` rows.
call_requested = Signal()

#: Emails or texts failed for good (after the last try, or refused):
#: ``deliveries`` is a list of ``Delivery`` rows.
delivery_failed = Signal()
