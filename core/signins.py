"""Failed sign-in attempts are kept only while they can still lock anyone out.

django-axes records each failed sign-in (the username typed and the client
address) to pause signing in after too many. A record older than the
lockout time (``AXES_COOLOFF_TIME``) no longer counts, and axes only clears
such rows when a later failure comes from the same place, so
``forget_old_sign_in_failures`` deletes them: the daily retention run
(``attendance.retention.apply_retention``) calls it.
"""

import datetime as dt

from axes.models import AccessAttempt
from django.conf import settings


def forget_old_sign_in_failures(*, now: dt.datetime) -> int:
    """Delete the failed sign-in records that can no longer lock anyone out;
    returns how many went."""
    cutoff = now - settings.AXES_COOLOFF_TIME
    deleted, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    return deleted
