"""Benchmarks for the printed paperwork: a 40-name sign-in sheet, a 20-name by
8-session register, and a 10-segment facilitator guide.

Each floor lays out the very HTML the real function rendered (captured once)
with WeasyPrint in the same process, with the same options: no database, no
templates. The ratio is what Gather adds on top of WeasyPrint itself. Any
warning that WeasyPrint fell back to its slow font subsetter fails the run.
"""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from weasyprint import HTML

from attendance import pdfs
from attendance.models import AttendanceRecord, AttendanceStatus
from events.models import EventIndexPage, EventPage, Registration, RegistrationStatus
from events.sessions import generate_weekly_series
from website.models import HomePage
from workshops.models import WorkshopIndexPage, WorkshopPage

from .registry import Benchmark, register

INDEX_SLUG = "bench-pdf-events"
SUBSETTER_WARNINGS = ("Unable to subset",)


class _Captured(logging.Handler):
    """Collects WeasyPrint warnings about font subsetting."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        if any(text in message for text in SUBSETTER_WARNINGS):
            self.messages.append(message)


SUBSETTER = _Captured()
logging.getLogger("weasyprint").addHandler(SUBSETTER)


def _fixture(ctx):
    """A workshop with 10 segments and two events using it (made once)."""
    if "pdf_fixture" in ctx.cache:
        return ctx.cache["pdf_fixture"]
    home = HomePage.objects.first()
    index = EventIndexPage.objects.filter(slug=INDEX_SLUG).first()
    if index is None:
        index = home.add_child(
            instance=EventIndexPage(title="PDF bench", slug=INDEX_SLUG, live=False)
        )
        library = home.add_child(
            instance=WorkshopIndexPage(
                title="PDF bench library", slug="bench-pdf-library", live=False
            )
        )
        segments = [
            (
                "segment",
                {
                    "title": f"Part {n}",
                    "minutes": 9,
                    "kind": "discussion",
                    "description": "What happens in this part, in a sentence.",
                    "facilitator_notes": "Invite everyone to share; nobody has to.",
                    "materials": ["Flip chart", f"Worksheet {n}"],
                },
            )
            for n in range(1, 11)
        ]
        workshop = library.add_child(
            instance=WorkshopPage(
                title="Bench workshop",
                slug="bench-workshop",
                summary="A ten-part workshop.",
                duration_minutes=90,
                outline=segments,
                safety_notes=(
                    "Watch for distress; a co-facilitator steps out with anyone "
                    "who needs it."
                ),
            )
        )
        for slug, people in (("bench-sign-in", 40), ("bench-register", 20)):
            event = index.add_child(
                instance=EventPage(
                    title=f"Bench {slug}",
                    slug=slug,
                    summary="For the PDF benchmarks.",
                    workshop=workshop,
                    live=False,
                )
            )
            generate_weekly_series(
                event=event,
                first_date=timezone.localdate() - dt.timedelta(weeks=4),
                start_time=dt.time(18),
                end_time=dt.time(19, 30),
                weeks=8,
            )
            Registration.objects.bulk_create(
                Registration(
                    event=event,
                    name=f"Person{n:02d} Surname{n:02d}",
                    email=f"p{n}@example.org",
                    status=RegistrationStatus.CONFIRMED,
                    token_salt=f"{slug}{n}",
                    manage_token_hash=f"{slug}-{n}",
                )
                for n in range(people)
            )
        register_event = EventPage.objects.get(slug="bench-register")
        people = list(register_event.registrations.all())
        past = register_event.sessions.filter(start__lt=timezone.now())
        AttendanceRecord.objects.bulk_create(
            AttendanceRecord(
                session=session,
                registration=person,
                status=AttendanceStatus.PRESENT if n % 4 else AttendanceStatus.ABSENT,
            )
            for session in past
            for n, person in enumerate(people)
        )
    sign_in = EventPage.objects.get(slug="bench-sign-in")
    ctx.cache["pdf_fixture"] = {
        "sign_in_session": sign_in.sessions.order_by("start").first(),
        "register_event": EventPage.objects.get(slug="bench-register"),
        "guide_session": sign_in.sessions.order_by("start").first(),
    }
    return ctx.cache["pdf_fixture"]


def _captured_html(build):
    """The HTML ``build`` renders, captured from WeasyPrint's HTML class."""
    seen = []
    original = pdfs.HTML

    def recording(*args, **kwargs):
        seen.append(kwargs.get("string"))
        return original(*args, **kwargs)

    pdfs.HTML = recording
    try:
        build()
    finally:
        pdfs.HTML = original
    return seen[0]


def _floor(name, build, *, tagged):
    """A floor that lays out ``build``'s HTML directly with WeasyPrint."""

    def floor(ctx):
        key = f"html:{name}"
        if key not in ctx.cache:
            ctx.cache[key] = _captured_html(lambda: build(ctx))
        options = {"pdf_variant": pdfs.TAGGED_VARIANT} if tagged else {}
        document = HTML(
            string=ctx.cache[key],
            base_url=settings.BASE_URL + "/",
            url_fetcher=pdfs._LocalOnlyFetcher(),
        )
        return _as_text(document.write_pdf(**options))

    return floor


def _as_text(data):
    """Benchmarks return text; a PDF's size stands in for it."""
    if SUBSETTER.messages:
        raise AssertionError(
            "WeasyPrint fell back to a slow font subsetter: " + SUBSETTER.messages[0]
        )
    return f"%PDF {len(data)} bytes"


def sign_in_sheet(ctx):
    return _as_text(pdfs.sign_in_sheet_pdf(_fixture(ctx)["sign_in_session"]))


def register_pdf(ctx):
    return _as_text(pdfs.attendance_register_pdf(_fixture(ctx)["register_event"]))


def guide(ctx):
    return _as_text(pdfs.facilitator_guide_pdf(_fixture(ctx)["guide_session"]))


def similar_size(page_text, floor_text):
    """The real PDF and the floor's are within 2% of each other in size."""
    page_size, floor_size = (int(text.split()[1]) for text in (page_text, floor_text))
    if abs(page_size - floor_size) > 0.02 * floor_size:
        return [f"PDF sizes differ: {page_size} vs {floor_size} bytes"]
    return []


for name, run, tagged, description, max_ms in (
    ("sign-in sheet, 40 names", sign_in_sheet, False, "one session, QR code", 400),
    ("register, 20 x 8", register_pdf, False, "20 people, 8 sessions", None),
    ("facilitator guide, 10 segments", guide, True, "tagged PDF/UA-1", None),
):
    register(
        Benchmark(
            name=name,
            run=run,
            floor=_floor(name, run, tagged=tagged),
            check=similar_size,
            max_ratio=1.3,
            query_limit=15,
            max_median_ms=max_ms,
            description=description,
            # Built from a fixture of its own: the bench data's size is moot.
            per_scale=False,
        )
    )
