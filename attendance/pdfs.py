"""Printed paperwork for sessions: sign-in sheets, attendance registers,
facilitator guides, participant handouts, flyers and session packs.

Every document is an HTML template in ``templates/pdf/`` (each extends
``pdf/base.html``, which holds the page rules) laid out by WeasyPrint and
returned as bytes: nothing is written to disk. Handouts, guides and flyers
are tagged PDFs (PDF/UA-1) so screen readers can read them.

Documents never reach the network: the only resources WeasyPrint may load
are ``data:`` URLs and files in the site's media storage (images in rich
text).
"""

import datetime as dt
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.http import absolute_url
from core.models import SiteSettings
from core.qr import qr_svg
from events.models import (
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    SessionStatus,
)
from workshops.blocks import SegmentKind
from workshops.models import SessionContent, WorkshopPage, materials_needed

from .checkin import check_in_code, check_in_url
from .errors import AttendanceError
from .models import AttendanceRecord, AttendanceStatus
from .names import comparable, short_names

#: Blank rows at the foot of a sign-in sheet, for people who did not sign up.
WALK_IN_ROWS = 8
#: Numbered rows on a headcount-only sign-in sheet.
HEADCOUNT_ROWS = 12
#: Session columns per table in a register; more sessions start a new table.
REGISTER_COLUMNS = 12
#: Upcoming dates listed on a flyer before "and N more".
FLYER_DATES = 10
#: The PDF variant of documents screen readers must be able to read.
TAGGED_VARIANT = "pdf/ua-1"
#: Paper sizes SiteSettings offers, as CSS page sizes.
PAGE_SIZES = {"A4": "A4", "letter": "letter"}


# Shared pieces ---------------------------------------------------------------


class _LocalOnlyFetcher(URLFetcher):
    """Loads ``data:`` URLs and media files; refuses everything else.

    Rich text is written by editors, so a document must not be a way to
    make the server fetch arbitrary addresses or read arbitrary files.
    Refused resources are left out of the document (WeasyPrint logs them).
    """

    def fetch(self, url, headers=None):
        """Answer from media storage for the site's media URLs."""
        if url.startswith("data:"):
            return super().fetch(url, headers)
        # A site-relative MEDIA_URL only: files elsewhere are not ours to read.
        if settings.MEDIA_URL.startswith("/") and url.startswith(
            absolute_url(settings.MEDIA_URL)
        ):
            name = unquote(urlsplit(url).path)[len(settings.MEDIA_URL) :]
            if name and ".." not in name.split("/"):
                with default_storage.open(name) as file:
                    return URLFetcherResponse(url, body=file.read())
        raise ValueError(f"Documents do not load {url}")


def site_settings() -> SiteSettings:
    """The default site's settings in one query, or unsaved defaults when
    there is no default site (or it has no settings yet)."""
    found = SiteSettings.objects.filter(site__is_default_site=True).first()
    return found or SiteSettings()


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def _page_numbers_css() -> str:
    """The CSS ``content`` of the "Page x of y" footer, in the active language."""
    label = _("Page {page} of {pages}")
    before, _sep, rest = label.partition("{page}")
    middle, _sep, after = rest.partition("{pages}")
    parts = [
        _css_string(before),
        "counter(page)",
        _css_string(middle),
        "counter(pages)",
        _css_string(after),
    ]
    return " ".join(parts)


def _page_size(org: SiteSettings, *, landscape: bool = False) -> str:
    size = PAGE_SIZES.get(org.paper_size, "letter")
    return f"{size} landscape" if landscape else size


def _context(context: dict) -> dict:
    """Add what every document's base template needs to ``context``."""
    org = context.get("org") or site_settings()
    full = {
        "org": org,
        "page_size": _page_size(org, landscape=context.get("landscape", False)),
        "page_numbers_css": mark_safe(_page_numbers_css()),
        "lang": settings.LANGUAGE_CODE,
    }
    full.update(context)
    return full


def _options(tagged: bool) -> dict:
    return {"pdf_variant": TAGGED_VARIANT} if tagged else {}


def _render(template_name: str, context: dict, *, tagged: bool = False):
    """Lay out one template as a WeasyPrint document (not yet a PDF)."""
    html = render_to_string(template_name, _context(context))
    return HTML(
        string=html,
        base_url=absolute_url("/"),
        url_fetcher=_LocalOnlyFetcher(),
    ).render(**_options(tagged))


def render_pdf(template_name: str, context: dict, *, tagged: bool = False) -> bytes:
    """Render ``template_name`` with ``context`` to PDF bytes.

    ``tagged`` makes a PDF/UA-1 file (structure tags, language and title)
    for screen readers. The context may carry ``org`` (SiteSettings; looked
    up when missing), ``title`` and ``landscape``.
    """
    return _render(template_name, context, tagged=tagged).write_pdf(**_options(tagged))


def _join(documents: Iterable, *, tagged: bool = False) -> bytes:
    """One PDF of the pages of ``documents`` in order (a document may repeat)."""
    documents = list(documents)
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf(**_options(tagged))


def _person_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _session_context(session: EventSession) -> dict:
    """What every session document says about the session."""
    event = session.event
    number, total = session.series_position()
    facilitators = [
        _person_name(user)
        for user in event.leading_facilitators().order_by(
            "first_name", "last_name", "pk"
        )
    ]
    return {
        "session": session,
        "event": event,
        "number": number,
        "total": total,
        "venue": session.effective_venue,
        "facilitators": facilitators,
    }


def _page_url(page) -> str:
    """The full public address of a Wagtail page, or '' if it has none (a
    draft has no public address yet)."""
    if not page.live:
        return ""
    url = page.url
    if not url:
        return ""
    return url if "://" in url else absolute_url(url)


# Sign-in sheet ---------------------------------------------------------------


def _sign_in_document(session: EventSession, *, full_names: bool, org):
    event = session.event
    headcount_only = event.headcount_only
    names = []
    look_alikes = False
    if not headcount_only:
        confirmed = (
            Registration.objects.for_session(session)
            .filter(status=RegistrationStatus.CONFIRMED)
            .only("pk", "name")
        )
        confirmed = sorted(confirmed, key=lambda r: r.pk)
        labels = short_names((r.pk, r.name) for r in confirmed)
        shown = [(r.name if full_names else labels[r.pk], r.pk) for r in confirmed]
        if not full_names:
            shared = short_names(((r.pk, r.name) for r in confirmed), numbered=False)
            look_alikes = len({label.casefold() for label in shared.values()}) < len(
                shared
            )
        names = [
            name for name, _pk in sorted(shown, key=lambda p: (p[0].casefold(), p[1]))
        ]
    context = {
        **_session_context(session),
        "org": org,
        "title": _("Sign-in sheet: %(event)s") % {"event": event.title},
        "headcount_only": headcount_only,
        "names": names,
        "look_alikes": look_alikes,
        "blank_rows": range(WALK_IN_ROWS),
        "numbered_rows": range(1, HEADCOUNT_ROWS + 1),
        # Self check-in records names, so headcount-only sheets have none.
        "check_in_code": "" if headcount_only else check_in_code(session),
        "qr": ""
        if headcount_only
        else qr_svg(
            check_in_url(session), label=_("QR code to check in to this session")
        ),
    }
    return _render("pdf/sign_in_sheet.html", context)


def sign_in_sheet_pdf(session: EventSession, *, full_names: bool = False) -> bytes:
    """The sheet people sign on arrival, with the check-in QR code.

    Lists confirmed registrants (first name and initial, or full names with
    ``full_names``) plus blank rows for walk-ins. The sheet is passed round
    the room, so it follows ``short_names`` like the check-in page: at most
    three letters of a last name. People it still cannot tell apart are
    numbered in sign-up order ("Sam J. (1)", as on the register), and the
    sheet asks them to initial either line and tell the facilitator, who
    knows them (the session page lists full names) and notes which is which.
    A headcount-only event's sheet has no names at all: numbered rows and a
    tally box.
    """
    return _sign_in_document(
        session, full_names=full_names, org=site_settings()
    ).write_pdf()


# Attendance register ---------------------------------------------------------

#: What a register cell shows for each attendance status.
REGISTER_MARKS = {
    AttendanceStatus.PRESENT: "✓",
    AttendanceStatus.LATE: "✓",
    AttendanceStatus.LEFT_EARLY: "✓",
    AttendanceStatus.ABSENT: "A",
    AttendanceStatus.EXCUSED: "E",
}


def _register_rows(sessions, registrations, records):
    """Rows of ``{"name", "cells"}`` for registrants and for walk-ins (one
    row per walk-in name), with one cell per session in ``sessions``."""
    marks = {}  # (registration id or walk-in key, session id) -> mark
    walk_in_names = {}  # walk-in key -> full name as first typed
    for record in records:
        if record.registration_id:
            key = record.registration_id
        else:
            # One row per walk-in name: the same person coming twice is one
            # row, two people who only share a short label are two.
            key = "walk-in:" + comparable(record.walk_in_name)
            walk_in_names.setdefault(key, " ".join(record.walk_in_name.split()))
        marks[key, record.session_id] = REGISTER_MARKS.get(record.status, "")

    def row(name, key):
        cells = [
            {"cancelled": True, "mark": ""}
            if session.status == SessionStatus.CANCELLED
            else {"cancelled": False, "mark": marks.get((key, session.pk), "")}
            for session in sessions
        ]
        return {"name": name, "cells": cells}

    labels = short_names(
        (r.pk, r.name) for r in sorted(registrations, key=lambda r: r.pk)
    )
    registrants = sorted(
        ((labels[r.pk], r.pk) for r in registrations),
        key=lambda person: (person[0].casefold(), person[1]),
    )
    walk_in_labels = short_names(sorted(walk_in_names.items()))
    walk_ins = sorted(
        ((key, walk_in_labels[key]) for key in walk_in_names),
        key=lambda item: (item[1].casefold(), item[0]),
    )
    return (
        [row(name, pk) for name, pk in registrants],
        [row(name, key) for key, name in walk_ins],
    )


def _chunks(items: list, size: int) -> list:
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]


def attendance_register_pdf(event: EventPage) -> bytes:
    """The whole series on one grid: names down the side, sessions across.

    A tick is an attendance (present, late or left early), A is absent, E
    is excused; sessions still to come are blank and cancelled ones are
    marked. Walk-ins are listed below the registrants. Headcount-only
    events show the numbers only. The number of queries does not depend on
    how many people or sessions there are.
    """
    org = site_settings()
    sessions = list(
        EventSession.objects.filter(event_id=event.pk)
        .select_related("headcount")
        .order_by("start", "pk")
    )
    registrations, records = [], []
    if not event.headcount_only:
        registrations = list(
            Registration.objects.filter(
                event_id=event.pk, status=RegistrationStatus.CONFIRMED
            ).only("pk", "name")
        )
        records = list(
            AttendanceRecord.objects.filter(session__event_id=event.pk).only(
                "session_id", "registration_id", "walk_in_name", "status"
            )
        )
    attended = set(AttendanceStatus.attended())
    totals = {}
    for record in records:
        if record.status in attended:
            totals[record.session_id] = totals.get(record.session_id, 0) + 1
    tables = []
    for part in _chunks(sessions, REGISTER_COLUMNS):
        registrant_rows, walk_in_rows = _register_rows(part, registrations, records)
        columns = []
        for session in part:
            headcount = getattr(session, "headcount", None)
            columns.append(
                {
                    "session": session,
                    "cancelled": session.status == SessionStatus.CANCELLED,
                    "total": headcount.attendees
                    if event.headcount_only and headcount
                    else totals.get(session.pk),
                }
            )
        tables.append(
            {"columns": columns, "rows": registrant_rows, "walk_ins": walk_in_rows}
        )
    context = {
        "org": org,
        "landscape": True,
        "event": event,
        "title": _("Attendance register: %(event)s") % {"event": event.title},
        "tables": tables,
        "headcount_only": event.headcount_only,
        "printed": timezone.localtime(),
    }
    return render_pdf("pdf/attendance_register.html", context)


# Facilitator guide -----------------------------------------------------------


def _workshop_of(event: EventPage) -> WorkshopPage:
    workshop = event.workshop
    if workshop is None:
        raise AttendanceError(
            _("This event does not run a workshop, so there is no guide."),
            code="no_workshop",
        )
    return workshop


def agenda(source: WorkshopPage | SessionContent, start: dt.datetime) -> list[dict]:
    """The segments of ``source`` (a workshop, or what one of its sessions
    runs) with clock times: each segment starts when the one before it
    ends, counting from ``start`` (a local time)."""
    kinds = dict(SegmentKind.CHOICES)
    rows, clock = [], start
    for segment in source.segments:
        minutes = segment.get("minutes") or 0
        rows.append(
            {
                "start": clock,
                "minutes": minutes,
                "title": segment.get("title", ""),
                "kind": kinds.get(segment.get("kind"), segment.get("kind") or ""),
                "description": segment.get("description") or "",
                "notes": segment.get("facilitator_notes") or "",
            }
        )
        clock = clock + dt.timedelta(minutes=minutes)
    return rows


def materials_checklist(source: WorkshopPage | SessionContent) -> list[str]:
    """Every segment's materials once, in the order they are first needed,
    then a session plan's own extra materials."""
    return materials_needed(source.segments, getattr(source, "extra_materials", []))


def _guide_document(session: EventSession, *, org):
    workshop = _workshop_of(session.event)
    content = workshop.session_content(session.week_number())
    local_start = timezone.localtime(session.start)
    rows = agenda(content, local_start)
    outline_end = local_start + dt.timedelta(
        minutes=sum(row["minutes"] for row in rows)
    )
    overrun = (outline_end - timezone.localtime(session.end)).total_seconds() // 60
    context = {
        **_session_context(session),
        "org": org,
        "workshop": workshop,
        "content": content,
        # Say so when a course with plans has none for this session.
        "uses_workshop_outline": content.other_plans and not content.has_plan,
        "title": _("Facilitator guide: %(workshop)s") % {"workshop": workshop.title},
        "agenda": rows,
        "outline_end": outline_end,
        "overrun_minutes": int(overrun) if overrun > 0 else 0,
        "materials": materials_checklist(content),
    }
    return _render("pdf/facilitator_guide.html", context, tagged=True)


def facilitator_guide_pdf(session: EventSession) -> bytes:
    """The facilitator's running order for one session of a workshop.

    Agenda with clock times from the session's start, facilitator notes, a
    materials checklist and safety notes, from the workshop's plan for the
    session's week number when it has one. Raises ``AttendanceError`` (code
    ``no_workshop``) when the event runs no workshop.
    """
    document = _guide_document(session, org=site_settings())
    return document.write_pdf(**_options(True))


# Participant handout ---------------------------------------------------------


def _handout_document(
    workshop: WorkshopPage, *, large_print: bool, org, week: int | None = None
):
    content = workshop.session_content(week)
    context = {
        "org": org,
        "workshop": workshop,
        "content": content,
        "title": f"{workshop.title}: {content.title}"
        if content.title
        else workshop.title,
        "large_print": large_print,
    }
    return _render("pdf/participant_handout.html", context, tagged=True)


def participant_handout_pdf(
    workshop: WorkshopPage,
    *,
    large_print: bool = False,
    copies: int = 1,
    week: int | None = None,
) -> bytes:
    """The plain-language handout people take home, with the crisis line.

    ``week`` is a session's week number (``EventSession.week_number``): the
    handout of the workshop's plan for it, else the workshop's handout.
    ``large_print`` sets body text at 18pt. ``copies`` repeats the handout,
    each copy starting on a new page.
    """
    document = _handout_document(
        workshop, large_print=large_print, org=site_settings(), week=week
    )
    return _join([document] * max(copies, 1), tagged=True)


# Flyer -----------------------------------------------------------------------


def flyer_pdf(event: EventPage) -> bytes:
    """A notice-board flyer: what, when, where, how to sign up, and a QR
    code to the event's page."""
    org = site_settings()
    upcoming = list(
        EventSession.objects.filter(event_id=event.pk)
        .upcoming()
        .not_cancelled()
        .select_related("venue")
        .order_by("start", "pk")
    )
    venues = [event.venue] if event.venue else []
    for session in upcoming:
        if session.venue and session.venue not in venues:
            venues.append(session.venue)
    url = _page_url(event)
    context = {
        "org": org,
        "event": event,
        "title": event.title,
        "dates": upcoming[:FLYER_DATES],
        "more_dates": max(len(upcoming) - FLYER_DATES, 0),
        "venues": venues,
        "url": url,
        "registration_required": event.registration_mode == RegistrationMode.REQUIRED,
        "registration_open": event.registration_mode == RegistrationMode.OPEN,
        "full": bool(upcoming) and event.registration_on and event.places_left == 0,
        "qr": qr_svg(url, label=_("QR code to this event's web page")) if url else "",
    }
    return render_pdf("pdf/flyer.html", context, tagged=True)


# Session pack ----------------------------------------------------------------


def _crisis_document(workshop: WorkshopPage | None, *, org):
    context = {
        "org": org,
        "workshop": workshop,
        "title": _("Support and crisis lines"),
    }
    return _render("pdf/crisis_sheet.html", context)


def session_pack_pdf(session: EventSession) -> bytes:
    """Everything to print for one session, in one PDF.

    The sign-in sheet; the facilitator guide and one handout per confirmed
    participant plus the spares in SiteSettings (when the event runs a
    workshop; both from the plan for the session's week number, when the
    workshop has one); and a crisis and resources sheet.
    """
    org = site_settings()
    event = session.event
    workshop = event.workshop
    documents = [_sign_in_document(session, full_names=False, org=org)]
    if workshop is not None:
        documents.append(_guide_document(session, org=org))
        confirmed = (
            0
            if event.headcount_only
            else Registration.objects.for_session(session)
            .filter(status=RegistrationStatus.CONFIRMED)
            .count()
        )
        copies = confirmed + org.spare_handouts
        if copies:
            handout = _handout_document(
                workshop, large_print=False, org=org, week=session.week_number()
            )
            documents.extend([handout] * copies)
    documents.append(_crisis_document(workshop, org=org))
    return _join(documents)
