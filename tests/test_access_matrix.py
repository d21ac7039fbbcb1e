"""Who may open every screen that shows or changes participant data.

Seven roles (anonymous, a facilitator of the event, a facilitator of
another event, a former facilitator still listed on the event but no
longer in the Facilitators group, an editor, a coordinator, a superuser)
against every such URL; each outcome is asserted, and so is the response
body: the participant's name where access is allowed and the screen shows
people, never where it is refused.

``test_every_url_pattern_is_decided`` walks the project's URL patterns
(Gather's own views, and every pattern in a namespace that has one, so the
Wagtail generic views of Gather's viewsets count too) and fails for any
that is neither in ``MATRIX`` nor in ``NO_PARTICIPANT_DATA`` with a reason:
a new screen cannot be added without deciding who may open it.

The people and events are built once for the module inside an outer
transaction (as ``tests/website/conftest.py``'s ``demo``); each test runs in
a savepoint, so what a POST changes is undone after it.
"""

import dataclasses
import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from attendance.group_messages import fingerprint
from attendance.models import AttendanceRecord, AttendanceStatus, FollowUp
from events.calendars import feed_token
from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from events.models import (
    CallReason,
    CallRequest,
    EventIndexPage,
    EventSession,
    MessageKind,
)
from spreadsheets.models import ExportJob, ImportJob
from tests.conftest import make_event, make_session, role_group, sign_up
from website.models import HomePage

pytestmark = pytest.mark.django_db

#: The participant every screen is asked about; no other text has this name.
NAME = "Zebediah Quartermaine"

ROLES = (
    "anonymous",
    "facilitator",
    "other_facilitator",
    "former_facilitator",
    "editor",
    "coordinator",
    "superuser",
)

#: Outcomes. OK: 200 and, for a screen that shows people, the name in the
#: body. DONE: a change accepted (a redirect, not to a login page). HIDDEN:
#: 200 without the name (or the marker). LOGIN: sent to a login page.
#: ADMIN_HOME: sent to the admin's dashboard, Wagtail's refusal of a screen
#: to someone who may use the admin but not that screen.
OK, DONE, HIDDEN, LOGIN = "ok", "done", "hidden", "login"
ADMIN_HOME = "admin home"
FORBIDDEN, NOT_FOUND = 403, 404


@dataclasses.dataclass
class World:
    """What the matrix is asked about."""

    users: dict
    event: object
    other_event: object
    session: object
    registration: object
    #: Has no attendance, so it may be deleted (added by mistake).
    junior: object
    job: object
    #: A finished background export of the coordinator's, naming them.
    export_job: object
    #: A waiting call to ``junior``.
    call: object
    #: The same call, in the coordinators' follow-up inbox.
    follow_up: object


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Two events, one person registered on the first (with attendance and
    an import preview naming them), and a user per role; built once for the
    module and rolled back after it."""
    with django_db_blocker.unblock():
        atomics = [transaction.atomic(using=alias) for alias in connections]
        for atomic in atomics:
            atomic.__enter__()
    try:
        with django_db_blocker.unblock():
            yield build_world()
    finally:
        with django_db_blocker.unblock():
            for alias, atomic in reversed(list(zip(connections, atomics, strict=True))):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)


def build_world() -> World:
    home = HomePage.objects.get()
    index = EventIndexPage(title="Groups", slug="matrix-groups")
    home.add_child(instance=index)
    event = make_event(
        index, title="Tuesday circle", registration_mode="required", capacity=5
    )
    other_event = make_event(index, title="Thursday walk", registration_mode="required")
    session = make_session(event)
    other_session = make_session(other_event)
    registration = sign_up(event, NAME, email="zq@example.org")
    # A second person with no email: the session screens name them as
    # someone to phone.
    junior = sign_up(event, NAME + " Junior", email="", phone="416 555 0200")
    sign_up(other_event, "Other Person", email="op@example.org")
    # Only a call reaches them: the call list names them.
    call = CallRequest.objects.create(
        registration=junior, reason=CallReason.PROMOTED, kind=MessageKind.PROMOTED
    )
    # Started an hour ago (after people signed up), so attendance can be
    # taken now.
    start = timezone.now() - dt.timedelta(hours=1)
    EventSession.objects.filter(pk__in=[session.pk, other_session.pk]).update(
        start=start, end=start + dt.timedelta(hours=2)
    )
    session.refresh_from_db()
    AttendanceRecord.objects.create(
        session=session, registration=registration, status=AttendanceStatus.PRESENT
    )

    users_model = get_user_model()
    groups = {
        name: role_group(name)
        for name in (COORDINATORS_GROUP, FACILITATORS_GROUP, EDITORS_GROUP)
    }

    def user(username, *group_names, **fields):
        person = users_model.objects.create_user(username, password="pw", **fields)
        person.groups.add(*(groups[name] for name in group_names))
        return person

    users = {
        "anonymous": None,
        "facilitator": user("fac", FACILITATORS_GROUP),
        "other_facilitator": user("other", FACILITATORS_GROUP),
        "former_facilitator": user("former", FACILITATORS_GROUP),
        "editor": user("editor", EDITORS_GROUP),
        "coordinator": user("coordinator", COORDINATORS_GROUP),
        "superuser": user("root", is_superuser=True, is_staff=True),
    }
    event.facilitators.add(users["facilitator"], users["former_facilitator"])
    event.save()
    other_event.facilitators.add(users["other_facilitator"])
    other_event.save()
    # Left the group; still listed on the event.
    users["former_facilitator"].groups.remove(groups[FACILITATORS_GROUP])
    job = ImportJob.objects.create(
        resource="registrations",
        user=users["coordinator"],
        file_name="people.csv",
        data=b"",
        status=ImportJob.Status.DONE,
        total_rows=1,
        preview={
            "headers": ["name"],
            "rows": [[2, "new", [NAME], {}, ""]],
            "totals": {"new": 1},
        },
    )
    export_job = ExportJob.objects.create(
        user=users["coordinator"],
        export="registrations",
        file_format="csv",
        status=ExportJob.Status.DONE,
        total_rows=1,
        processed_rows=1,
        file_name="registrations.csv",
    )
    export_job.file.save(
        "registrations.csv", ContentFile(f"name\n{NAME}\n".encode()), save=True
    )
    follow_up = FollowUp.objects.create(kind="call", event=event, call_request=call)
    return World(
        users=users,
        event=event,
        other_event=other_event,
        session=session,
        registration=registration,
        junior=junior,
        job=job,
        export_job=export_job,
        call=call,
        follow_up=follow_up,
    )


@dataclasses.dataclass(frozen=True)
class Case:
    """One URL asked of every role: how to build the request, what each
    role gets, and what an allowed answer must hold."""

    name: str
    url: object  # (world, role) -> URL
    outcomes: dict
    method: str = "get"
    data: object = None  # (world) -> POST data
    #: Text an allowed answer holds (``NAME`` unless the screen names nobody).
    marker: str | None = NAME
    #: The content type of an allowed answer, when not HTML.
    content_type: str = "text/html"


def roles(*, anonymous, facilitator, other, former, editor, coordinator, superuser):
    return dict(
        zip(
            ROLES,
            (anonymous, facilitator, other, former, editor, coordinator, superuser),
            strict=True,
        )
    )


def coordinators_only(refused=ADMIN_HOME, *, allowed=OK):
    """Coordinators and superusers. The admin sends anyone without admin
    access (anonymous, a former facilitator) to its login page, and anyone
    else without the permission to its dashboard."""
    return roles(
        anonymous=LOGIN,
        facilitator=refused,
        other=refused,
        former=LOGIN,
        editor=refused,
        coordinator=allowed,
        superuser=allowed,
    )


def one_registration(coordinator=OK):
    """A screen of one registration: it is looked up among those the user
    may see first (``registrations_visible_to``), so another group's
    facilitator and an editor get a 404; the event's own facilitator finds
    it, but holds no permission on registrations in the admin (their
    people are in the facilitator area)."""
    return roles(
        anonymous=LOGIN,
        facilitator=ADMIN_HOME,
        other=NOT_FOUND,
        former=LOGIN,
        editor=NOT_FOUND,
        coordinator=coordinator,
        superuser=OK,
    )


def own_export():
    """A background export's page and file: the person who asked for it
    only; a 404 for anyone else who may use the admin."""
    return roles(
        anonymous=LOGIN,
        facilitator=NOT_FOUND,
        other=NOT_FOUND,
        former=LOGIN,
        editor=NOT_FOUND,
        coordinator=OK,
        superuser=NOT_FOUND,
    )


def session_people(allowed=OK, *, other=NOT_FOUND):
    """The facilitator area of one session: its facilitators (while in the
    group), coordinators and superusers; a 404 for anyone else."""
    return roles(
        anonymous=LOGIN,
        facilitator=allowed,
        other=other,
        former=NOT_FOUND,
        editor=NOT_FOUND,
        coordinator=allowed,
        superuser=allowed,
    )


def group_messages(allowed=OK):
    """Messages to the event's people: its facilitators (while in the
    group), coordinators and superusers; a 403 page for anyone else who
    may use the admin."""
    return roles(
        anonymous=LOGIN,
        facilitator=allowed,
        other=FORBIDDEN,
        former=LOGIN,
        editor=FORBIDDEN,
        coordinator=allowed,
        superuser=allowed,
    )


def event_titles(hidden=HIDDEN):
    """The event chooser: anyone who may use the admin, each offered the
    events whose people they may see; another event is left out (or,
    asked for by id, a 404)."""
    return roles(
        anonymous=LOGIN,
        facilitator=OK,
        other=hidden,
        former=LOGIN,
        editor=hidden,
        coordinator=OK,
        superuser=OK,
    )


def reg_url(name):
    return lambda w, role: reverse(
        f"event_registrations:{name}", args=[w.registration.pk]
    )


def session_url(name, **kwargs):
    return lambda w, role: reverse(name, args=[w.session.pk], **kwargs)


def pdf_url(document, query=""):
    return lambda w, role: (
        reverse("facilitate_pdf", args=[w.session.pk, document]) + query
    )


def feed_url(w, role):
    user = w.users[role]
    token = feed_token(user) if user else "x" * 43
    return reverse("facilitator_calendar_feed", args=[token])


MATRIX = [
    # Admin registrations: coordinators only (model permissions and
    # registrations_visible_to agree).
    Case(
        "event_registrations:index",
        lambda w, role: reverse("event_registrations:index"),
        coordinators_only(),
    ),
    Case(
        "event_registrations:index_results",
        lambda w, role: reverse("event_registrations:index_results") + "?q=Zebediah",
        coordinators_only(),
    ),
    Case(
        "event_registrations:add",
        lambda w, role: reverse("event_registrations:add"),
        coordinators_only(),
        marker=None,
    ),
    Case("event_registrations:edit", reg_url("edit"), coordinators_only()),
    Case(
        "event_registrations:delete",
        lambda w, role: reverse("event_registrations:delete", args=[w.junior.pk]),
        one_registration(coordinator=ADMIN_HOME),
        marker=None,
    ),
    Case(
        "event_registrations:history",
        reg_url("history"),
        one_registration(),
        marker="Registration",
    ),
    Case(
        "event_registrations:history_results",
        reg_url("history_results"),
        one_registration(),
        marker="Registration",
    ),
    Case(
        "event_registrations:usage", reg_url("usage"), one_registration(), marker=None
    ),
    Case("event_registrations:inspect", reg_url("inspect"), one_registration()),
    Case("event_registrations:cancel", reg_url("cancel"), one_registration()),
    Case("event_registrations:promote", reg_url("promote"), one_registration()),
    Case("event_registrations:move", reg_url("move"), one_registration()),
    Case(
        "event_registrations:capacity",
        lambda w, role: reverse("event_registrations:capacity", args=[w.event.pk]),
        one_registration(),
        marker=None,
    ),
    # Session screens say whom to phone about a change, by name.
    Case(
        "event_sessions:edit",
        lambda w, role: reverse("event_sessions:edit", args=[w.session.pk]),
        coordinators_only(),
        marker=NAME + " Junior",
    ),
    Case(
        "event_sessions:cancel",
        lambda w, role: reverse("event_sessions:cancel", args=[w.session.pk]),
        coordinators_only(),
        marker=NAME + " Junior",
    ),
    # Its preview names whom to phone; the form itself names nobody.
    Case(
        "event_sessions:rest_of_series",
        lambda w, role: reverse("event_sessions:rest_of_series", args=[w.session.pk]),
        coordinators_only(),
        marker=None,
    ),
    # Spreadsheets.
    Case(
        "spreadsheets_export",
        lambda w, role: reverse("spreadsheets_export", args=["registrations"]),
        coordinators_only(),
        content_type="text/csv",
    ),
    Case(
        "spreadsheets_export:attendance",
        lambda w, role: reverse("spreadsheets_export", args=["attendance"]),
        roles(
            anonymous=LOGIN,
            facilitator=OK,
            # Their own event's attendance only: the row naming this
            # person is not in it.
            other=HIDDEN,
            former=LOGIN,
            editor=ADMIN_HOME,
            coordinator=OK,
            superuser=OK,
        ),
        content_type="text/csv",
    ),
    Case(
        "spreadsheets_import",
        lambda w, role: reverse("spreadsheets_import", args=["registrations"]),
        coordinators_only(),
        marker=None,
    ),
    Case(
        "spreadsheets_job",
        lambda w, role: reverse("spreadsheets_job", args=[w.job.pk]),
        coordinators_only(NOT_FOUND),
    ),
    Case(
        "spreadsheets_confirm",
        lambda w, role: reverse("spreadsheets_confirm", args=[w.job.pk]),
        coordinators_only(NOT_FOUND, allowed=DONE),
        method="post",
        marker=None,
    ),
    # A background export: its owner only, superusers included (the file is
    # the asker's), while they may still export it.
    Case(
        "spreadsheets_export_job",
        lambda w, role: reverse("spreadsheets_export_job", args=[w.export_job.pk]),
        own_export(),
        marker="registrations.csv",
    ),
    Case(
        "spreadsheets_export_download",
        lambda w, role: reverse("spreadsheets_export_download", args=[w.export_job.pk]),
        own_export(),
        content_type="text/csv",
    ),
    # Finding a person to erase: coordinators only, a page of its own for
    # anyone else.
    Case(
        "erase_person",
        lambda w, role: reverse("erase_person"),
        coordinators_only(FORBIDDEN),
        method="post",
        data=lambda w: {"email": "zq@example.org", "phone": ""},
    ),
    # The call list: coordinators every call, facilitators their own
    # events' (a 403 for marking another's), a 403 page for editors.
    Case(
        "event_calls",
        lambda w, role: reverse("event_calls"),
        roles(
            anonymous=LOGIN,
            facilitator=OK,
            other=HIDDEN,
            former=LOGIN,
            editor=FORBIDDEN,
            coordinator=OK,
            superuser=OK,
        ),
    ),
    Case(
        "event_calls_mark",
        lambda w, role: reverse("event_calls_mark", args=[w.call.pk]),
        roles(
            anonymous=LOGIN,
            facilitator=DONE,
            other=FORBIDDEN,
            former=LOGIN,
            editor=FORBIDDEN,
            coordinator=DONE,
            superuser=DONE,
        ),
        method="post",
        data=lambda w: {"outcome": "no_answer"},
        marker=None,
    ),
    # Attendance reports: numbers about participants, coordinators only.
    Case(
        "attendance_reports",
        lambda w, role: reverse("attendance_reports"),
        coordinators_only(FORBIDDEN),
        marker=None,
    ),
    Case(
        "attendance_reports_pdf",
        lambda w, role: reverse("attendance_reports_pdf"),
        coordinators_only(FORBIDDEN),
        marker=None,
        content_type="application/pdf",
    ),
    Case(
        "attendance_report_download",
        lambda w, role: reverse("attendance_report_download", args=["overview", "csv"]),
        coordinators_only(FORBIDDEN),
        marker=None,
        content_type="text/csv",
    ),
    # Messages to a group: coordinators any event, facilitators their own
    # (another event's facilitator and an editor get a 403 page). The
    # screens name nobody; the event is picked in the event chooser, which
    # lists only messageable events: choosing one leads on to writing to it,
    # choosing another's is the form's error, naming no event.
    Case(
        "attendance_group_message_choose",
        lambda w, role: (
            reverse("attendance_group_message_choose") + f"?event={w.event.pk}"
        ),
        roles(
            anonymous=LOGIN,
            facilitator=DONE,
            other=HIDDEN,
            former=LOGIN,
            editor=FORBIDDEN,
            coordinator=DONE,
            superuser=DONE,
        ),
        marker="Tuesday circle",
    ),
    # The event chooser (events.choosers) names events, not people: the
    # events the user may see (events_visible_to), and no other by its id.
    Case(
        "event_chooser:choose",
        lambda w, role: reverse("event_chooser:choose"),
        event_titles(),
        marker="Tuesday circle",
        content_type="application/json",
    ),
    Case(
        "event_chooser:choose_results",
        lambda w, role: reverse("event_chooser:choose_results") + "?q=Tuesday",
        event_titles(),
        marker="Tuesday circle",
    ),
    Case(
        "event_chooser:chosen",
        lambda w, role: reverse("event_chooser:chosen", args=[w.event.pk]),
        event_titles(hidden=NOT_FOUND),
        marker="Tuesday circle",
        content_type="application/json",
    ),
    Case(
        "event_chooser:chosen_multiple",
        lambda w, role: reverse("event_chooser:chosen_multiple") + f"?id={w.event.pk}",
        event_titles(),
        marker="Tuesday circle",
        content_type="application/json",
    ),
    Case(
        "attendance_group_message_compose",
        lambda w, role: reverse("attendance_group_message_compose", args=[w.event.pk]),
        group_messages(),
        marker=None,
    ),
    Case(
        "attendance_group_message_compose:preview",
        lambda w, role: reverse("attendance_group_message_compose", args=[w.event.pk]),
        group_messages(),
        method="post",
        data=lambda w: {"audience": "confirmed", "body": "Room 204.", "preview": "1"},
        marker="Send to 2 people",
    ),
    Case(
        "attendance_group_message_compose:send",
        lambda w, role: reverse("attendance_group_message_compose", args=[w.event.pk]),
        group_messages(DONE),
        method="post",
        data=lambda w: {
            "audience": "confirmed",
            "body": "Room 204.",
            "confirm": "1",
            "previewed": fingerprint(
                event=w.event, audience="confirmed", session=None, body="Room 204."
            ),
        },
        marker=None,
    ),
    Case(
        "attendance_group_messages",
        lambda w, role: reverse("attendance_group_messages", args=[w.event.pk]),
        group_messages(),
        marker=None,
    ),
    # The follow-up inbox: coordinators only, a page of its own for anyone
    # else. A call waiting names the person by first name and initial.
    Case(
        "follow_ups",
        lambda w, role: reverse("follow_ups"),
        coordinators_only(FORBIDDEN),
        marker="Zebediah J.",
    ),
    Case(
        "follow_up_action",
        lambda w, role: reverse("follow_up_action", args=[w.follow_up.pk]),
        coordinators_only(FORBIDDEN, allowed=DONE),
        method="post",
        data=lambda w: {"action": "acknowledge"},
        marker=None,
    ),
    Case(
        "follow_up_preferences",
        lambda w, role: reverse("follow_up_preferences"),
        coordinators_only(FORBIDDEN, allowed=DONE),
        method="post",
        data=lambda w: {"daily_digest": "on"},
        marker=None,
    ),
    # The facilitator area.
    Case(
        "facilitate",
        lambda w, role: reverse("facilitate"),
        roles(
            anonymous=LOGIN,
            facilitator=OK,
            other=HIDDEN,
            former=HIDDEN,
            editor=HIDDEN,
            coordinator=OK,
            superuser=OK,
        ),
        marker="Tuesday circle",
    ),
    Case("facilitate_session", session_url("facilitate_session"), session_people()),
    Case(
        "facilitate_attendance",
        session_url("facilitate_attendance"),
        session_people(DONE),
        method="post",
        data=lambda w: {f"status-{w.registration.pk}": "late"},
        marker=None,
    ),
    Case(
        "facilitate_walk_in",
        session_url("facilitate_walk_in"),
        session_people(DONE),
        method="post",
        data=lambda w: {"name": "Walk In"},
        marker=None,
    ),
    Case(
        "facilitate_headcount",
        session_url("facilitate_headcount"),
        session_people(DONE),
        method="post",
        data=lambda w: {"attendees": "3", "walk_ins": "0"},
        marker=None,
    ),
    Case(
        "facilitate_note",
        session_url("facilitate_note"),
        session_people(DONE),
        method="post",
        data=lambda w: {"covered": "Check-in and a talk."},
        marker=None,
    ),
    Case(
        "facilitate_check_in_screen",
        session_url("facilitate_check_in_screen"),
        session_people(),
        marker=None,
    ),
    Case(
        "facilitate_pdf",
        pdf_url("sign-in-sheet", "?names=full"),
        session_people(),
        marker=None,
        content_type="application/pdf",
    ),
    Case(
        "facilitate_pdf:register",
        pdf_url("register"),
        session_people(),
        marker=None,
        content_type="application/pdf",
    ),
    Case(
        "facilitate_pdf:pack",
        pdf_url("pack"),
        session_people(),
        marker=None,
        content_type="application/pdf",
    ),
    # Each role's own private feed: the event's sessions only for its
    # facilitators while in the group.
    Case(
        "facilitator_calendar_feed",
        feed_url,
        roles(
            anonymous=NOT_FOUND,
            facilitator=OK,
            other=HIDDEN,
            former=HIDDEN,
            editor=HIDDEN,
            coordinator=HIDDEN,
            superuser=HIDDEN,
        ),
        marker="Tuesday circle",
        content_type="text/calendar",
    ),
    # Wagtail's own screens where registrations could show.
    Case(
        "wagtailadmin_pages:edit",
        lambda w, role: reverse("wagtailadmin_pages:edit", args=[w.event.pk]),
        roles(
            anonymous=LOGIN,
            facilitator=ADMIN_HOME,
            other=ADMIN_HOME,
            former=LOGIN,
            # Editors write the page; its sessions panel holds no count
            # of, nor link to, its people for them.
            editor=HIDDEN,
            coordinator=OK,
            superuser=OK,
        ),
        marker="See registrations",
    ),
    Case(
        "wagtailadmin_reports:site_history",
        lambda w, role: reverse("wagtailadmin_reports:site_history"),
        roles(
            anonymous=LOGIN,
            facilitator=HIDDEN,
            other=HIDDEN,
            former=LOGIN,
            editor=HIDDEN,
            coordinator=OK,
            superuser=OK,
        ),
        marker="Registration added",
    ),
    Case(
        "wagtailadmin_pages:search",
        lambda w, role: reverse("wagtailadmin_pages:search") + "?q=Zebediah",
        roles(
            anonymous=LOGIN,
            facilitator=ADMIN_HOME,
            other=ADMIN_HOME,
            former=LOGIN,
            editor=HIDDEN,
            coordinator=HIDDEN,
            superuser=HIDDEN,
        ),
    ),
]

#: URL patterns that show and change no participant data, and why.
NO_PARTICIPANT_DATA = {
    "gather_roles": "staff accounts only, for coordinators "
    "(tests/website/test_roles.py)",
    "events_ics_import": "creates sessions from a calendar; no people",
    "spreadsheets_jobs": "the user's own imports by file name, no rows",
    "spreadsheets_exports": "the user's own background exports by file name, no rows",
    "event_sessions:index": "sessions by time, status and venue; no people",
    "event_sessions:index_results": "the same listing's results",
    "event_sessions:add": "a new session has nobody to tell",
    "event_sessions:delete": "only a session added by mistake; no people",
    "event_sessions:history": "session entries hold ids and codes only",
    "event_sessions:history_results": "the same history's results",
    "event_sessions:usage": "what links to a session; no people",
    "event_sessions:stop_series": "a series' repeat rule and a last date; no "
    "people (tests/events/test_open_ended_series.py)",
    "event_sessions:inspect": "a session's own fields; no people",
    "event_sessions:reinstate": "says nobody by name",
    "event_sessions:series": "a form of dates",
    "favicon.ico": "an icon",
    "health": "the load balancer's liveness check: a fixed answer",
    "ready": "the load balancer's readiness check: check results and a "
    "task count, no people (tests/core/test_health.py)",
    "password_reset": "staff password reset (rate-limited elsewhere)",
    "password_reset_confirm": "staff password reset link; no people",
    "facilitator_calendar": "the user's own feed address",
    "check_in_start": "public: a form for a session's code",
    "check_in": "public and gated by the session's check-in code, not a "
    "role; first names and initials only (tests/attendance/test_facilitate.py)",
    "event_sign_up": "public sign-up form (its answers are tested in "
    "tests/events/test_sign_up_views.py)",
    "event_sign_up_thanks": "public thank-you page",
    "site_calendar_feed": "public sessions, no people",
    "event_calendar": "public sessions, no people",
    "session_calendar": "public session, no people",
    "registration_manage": "the person's own secret link, not a role",
    "registration_short_link": "the person's own secret link (from a text), not a role",
    "registration_cancel": "the person's own secret link, not a role",
    "registration_calendar": "the person's own secret link, not a role",
    "registration_consent": "the person's own secret link, not a role",
    "place_offer": "the person's own secret link (a waitlist offer), not a role",
    "place_offer_short_link": "the person's own secret link (from a text), not a role",
    "sms_status_twilio": "the SMS provider's signed delivery reports: POST "
    "only, answers no content (tests/core/test_sms.py)",
}
for _action in (
    "list",
    "list_results",
    "add",
    "edit",
    "delete",
    "usage",
    "history",
    "history_results",
    "copy",
):
    NO_PARTICIPANT_DATA[f"wagtailsnippets_events_venue:{_action}"] = "venues"

#: Apps whose views are Gather's own.
GATHER_APPS = ("events", "attendance", "spreadsheets", "website", "core", "workshops")


def _walk(patterns, route="", namespaces=()):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            spaces = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from _walk(pattern.url_patterns, route + str(pattern.pattern), spaces)
        elif isinstance(pattern, URLPattern):
            view = pattern.callback
            module = getattr(view, "view_class", view).__module__
            full = route + str(pattern.pattern)
            name = ":".join((*namespaces, pattern.name)) if pattern.name else full
            yield name, module


def gather_url_patterns() -> set:
    """Names (or routes, for unnamed ones) of every URL pattern whose view is
    Gather's, or that shares a namespace with one that is (a viewset's
    Wagtail generic views)."""
    found = list(_walk(get_resolver().url_patterns))
    ours = {name for name, module in found if module.split(".")[0] in GATHER_APPS}
    namespaces = {name.rsplit(":", 1)[0] for name in ours if ":" in name}
    return ours | {
        name
        for name, _ in found
        if ":" in name and name.rsplit(":", 1)[0] in namespaces
    }


def matrix_patterns() -> set:
    names = set()
    for case in MATRIX:
        head, _, tail = case.name.partition(":")
        # "facilitate_pdf:register" and "spreadsheets_export:attendance"
        # are a second case of an un-namespaced pattern.
        names.add(head if tail and not _is_namespace(head) else case.name)
    return names


def _is_namespace(name: str) -> bool:
    return name in get_resolver().namespace_dict


def test_every_url_pattern_is_decided():
    patterns = gather_url_patterns()
    decided = matrix_patterns() | set(NO_PARTICIPANT_DATA)
    assert sorted(patterns - decided) == [], (
        "These URL patterns are neither in the access matrix nor listed as "
        "showing no participant data: decide who may open them."
    )
    # Entries for screens that no longer exist are stale.
    assert sorted(set(NO_PARTICIPANT_DATA) - patterns) == []
    assert all(reason for reason in NO_PARTICIPANT_DATA.values())


def test_the_matrix_covers_every_role_on_every_case():
    for case in MATRIX:
        assert tuple(case.outcomes) == ROLES, case.name


def _is_login_redirect(response) -> bool:
    if response.status_code != 302:
        return False
    location = response["Location"]
    return location.startswith(reverse("login")) or location.startswith(
        reverse("wagtailadmin_login")
    )


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def outcome(response, case) -> object:
    """What a response amounts to, in the matrix's terms."""
    status = response.status_code
    if status == 302:
        location = response["Location"]
        if _is_login_redirect(response):
            return LOGIN
        if location == reverse("wagtailadmin_home"):
            return ADMIN_HOME
        return DONE
    if status != 200:
        return status
    if not response["Content-Type"].startswith(case.content_type):
        return f"200 as {response['Content-Type']}"
    if case.marker and case.marker not in _body(response):
        return HIDDEN
    return OK


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", MATRIX, ids=lambda case: case.name)
def test_access(client, world, case, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = case.url(world, role)
    if case.method == "post":
        response = client.post(url, case.data(world) if case.data else {})
    else:
        response = client.get(url)
    assert outcome(response, case) == case.outcomes[role]
    if case.outcomes[role] != OK:
        # The surname: a search box may echo the first name it was asked.
        assert "Quartermaine" not in _body(response)


def test_the_walk_finds_the_generic_views_of_gather_s_viewsets():
    """Inherited Wagtail views (a session's inspect page) count as Gather's,
    Wagtail's own screens do not: they are asked about in the matrix by
    name where registrations could show."""
    patterns = gather_url_patterns()
    assert {"event_sessions:inspect", "event_registrations:history"} <= patterns
    assert {"facilitate_pdf", "gather_roles", "spreadsheets_export"} <= patterns
    assert "wagtailadmin_pages:edit" not in patterns
