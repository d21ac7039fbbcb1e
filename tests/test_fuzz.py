"""Fuzzing: arbitrary query strings, path tokens, form bodies and uploaded
files sent to every public page, the facilitator pages, the admin listings
and every import. Nothing may answer with a server error (the test client
re-raises a view's exception), and a failed import may not leave a row.

The number of examples per endpoint is modest so the file runs in about a
minute; CI can raise it with ``GATHER_FUZZ_PROFILE=fuzz-ci`` (twenty times as
many).
"""

import json
import os
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wagtail.models import GroupPagePermission

from attendance.checkin import check_in_code
from attendance.models import AttendanceRecord
from events.calendars import feed_token
from events.models import EventPage, EventSession, Registration, Venue
from events.registration import manage_token
from spreadsheets.models import ImportJob
from spreadsheets.registry import resources
from tests.conftest import make_registration_event, sign_up
from tests.events.test_ics_import import BOOK_CLUB, FAIR, ics
from tests.spreadsheets.support import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

# The default profile is derandomized, so a run (and CI) gives the same
# answer every time; fuzz-ci draws new examples on every run to explore.
settings.register_profile(
    "fuzz",
    max_examples=5,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz-ci", parent=settings.get_profile("fuzz"), max_examples=100, derandomize=False
)
FUZZ = settings.get_profile(os.environ.get("GATHER_FUZZ_PROFILE", "fuzz"))
#: PDFs take a second each to draw: fewer examples.
FUZZ_PDF = settings(FUZZ, max_examples=max(2, FUZZ.max_examples // 4))

#: Text with control characters and any letter, surrogates excluded (they
#: cannot be encoded in a request).
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)
#: Parameter names the pages read, and any others.
PARAMETERS = [
    "page",
    "p",
    "q",
    "kind",
    "setting",
    "topic",
    "event",
    "status",
    "start",
    "date_from",
    "date_to",
    "period",
    "format",
    "names",
    "large",
    "problems",
    "code",
    "next",
    "ordering",
    "step_free",
    "hearing_loop",
    "quiet_room",
    "export",
]
encoded_queries = st.lists(
    st.tuples(st.sampled_from(PARAMETERS) | any_text, any_text), max_size=6
).map(urlencode)
#: Query strings as typed: stray percent signs, bytes that are not UTF-8.
raw_queries = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
)
#: Query strings known to break pages elsewhere: NUL characters (which
#: PostgreSQL cannot hold), bytes that are not UTF-8, huge and negative pages.
known_bad_queries = st.sampled_from(
    [
        urlencode([(name, "a\x00b") for name in PARAMETERS]),
        "q=%ff%fe&page=%c3",
        "page=99999999999999999999999&p=-1",
        "event=1e400&start=0000-00-00&date_from=9999-99-99",
        "&&==&%",
    ]
)
query_strings = encoded_queries | raw_queries | known_bad_queries
form_bodies = st.dictionaries(
    keys=st.sampled_from(PARAMETERS + ["name", "email", "phone", "count", "note"])
    | any_text,
    values=any_text | st.lists(any_text, max_size=3),
    max_size=8,
)
#: A path segment: anything, quoted for the URL.
tokens = any_text.filter(lambda text: text not in ("", ".", "..")).map(
    lambda text: quote(text, safe="")
)


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    return user


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A Coordinators member with every permission on Gather's own data."""
    group, _ = Group.objects.get_or_create(name="Coordinators")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label__in=["events", "attendance", "spreadsheets"]
        ),
    )
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=home_page,
            permission=Permission.objects.get(codename=codename),
        )
    user = django_user_model.objects.create_user("coord", password="pw")
    user.groups.add(group)
    return user


@pytest.fixture
def world(event_index, facilitator):
    """One published event with a session, a facilitator and a registration."""
    event = make_registration_event(event_index, capacity=3, title="WRAP group")
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    registration = sign_up(event, "Ana")
    return {
        "index": event_index,
        "event": event,
        "session": event.sessions.get(),
        "token": manage_token(registration),
        "facilitator": facilitator,
    }


def _get(client, url, query):
    cache.clear()  # rate limits would hide what is behind them
    response = client.get(url, QUERY_STRING=query)
    assert response.status_code < 500, (url, query)
    return response


def _post(client, url, data):
    cache.clear()
    response = client.post(url, data)
    assert response.status_code < 500, (url, data)
    return response


PUBLIC = {
    "home": lambda w: "/",
    "listing": lambda w: w["index"].url,
    "event page": lambda w: w["event"].url,
    "sign-up": lambda w: w["event"].sign_up_url,
    "sign-up thanks": lambda w: reverse("event_sign_up_thanks", args=[w["event"].pk]),
    "manage": lambda w: reverse("registration_manage", args=[w["token"]]),
    "manage calendar": lambda w: reverse("registration_calendar", args=[w["token"]]),
    "site feed": lambda w: reverse("site_calendar_feed"),
    "event feed": lambda w: reverse("event_calendar", args=[w["event"].pk]),
    "session feed": lambda w: reverse("session_calendar", args=[w["session"].pk]),
    "facilitator feed": lambda w: reverse(
        "facilitator_calendar_feed", args=[feed_token(w["facilitator"])]
    ),
    "check-in start": lambda w: reverse("check_in_start"),
    "check-in": lambda w: reverse("check_in", args=[check_in_code(w["session"])]),
    "login": lambda w: reverse("login"),
    "password reset": lambda w: reverse("password_reset"),
}


@pytest.mark.parametrize("page", PUBLIC)
@FUZZ
@given(query=query_strings)
def test_public_pages_take_any_query_string(site_client, world, page, query):
    _get(site_client, PUBLIC[page](world), query)


TOKEN_PATHS = {
    "manage": "/manage/{}/",
    "manage calendar": "/manage/{}/calendar.ics",
    "facilitator feed": "/calendar/facilitator/{}.ics",
    "check-in": "/check-in/{}/",
}


@pytest.mark.parametrize("page", TOKEN_PATHS)
@FUZZ
@given(token=tokens, query=query_strings)
def test_pages_with_a_token_take_any_token(site_client, world, page, token, query):
    _get(site_client, TOKEN_PATHS[page].format(token), query)


PUBLIC_FORMS = {
    "sign-up": lambda w: w["event"].sign_up_url,
    "manage cancel": lambda w: reverse("registration_cancel", args=[w["token"]]),
    "check-in": lambda w: reverse("check_in", args=[check_in_code(w["session"])]),
    "password reset": lambda w: reverse("password_reset"),
}


@pytest.mark.parametrize("form", PUBLIC_FORMS)
@FUZZ
@given(data=form_bodies)
def test_public_forms_take_any_body(site_client, world, form, data):
    _post(site_client, PUBLIC_FORMS[form](world), data)


@FUZZ
@given(token=tokens, data=form_bodies)
def test_cancelling_with_any_token_changes_nothing(site_client, world, token, data):
    before = list(Registration.objects.values_list("pk", "status"))
    _post(site_client, f"/manage/{token}/cancel/", data)
    assert list(Registration.objects.values_list("pk", "status")) == before


#: The facilitator area's pages of one session.
SESSION_PAGES = [
    "facilitate_session",
    "facilitate_attendance",
    "facilitate_walk_in",
    "facilitate_headcount",
    "facilitate_note",
    "facilitate_check_in_screen",
]


@pytest.mark.parametrize("name", ["facilitate", "facilitator_calendar", *SESSION_PAGES])
@FUZZ
@given(query=query_strings)
def test_facilitator_pages_take_any_query_string(site_client, world, name, query):
    site_client.force_login(world["facilitator"])
    args = [world["session"].pk] if name in SESSION_PAGES else []
    _get(site_client, reverse(name, args=args), query)


@pytest.mark.parametrize(
    "name",
    [
        "facilitate_attendance",
        "facilitate_walk_in",
        "facilitate_headcount",
        "facilitate_note",
    ],
)
@FUZZ
@given(data=form_bodies)
def test_facilitator_forms_take_any_body(site_client, world, name, data):
    site_client.force_login(world["facilitator"])
    _post(site_client, reverse(name, args=[world["session"].pk]), data)


@pytest.mark.parametrize("document", ["sign-in", "register", "guide", "nonsense"])
@FUZZ_PDF
@given(query=query_strings)
def test_facilitator_pdfs_take_any_query_string(site_client, world, document, query):
    site_client.force_login(world["facilitator"])
    url = reverse("facilitate_pdf", args=[world["session"].pk, document])
    _get(site_client, url, query)


ADMIN_PAGES = {
    "sessions": "/admin/sessions/",
    "sessions results": "/admin/sessions/results/",
    "registrations": "/admin/registrations/",
    "registrations results": "/admin/registrations/results/",
    "venues": "/admin/snippets/events/venue/",
    "venues results": "/admin/snippets/events/venue/results/",
    "attendance reports": "/admin/attendance/reports/",
    "attendance download": "/admin/attendance/reports/attendances.csv",
    "imports": "/admin/spreadsheets/imports/",
    "site history": "/admin/reports/site-history/",
    **{
        f"export {key}": f"/admin/spreadsheets/export/{key}/"
        for key in ("venues", "schedule", "registrations", "attendance")
    },
    **{
        f"import {key}": f"/admin/spreadsheets/import/{key}/"
        for key in ("venues", "schedule", "registrations", "attendance")
    },
    "calendar import": "/admin/events/import-calendar/",
}


@pytest.mark.parametrize("page", ADMIN_PAGES)
@FUZZ
@given(query=query_strings)
def test_admin_listings_take_any_filters(client, world, coordinator, page, query):
    client.force_login(coordinator)
    _get(client, ADMIN_PAGES[page], query)


def test_the_fuzzed_admin_pages_are_every_resource_s():
    """A new resource is fuzzed too, or this fails."""
    keys = {
        page.split(" ", 1)[1]
        for page in ADMIN_PAGES
        if page[:7] in ("export ", "import ")
    }
    assert keys == set(resources())


# Uploads --------------------------------------------------------------------

#: The rows every import touches: none may change when an import fails.
MODELS = [EventPage, EventSession, Registration, Venue, AttendanceRecord]


def _counts():
    return [model.objects.count() for model in MODELS]


def _spreadsheet(headers, rows, file_format):
    if file_format == "xlsx":
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def clean(value):
            return ILLEGAL_CHARACTERS_RE.sub("", value)

        return xlsx_bytes([[clean(c) for c in row] for row in [headers, *rows]])
    if file_format == "json":
        return json.dumps(
            [dict(zip(headers, row, strict=False)) for row in rows]
        ).encode()
    return csv_bytes([headers, *rows])


@st.composite
def spreadsheet_files(draw, columns):
    """(name, bytes): random bytes, or a file in the resource's columns with
    arbitrary cells, or such a file with some bytes changed."""
    file_format = draw(st.sampled_from(["csv", "xlsx", "json"]))
    kind = draw(st.sampled_from(["bytes", "cells", "mutated"]))
    if kind == "bytes":
        return f"file.{file_format}", draw(st.binary(max_size=2000))
    headers = draw(
        st.lists(
            st.sampled_from(columns) | any_text, min_size=1, max_size=8, unique=True
        )
    )
    cell = any_text | st.sampled_from(["", "0", "-1", "2027-01-15 18:00", "1", "yes"])
    rows = draw(
        st.lists(
            st.lists(cell, min_size=len(headers), max_size=len(headers)), max_size=5
        )
    )
    data = _spreadsheet(headers, rows, file_format)
    if kind == "mutated" and data:
        # Positions are drawn whatever the file's length and wrapped onto it:
        # an .xlsx holds the time it was written, so its length varies.
        data = bytearray(data)
        for position, byte in draw(
            st.lists(
                st.tuples(st.integers(0, 2**20), st.integers(0, 255)),
                min_size=1,
                max_size=8,
            )
        ):
            data[position % len(data)] = byte
        data = bytes(data)
    return f"file.{file_format}", data


@pytest.mark.parametrize("key", ["venues", "schedule", "registrations", "attendance"])
@FUZZ
@given(data=st.data())
def test_spreadsheet_imports_take_any_file_and_a_failed_one_writes_nothing(
    client, world, coordinator, key, data
):
    client.force_login(coordinator)
    columns = list(resources()[key].columns)
    name, content = data.draw(spreadsheet_files(columns))
    options = {"parent": world["index"].pk, "event": world["event"].pk}
    options = data.draw(st.sampled_from([options, {}]))
    skip_invalid = data.draw(st.booleans())
    before = _counts()
    jobs = set(ImportJob.objects.values_list("pk", flat=True))
    upload = {"file": SimpleUploadedFile(name, content), **options}
    if skip_invalid:
        upload["skip_invalid"] = "on"
    _post(client, reverse("spreadsheets_import", args=[key]), upload)
    assert _counts() == before  # the check is a dry run
    job = ImportJob.objects.exclude(pk__in=jobs).first()
    if job is None:
        return
    _get(client, reverse("spreadsheets_job", args=[job.pk]), "problems=1")
    _post(client, reverse("spreadsheets_confirm", args=[job.pk]), {})
    job.refresh_from_db()
    if job.status != ImportJob.Status.DONE:
        assert _counts() == before


def _mutations(data):
    return st.lists(
        st.tuples(st.integers(0, len(data) - 1), st.binary(max_size=6)),
        min_size=1,
        max_size=6,
    ).map(lambda edits: _apply(data, edits))


def _apply(data, edits):
    data = bytearray(data)
    for position, replacement in edits:
        data[position : position + len(replacement) or position + 1] = replacement
    return bytes(data)


VALID_ICS = ics(BOOK_CLUB, FAIR)
ics_lines = st.sampled_from(
    [
        "RRULE:FREQ=MINUTELY",
        "RRULE:FREQ=DAILY;COUNT=99999",
        "RRULE:FREQ=WEEKLY;UNTIL=20270101",
        "RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=1",
        "EXDATE:20261215",
        "RDATE;VALUE=PERIOD:20261201T100000Z/PT1H",
        "DTEND;VALUE=DATE:19000101",
        "DURATION:-P1D",
        "RECURRENCE-ID:20261208T180000",
        "STATUS:CANCELLED",
        "LOCATION:https://zoom.us/j/1",
        "URL:javascript:alert(1)",
    ]
)


@st.composite
def calendar_files(draw):
    kind = draw(st.sampled_from(["bytes", "lines", "mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "mutated":
        return draw(_mutations(VALID_ICS))
    extra = draw(st.lists(ics_lines | any_text.map(lambda t: f"X-{t}"), max_size=4))
    event = BOOK_CLUB.replace("END:VEVENT", "\r\n".join([*extra, "END:VEVENT"]))
    return ics(event, FAIR)


@FUZZ
@given(content=calendar_files(), source=any_text)
def test_calendar_import_takes_any_file_and_a_failed_one_writes_nothing(
    client, world, coordinator, content, source
):
    client.force_login(coordinator)
    before = _counts()
    url = reverse("events_ics_import")
    _post(
        client,
        url,
        {
            "calendar_file": SimpleUploadedFile("partner.ics", content),
            "source": source,
            "parent": world["index"].pk,
        },
    )
    assert _counts() == before  # a preview only
    response = _post(client, url, {"confirm": "1"})
    imported = reverse("wagtailadmin_explore", args=[world["index"].pk])
    if response.get("Location") != imported:
        assert _counts() == before
