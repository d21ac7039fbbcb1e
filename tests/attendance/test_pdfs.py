"""Printed documents: sign-in sheets, registers, guides, handouts, flyers and
session packs, read back with pypdf."""

import datetime as dt
import io
import logging
from collections import Counter

import pytest
from django.utils import dateformat, timezone
from pypdf import PdfReader
from wagtail.models import Site

from attendance import pdfs
from attendance.checkin import check_in_code, check_in_url
from attendance.errors import AttendanceError
from attendance.models import AttendanceRecord, AttendanceStatus, Headcount
from core.models import SiteSettings
from events.models import EventPage, EventSession, Registration, SessionStatus
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    make_workshop,
    sign_up,
)

pytestmark = pytest.mark.django_db

CRISIS = "<p>In crisis? Call <b>988</b> at any time.</p>"


# Helpers ---------------------------------------------------------------------


def read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in read(data).pages]


def text_of(data: bytes) -> str:
    return "\n".join(page_texts(data))


def body_font_size(data: bytes) -> float:
    """The font size (pt) of most of the first page's text."""
    sizes = Counter()

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            sizes[round(size * scale, 1)] += len(text)

    read(data).pages[0].extract_text(visitor_text=visit)
    return sizes.most_common(1)[0][0]


def is_tagged(data: bytes) -> bool:
    root = read(data).trailer["/Root"]
    return (
        "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and "/Lang" in root
    )


def configure_site(**fields):
    site = Site.objects.get(is_default_site=True)
    defaults = {
        "organisation_name": "Riverside Peer Support",
        "phone": "555-0100",
        "email": "hello@example.org",
        "crisis_line_text": CRISIS,
    } | fields
    return SiteSettings.objects.update_or_create(site=site, defaults=defaults)[0]


def add_registrants(event, count, *, first="Person"):
    """``count`` confirmed people, made in one go (the sign-up workflow's
    emails make it too slow for dozens)."""
    Registration.objects.bulk_create(
        Registration(
            event=event,
            name=f"{first}{i:02d} Surname",
            email=f"{first}{i}@example.org",
            token_salt=f"salt-{first}-{event.pk}-{i}",
            manage_token_hash=f"hash-{first}-{event.pk}-{i}",
        )
        for i in range(count)
    )


def local(day_offset, hour, minute=0):
    day = timezone.localdate() + dt.timedelta(days=day_offset)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def event(event_index):
    return make_registration_event(
        event_index, title="Hearing Voices Group", capacity=None
    )


# Sign-in sheet ---------------------------------------------------------------


def test_sign_in_sheet_header_and_first_names(home_page, event):
    configure_site()
    event.venue = make_venue(name="Riverside Hall", room="Room 4B")
    event.save()
    session = event.sessions.get()
    sign_up(event, name="Sam Rivera")
    sign_up(event, name="Alex Chen")
    sign_up(event, name="Robin")
    cancelled = sign_up(event, name="Casey Gone")
    Registration.objects.filter(pk=cancelled.pk).update(status="cancelled")

    text = text_of(pdfs.sign_in_sheet_pdf(session))

    assert "Hearing Voices Group" in text
    assert "Session 1 of 1" in text
    assert dateformat.format(timezone.localtime(session.start), "l j F Y") in text
    assert "6:00 p.m. to 8:00 p.m." in text
    assert "Riverside Hall, Room 4B" in text
    assert text.index("Alex C.") < text.index("Robin") < text.index("Sam R.")
    assert "Rivera" not in text and "Chen" not in text
    assert "Casey" not in text
    assert "Initials" in text and "First time here?" in text
    assert "OK to contact you" in text
    assert check_in_code(session) in text
    assert "Page 1 of 1" in text
    assert "Riverside Peer Support" in text


def test_sign_in_sheet_look_alikes_get_three_letters_at_most_then_numbers(event):
    sign_up(event, name="Sam Johnson")
    sign_up(event, name="Sam Johnston")
    sign_up(event, name="Ana Jordan")
    sign_up(event, name="Ana Jones")

    text = text_of(pdfs.sign_in_sheet_pdf(event.sessions.get()))

    assert "Ana Jor." in text and "Ana Jon." in text
    assert "Sam J. (1)" in text and "Sam J. (2)" in text
    assert "Johns" not in text
    assert "shared by more than one person" in text
    assert "shared by more" not in text_of(
        pdfs.sign_in_sheet_pdf(event.sessions.get(), full_names=True)
    )


def test_sign_in_sheet_full_names_on_request(event):
    sign_up(event, name="Sam Rivera")

    text = text_of(pdfs.sign_in_sheet_pdf(event.sessions.get(), full_names=True))

    assert "Sam Rivera" in text


def test_sign_in_sheet_numbers_sessions_by_start(event):
    first = event.sessions.get()
    later = make_session(event, start=first.start + dt.timedelta(weeks=2))
    middle = make_session(event, start=first.start + dt.timedelta(weeks=1))

    assert "Session 2 of 3" in text_of(pdfs.sign_in_sheet_pdf(middle))
    assert "Session 3 of 3" in text_of(pdfs.sign_in_sheet_pdf(later))


def test_check_in_url_is_absolute_and_carries_the_code(event):
    session = event.sessions.get()

    url = check_in_url(session)

    assert url.startswith("http://testserver/")
    assert url.endswith(f"{check_in_code(session)}/")


def test_headcount_only_sheet_has_no_names(event_index):
    event = make_registration_event(event_index, headcount_only=True, capacity=None)
    sign_up(event, name="Sam Rivera")
    session = event.sessions.get()

    text = text_of(pdfs.sign_in_sheet_pdf(session, full_names=True))

    assert "Sam" not in text
    assert "Name" not in text
    assert "First time here?" in text
    assert "Tally" in text
    assert check_in_code(session) not in text


def test_long_sheet_repeats_header_and_numbers_pages(event):
    session = event.sessions.get()
    add_registrants(event, 3)
    short = read(pdfs.sign_in_sheet_pdf(session))
    add_registrants(event, 57, first="Extra")

    data = pdfs.sign_in_sheet_pdf(session)
    pages = page_texts(data)

    assert len(short.pages) == 1
    assert len(pages) > len(short.pages)
    total = len(pages)
    assert f"Page 1 of {total}" in pages[0]
    assert f"Page 2 of {total}" in pages[1]
    assert "Initials" in pages[1] and "First time here?" in pages[1]
    assert "Extra56 S." in "\n".join(pages)


def test_paper_size_follows_site_settings(event):
    session = event.sessions.get()
    configure_site(paper_size="A4")
    a4 = read(pdfs.sign_in_sheet_pdf(session)).pages[0].mediabox
    configure_site(paper_size="letter")
    letter = read(pdfs.sign_in_sheet_pdf(session)).pages[0].mediabox

    assert (round(a4.width), round(a4.height)) == (595, 842)
    assert (round(letter.width), round(letter.height)) == (612, 792)


def test_documents_work_without_a_default_site(event):
    Site.objects.all().delete()

    data = pdfs.sign_in_sheet_pdf(event.sessions.get())

    assert "Page 1 of 1" in text_of(data)


# Attendance register ---------------------------------------------------------


def test_register_ticks_recorded_attendance(event):
    first = event.sessions.get()
    first.start, first.end = local(-14, 18), local(-14, 20)
    first.save()
    second = make_session(event, start=local(-7, 18))
    make_session(event, start=local(7, 18))
    sam = sign_up(event, name="Sam Rivera", by_coordinator=True)
    alex = sign_up(event, name="Alex Chen", by_coordinator=True)
    EventSession.objects.filter(pk=second.pk).update(status=SessionStatus.CANCELLED)
    AttendanceRecord.objects.create(
        session=first, registration=sam, status=AttendanceStatus.PRESENT
    )
    AttendanceRecord.objects.create(
        session=first, registration=alex, status=AttendanceStatus.EXCUSED
    )
    AttendanceRecord.objects.create(
        session=first, walk_in_name="Jo Walker", status=AttendanceStatus.LATE
    )

    data = pdfs.attendance_register_pdf(event)
    text = text_of(data)
    page = read(data).pages[0]

    assert page.mediabox.width > page.mediabox.height  # landscape
    lines = text.splitlines()
    sam_line = next(line for line in lines if line.startswith("Sam R."))
    alex_line = next(line for line in lines if line.startswith("Alex C."))
    jo_line = next(line for line in lines if line.startswith("Jo W."))
    assert "✓" in sam_line
    assert "E" in alex_line.removeprefix("Alex C.") and "✓" not in alex_line
    assert "✓" in jo_line
    assert text.index("Sam R.") < text.index("Walk-ins") < text.index("Jo W.")
    # One tick each for Sam and Jo, plus the one in the key.
    assert text.count("✓") == 3
    assert "Cancelled" in text
    assert "Rivera" not in text


def test_register_queries_do_not_grow_with_people(
    event_index, django_assert_max_num_queries
):
    def build(count):
        event = make_registration_event(event_index, capacity=None)
        session = event.sessions.get()
        add_registrants(event, count)
        for registration in Registration.objects.filter(event=event):
            AttendanceRecord.objects.create(
                session=session, registration=registration, status="present"
            )
        AttendanceRecord.objects.create(
            session=session, walk_in_name="Jo Walker", status="present"
        )
        return EventPage.objects.get(pk=event.pk)

    small, large = build(2), build(25)
    with django_assert_max_num_queries(5) as few:
        pdfs.attendance_register_pdf(small)
    with django_assert_max_num_queries(len(few.captured_queries)):
        pdfs.attendance_register_pdf(large)


def test_headcount_register_shows_numbers_not_names(event_index):
    event = make_registration_event(event_index, headcount_only=True, capacity=None)
    sign_up(event, name="Sam Rivera")
    Headcount.objects.create(session=event.sessions.get(), attendees=7)

    text = text_of(pdfs.attendance_register_pdf(event))

    assert "Sam" not in text
    assert "7" in text.split("People who came", 1)[1]


# Facilitator guide -----------------------------------------------------------


def test_guide_clock_times_notes_and_materials(event_index, workshop_index):
    workshop = make_workshop(
        workshop_index, safety_notes="Watch for distress. Have a quiet room ready."
    )
    event = make_registration_event(event_index, workshop=workshop)
    session = event.sessions.get()  # 18:00 local

    data = pdfs.facilitator_guide_pdf(session)
    text = text_of(data)

    starts = [text.index(t) for t in ("6:00 p.m.", "6:10 p.m.", "6:50 p.m.")]
    assert starts == sorted(starts)
    assert "7:00 p.m." in text  # the outline's end
    assert "Secret note for Talk." in text
    assert "Discussion" in text and "Closing" in text
    checklist = text.split("Materials checklist", 1)[1]
    assert checklist.count("Pens") == 1
    assert "Watch for distress." in text
    assert is_tagged(data)


def test_guide_needs_a_workshop(event):
    with pytest.raises(AttendanceError) as refused:
        pdfs.facilitator_guide_pdf(event.sessions.get())

    assert refused.value.code == "no_workshop"


# Participant handout ---------------------------------------------------------


@pytest.fixture
def workshop(workshop_index):
    return make_workshop(
        workshop_index,
        title="Understanding Voices",
        summary="What voices are and what can help.",
        learning_goals="<ul><li>Know what helps you</li></ul>",
        handout="<h2>Your plan</h2><p>" + "Write down what helps you. " * 40 + "</p>",
        resources="<ul><li>Distress line: 555-0199</li></ul>",
    )


def test_handout_has_content_crisis_line_and_contact(home_page, workshop):
    configure_site()

    data = pdfs.participant_handout_pdf(workshop)
    text = text_of(data)

    for expected in (
        "Understanding Voices",
        "What voices are and what can help.",
        "Know what helps you",
        "Write down what helps you.",
        "Distress line: 555-0199",
        "In crisis? Call 988 at any time.",
        "555-0100",
        "hello@example.org",
    ):
        assert expected in text
    assert "Secret note" not in text
    assert is_tagged(data)
    assert read(data).metadata.title == "Understanding Voices"


def test_large_print_handout(workshop):
    normal = pdfs.participant_handout_pdf(workshop)
    large = pdfs.participant_handout_pdf(workshop, large_print=True)

    assert body_font_size(normal) < 16 <= body_font_size(large)
    assert len(read(large).pages) > len(read(normal).pages)


def test_handout_copies_each_start_a_new_page(workshop):
    one = page_texts(pdfs.participant_handout_pdf(workshop))
    three = page_texts(pdfs.participant_handout_pdf(workshop, copies=3))

    assert len(three) == 3 * len(one)
    for copy in range(3):
        assert three[copy * len(one)].startswith("Understanding Voices")


# Flyer -----------------------------------------------------------------------


def test_flyer(home_page, event_index):
    configure_site()
    event = make_event(
        event_index,
        title="Community Walk",
        summary="A gentle walk by the river.",
        venue=make_venue(name="Riverside Hall"),
    )
    coming = make_session(event, start=local(3, 10))
    called_off = make_session(event, start=local(4, 10))
    EventSession.objects.filter(pk=called_off.pk).update(status="cancelled")
    make_session(event, start=local(-3, 10))

    data = pdfs.flyer_pdf(event)
    text = text_of(data)

    assert "Community Walk" in text
    assert "A gentle walk by the river." in text
    assert dateformat.format(timezone.localtime(coming.start), "D j M") in text
    assert dateformat.format(timezone.localtime(called_off.start), "D j M") not in text
    assert "Riverside Hall" in text
    assert "just come along" in text
    assert "http://testserver" + event.url in text
    assert "555-0100" in text
    assert is_tagged(data)
    assert body_font_size(data) >= 16


# Session pack ----------------------------------------------------------------


def test_session_pack_has_every_part(home_page, event_index, workshop):
    configure_site(spare_handouts=2)
    event = make_registration_event(event_index, workshop=workshop, capacity=None)
    sign_up(event, name="Sam Rivera")
    sign_up(event, name="Alex Chen")
    session = event.sessions.get()
    handout_pages = len(read(pdfs.participant_handout_pdf(workshop)).pages)

    pages = page_texts(pdfs.session_pack_pdf(session))

    assert len(pages) == 1 + 1 + (2 + 2) * handout_pages + 1
    assert "Sign-in sheet" in pages[0] and "Sam R." in pages[0]
    assert "Facilitator guide" in pages[1] and "6:10 p.m." in pages[1]
    handouts = pages[2:-1]
    assert sum(page.startswith("Understanding Voices") for page in handouts) == 4
    assert "Support and crisis lines" in pages[-1]
    assert "In crisis? Call 988" in pages[-1]
    assert "Distress line: 555-0199" in pages[-1]


def test_session_pack_without_workshop(home_page, event):
    configure_site(spare_handouts=2)
    sign_up(event, name="Sam Rivera")

    pages = page_texts(pdfs.session_pack_pdf(event.sessions.get()))

    assert len(pages) == 2
    assert "Sign-in sheet" in pages[0]
    assert "Support and crisis lines" in pages[1]


# Rendering -------------------------------------------------------------------


class _Collect(logging.Handler):
    """Keeps the log records it receives."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_rendering_logs_no_warnings(home_page, event_index, workshop):
    """No font-subsetting fallback, missing fonts or unloadable resources."""
    configure_site()
    event = make_registration_event(event_index, workshop=workshop)
    sign_up(event, name="Sam Rivera")
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    try:
        session = event.sessions.get()
        pdfs.sign_in_sheet_pdf(session)
        pdfs.facilitator_guide_pdf(session)
        pdfs.participant_handout_pdf(workshop, large_print=True, copies=2)
        pdfs.session_pack_pdf(session)
        pdfs.flyer_pdf(event)
        pdfs.attendance_register_pdf(event)
    finally:
        logger.removeHandler(collect)

    assert [record.getMessage() for record in collect.records] == []


def test_documents_do_not_fetch_outside_resources(workshop):
    workshop.handout = '<p>Hi</p><img src="http://example.com/track.png" alt="">'
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    try:
        data = pdfs.participant_handout_pdf(workshop)
    finally:
        logger.removeHandler(collect)

    assert "Hi" in text_of(data)
    assert any("example.com" in record.getMessage() for record in collect.records)


# Look-alike names ------------------------------------------------------------


def test_look_alikes_are_told_apart_on_the_sign_in_sheet_and_register(event):
    session = event.sessions.get()
    session.start, session.end = local(-1, 18), local(-1, 20)
    session.save()
    sam_lee = sign_up(event, name="Sam Lee", by_coordinator=True)
    sign_up(event, name="Sam Lopez", by_coordinator=True)
    AttendanceRecord.objects.create(
        session=session, registration=sam_lee, status=AttendanceStatus.PRESENT
    )
    for walk_in in ("Eve Smith", "Eve Stone", "eve  smith"):
        AttendanceRecord.objects.create(
            session=session, walk_in_name=walk_in, status=AttendanceStatus.PRESENT
        )

    sheet = text_of(pdfs.sign_in_sheet_pdf(session))
    assert "Sam Le." in sheet and "Sam Lo." in sheet
    assert "Sam L." not in sheet and "Lopez" not in sheet

    lines = text_of(pdfs.attendance_register_pdf(event)).splitlines()
    assert "✓" in next(line for line in lines if line.startswith("Sam Le."))
    assert "✓" not in next(line for line in lines if line.startswith("Sam Lo."))
    # Two walk-ins who share "Eve S." are two rows; the same name twice is one.
    assert sum(line.startswith("Eve Sm.") for line in lines) == 1
    assert sum(line.startswith("Eve St.") for line in lines) == 1


# Report summary --------------------------------------------------------------


def test_report_summary_prints_no_template_comments():
    """Django's {# #} comments are one line only: a longer one is printed."""
    report = {
        "title": "Sessions held",
        "help_text": "Sessions that took place.",
        "notes": [],
        "chart": {"note": ""},
        "columns": ["Month", "Sessions"],
    }
    sections = [
        {"report": report, "svg": "", "table": {"rows": [["May", 3]], "totals": []}}
    ] * 3
    data = pdfs.render_pdf(
        "pdf/report_summary.html",
        {
            "title": "Attendance summary",
            "generated": timezone.now(),
            "filters": [("Dates", "1 May to 31 May")],
            "sections": sections,
            "definitions": [("Session", "A date a group met.")],
        },
    )
    text = text_of(data)
    assert text.count("Sessions held: the numbers in the chart") == 3
    assert "wrapper" not in text and "caption" not in text and "#}" not in text


# Fitting the page ------------------------------------------------------------

#: A typical organisation's details: three lines of address and a crisis line.
TYPICAL_SITE = {
    "organisation_name": "Riverside Peer Support",
    "phone": "(416) 555-0142",
    "email": "hello@riversidepeersupport.example",
    "address": "Riverside Community Centre\n250 Mill Street\nRiverside, ON",
    "crisis_line_text": (
        "<p>In crisis? Call or text <b>988</b> at any time, or go to your "
        "nearest emergency department.</p>"
    ),
}


@pytest.mark.parametrize("paper", ["letter", "A4"])
def test_a_typical_handout_fits_on_one_page(event_index, workshop_index, paper):
    """Crisis line and contact details stay on the page on either paper size
    (on Letter they once spilled onto an almost empty second page, and every
    handout in a session pack took two sheets)."""
    configure_site(paper_size=paper, **TYPICAL_SITE)
    workshop = make_workshop(
        workshop_index,
        title="Wellness Recovery Action Plan (WRAP)",
        summary=(
            "Build your own plan for staying well, noticing when things are "
            "getting harder, and what helps. You write the plan, in your own "
            "words, and you keep it."
        ),
        learning_goals=(
            "<ul><li>Make a list of the everyday things that keep you well</li>"
            "<li>Notice your early warning signs and triggers</li>"
            "<li>Decide what you and others can do when things get hard</li>"
            "<li>Leave with a plan that belongs to you</li></ul>"
        ),
        handout=(
            "<h2>Your Wellness Recovery Action Plan</h2><p>Your plan is yours. "
            "You decide what goes in it and who sees it.</p><h3>This week</h3>"
            "<ul><li>Look over what you wrote today.</li><li>Add one thing to "
            "your wellness toolbox: something small that helps you feel a bit "
            "better.</li><li>Bring your workbook next week.</li></ul>"
        ),
        resources=(
            "<p>WRAP was developed by people with lived experience and is used "
            "by peer support groups around the world.</p><ul><li>Ask a "
            "facilitator for a spare workbook.</li><li>Call us on "
            "<b>(416) 555-0142</b> if you miss a week.</li></ul>"
        ),
    )

    data = pdfs.participant_handout_pdf(workshop)

    (page,) = page_texts(data)
    for expected in ("Need help now?", "988", "Contact Riverside", "Riverside, ON"):
        assert expected in page
    event = make_registration_event(event_index, workshop=workshop, capacity=None)
    add_registrants(event, 3)
    session = event.sessions.get()
    pack = page_texts(pdfs.session_pack_pdf(session))
    sheet = page_texts(pdfs.sign_in_sheet_pdf(session))
    guide = page_texts(pdfs.facilitator_guide_pdf(session))
    # 3 people and 2 spares: 5 handouts of one page each.
    handouts = pack[len(sheet) + len(guide) : -1]
    assert len(handouts) == 5
    assert all(page.startswith("Wellness Recovery Action Plan") for page in handouts)


@pytest.mark.parametrize("paper", ["letter", "A4"])
def test_a_full_eight_week_flyer_fits_on_one_page(home_page, event_index, paper):
    """Eight dates, a long summary, a venue with access notes and the contact
    details still leave the sign-up box (and its QR code) on one page, on
    Letter as on A4."""
    configure_site(paper_size=paper, **TYPICAL_SITE)
    venue = make_venue(
        name="Riverside Community Centre",
        room="Maple Room, ground floor",
        address="250 Mill Street\nRiverside, ON",
        step_free=True,
        hearing_loop=True,
        quiet_room=True,
    )
    event = make_event(
        event_index,
        title="Wellness Recovery Action Plan (WRAP) group",
        summary=(
            "Eight Tuesday evenings to build your own plan for staying well, "
            "with people who understand."
        ),
        venue=venue,
        registration_mode="required",
        capacity=1,
        waitlist_enabled=True,
    )
    for week in range(8):
        make_session(event, start=local(3 + 7 * week, 18))
    sign_up(event, name="Sam Rivera")

    (page,) = page_texts(pdfs.flyer_pdf(event))

    assert "Please sign up before you come." in page
    assert "This event is full right now." in page
    assert "Or call us: (416) 555-0142" in page
    assert "hello@riversidepeersupport.example" in page


def test_the_guide_ends_its_agenda_once(event_index, workshop_index):
    """The "End" row prints after the last part, not at the foot of every
    page the agenda crosses."""
    segments = [(f"Part {n}", 5, "activity") for n in range(1, 25)]
    workshop = make_workshop(workshop_index, segments=segments)
    event = make_registration_event(event_index, workshop=workshop)

    pages = page_texts(pdfs.facilitator_guide_pdf(event.sessions.get()))

    assert len(pages) > 1
    ends = [
        n
        for n, text in enumerate(pages)
        for line in text.splitlines()
        if line.endswith(" End") or line == "End"
    ]
    assert len(ends) == 1
    last_agenda_page = max(n for n, text in enumerate(pages) if "Part 24" in text)
    assert ends == [last_agenda_page]
    text = "\n".join(pages)
    assert text.index("Part 24") < text.index("End")
