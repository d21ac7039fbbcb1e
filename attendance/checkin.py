"""Self check-in codes: one short code per session, usable only from shortly
before the session starts until it ends.

Codes are derived from the session's UID and the site's secret key, so
nothing is stored and a code cannot be guessed from another.
"""

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.http import absolute_url
from core.ratelimit import allow, limit_reached
from events.models import EventSession, SessionStatus

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


class CodeState(StrEnum):
    """What a check-in code leads to now."""

    OPEN = "open"
    NOT_YET = "not_yet"
    OVER = "over"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


#: How far from now a code is still recognised as a session's (to say "not
#: open yet" or "over" instead of "wrong code").
RECOGNISED_WITHIN = dt.timedelta(hours=12)


def look_up_code(code: str, now=None) -> tuple[EventSession | None, CodeState]:
    """The session a code belongs to and whether its check-in is open.

    A code of a session starting or ending within ``RECOGNISED_WITHIN`` is
    recognised even when check-in is not open (people scan the sign-in
    sheet early, or after the end), so they are told when it opens rather
    than that the code is wrong. Only a code of no session is ``UNKNOWN``.
    """
    now = now or timezone.now()
    code = normalise(code)
    if len(code) != CODE_LENGTH:
        return None, CodeState.UNKNOWN
    candidates = (
        EventSession.objects.published()
        .filter(
            start__lte=now + OPENS_BEFORE + RECOGNISED_WITHIN,
            end__gte=now - RECOGNISED_WITHIN,
        )
        .select_related("event")
        .order_by("start")
    )
    for session in candidates:
        if check_in_code(session) != code:
            continue
        if session.status == SessionStatus.CANCELLED:
            return session, CodeState.CANCELLED
        if now < session.start - OPENS_BEFORE:
            return session, CodeState.NOT_YET
        if now > session.end:
            return session, CodeState.OVER
        return session, CodeState.OPEN
    return None, CodeState.UNKNOWN


# Failed tries ------------------------------------------------------------------
#
# Only what someone guessing needs is limited, and each guess is counted
# where it can do harm: codes that belong to no session per client address
# (someone guessing codes), names not on the list per address and session
# (someone guessing who is registered, who already has the code). Successful
# check-ins are never counted, and one person's wrong names on a shared
# hospital Wi-Fi never stop anyone there checking in to another session.

WRONG_CODES_SCOPE = "check-in-wrong-code"
WRONG_NAMES_SCOPE = "check-in-wrong-name"


def _limits(scope: str) -> dict:
    return {
        "scope": scope,
        "limit": settings.GATHER_CHECK_IN_RATE_LIMIT,
        "window": settings.GATHER_CHECK_IN_RATE_WINDOW,
    }


def _names_scope(session: EventSession) -> str:
    return f"{WRONG_NAMES_SCOPE}:{session.pk}"


def too_many_wrong_codes(request) -> bool:
    """Whether this client address has used up its wrong codes for now."""
    return limit_reached(request, **_limits(WRONG_CODES_SCOPE))


def count_wrong_code(request) -> None:
    """Count a code of no session against the client address."""
    allow(request, **_limits(WRONG_CODES_SCOPE))


def too_many_wrong_names(request, session: EventSession) -> bool:
    """Whether this client address has used up its wrong names for
    ``session`` for now."""
    return limit_reached(request, **_limits(_names_scope(session)))


def count_wrong_name(request, session: EventSession) -> None:
    """Count a name not on ``session``'s list against the client address."""
    allow(request, **_limits(_names_scope(session)))
