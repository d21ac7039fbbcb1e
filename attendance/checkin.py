"""Self check-in codes: one short code per session, usable only from shortly
before the session starts until it ends.

Codes are derived from the session's UID and the site's secret key, so
nothing is stored and a code cannot be guessed from another.
"""

import datetime as dt

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from events.models import EventSession
from website.models import absolute_url

#: Check-in opens this long before a session starts.
OPENS_BEFORE = dt.timedelta(minutes=30)
#: Letters and digits that cannot be mistaken for each other.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def check_in_code(session: EventSession) -> str:
    digest = salted_hmac("gather.check-in", session.uid, algorithm="sha256").digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:CODE_LENGTH])


def check_in_url(session: EventSession) -> str:
    """The full address people open (or scan) to check in to ``session``.

    Uses the ``check_in`` URL when it is routed, and its planned path
    (``/check-in/<code>/``) until then.
    """
    code = check_in_code(session)
    try:
        path = reverse("check_in", args=[code])
    except NoReverseMatch:
        path = f"/check-in/{code}/"
    return absolute_url(path)


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[: CODE_LENGTH * 2]


def window_is_open(session: EventSession, now=None) -> bool:
    now = now or timezone.now()
    return session.start - OPENS_BEFORE <= now <= session.end


def session_for_code(code: str, now=None) -> EventSession | None:
    """The session whose check-in is open now and whose code this is."""
    now = now or timezone.now()
    code = normalise(code)
    if len(code) != CODE_LENGTH:
        return None
    candidates = (
        EventSession.objects.published()
        .not_cancelled()
        .filter(start__lte=now + OPENS_BEFORE, end__gte=now)
        .select_related("event")
    )
    for session in candidates:
        if check_in_code(session) == code:
            return session
    return None
