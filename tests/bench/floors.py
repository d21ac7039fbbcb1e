"""Floor views: the same templates, rendered with the fewest queries we can write.

Each floor is a bare Django function view that fetches exactly the rows its
page shows, with hand-written queries, and renders the page's own template
with ``render_to_string`` (so the context processors run, as for the real
page). It skips Wagtail's routing, hooks and privacy checks, so its time is
roughly the least the page could cost. The bench data has no private pages,
so skipping the privacy checks does not change which rows are shown.

Queries the templates themselves make (site settings, navigation, a page's
parent and topics) happen in both the page and its floor.

Two floors stand under a sign-up POST:

* ``sign_up_floor`` only validates the form: the least a POST costs
  through the middleware, with no database at all.
* ``sign_up_write_floor`` is the honest write floor: it validates the same
  form and then, in one transaction of hand-written SQL
  (``connection.cursor``), locks the event's row, counts its confirmed
  places, inserts the registration row (support needs encrypted, a manage
  token's salt and hash, as a sign-up stores them) and inserts the
  confirmation email's task row. Every write a sign-up cannot do without,
  and nothing else: no routing, checks, rate limit, consent, audit entry.
"""

import datetime as dt
import json
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_tasks_db.models import DBTaskResult
from taggit.models import Tag

from core import tokens
from core.encryption import encrypt
from events.forms import SignUpForm
from events.listing import CountingUpToPaginator, EventFilterForm
from events.models import (
    EventIndexPage,
    EventPage,
    EventSession,
    Registration,
    RegistrationStatus,
)
from events.registration import TOKEN_PURPOSE, registration_refusal
from events.tasks import send_messages


def listing_floor(request, pk):
    """The events listing: first page of upcoming sessions, unfiltered."""
    page = get_object_or_404(EventIndexPage, pk=pk)
    topics = Tag.objects.filter(
        events_eventtopic_items__content_object__live=True,
        events_eventtopic_items__content_object__path__startswith=page.path,
        events_eventtopic_items__content_object__depth__gt=page.depth,
    )
    form = EventFilterForm(None, topics=topics.distinct().order_by("name"))
    sessions = (
        # ``upcoming()``: ends ahead, starts at most a week back, as the
        # listing's own query.
        EventSession.objects.upcoming()
        .filter(event__live=True)
        # By path prefix, as the listing: a depth condition lets SQLite
        # start from every event instead of walking sessions in order.
        .descendant_of(page)
        .select_related("event", "venue", "event__venue")
        .order_by("start", "pk")
    )
    # Counted only as far as the page says ("more than 500"), as the page is.
    paginator = CountingUpToPaginator(
        sessions,
        settings.GATHER_LISTING_PAGE_SIZE,
        count_limit=settings.GATHER_LISTING_COUNT_LIMIT,
    )
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "self": page,
        "filter_form": form,
        "page_obj": page_obj,
        "sessions": page_obj.object_list,
        "query_string": "",
    }
    html = render_to_string("events/event_index_page.html", context, request=request)
    return HttpResponse(html)


def event_floor(request, pk):
    """One event: the page with its venue and workshop, sessions, facilitators."""
    confirmed = Q(registrations__status=RegistrationStatus.CONFIRMED)
    page = get_object_or_404(
        EventPage.objects.select_related("venue", "workshop").annotate(
            # Read by the template through ``places_left``; saves a query.
            confirmed_count=Count("registrations", filter=confirmed)
        ),
        pk=pk,
    )
    sessions = list(page.sessions.select_related("venue").order_by("start"))
    venues = [page.venue] if page.venue else []
    for session in sessions:
        if session.venue and session.venue not in venues:
            venues.append(session.venue)
    context = {
        "page": page,
        "self": page,
        "sessions": sessions,
        "signup_refusal": refusal(page, sessions) if page.registration_on else None,
        "facilitators": list(page.facilitators.order_by("first_name", "last_name")),
        "session_venues": venues,
    }
    html = render_to_string("events/event_page.html", context, request=request)
    return HttpResponse(html)


def refusal(page, sessions):
    """``registration_refusal`` for ``page``, using sessions already loaded."""
    return registration_refusal(page, sessions=sessions)


@never_cache
def sign_up_floor(request):
    """A sign-up POST that only validates the form, then redirects.

    It goes through the same middleware as the real sign-up (CSRF included,
    so it is not exempt) and is ``never_cache`` like it, but skips Wagtail's
    routing, the sign-up checks, the rate limit and every database write.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Invalid sign-up.", status=400)
    return redirect(request.path + "thanks/")


def _write_floor_sql():
    """The floor's statements, with the tables' real names."""
    registration = Registration._meta.db_table
    task = DBTaskResult._meta.db_table
    event = EventPage._meta.db_table
    return {
        "lock": f'SELECT 1 FROM "{event}" WHERE page_ptr_id = %s FOR UPDATE',
        "count": (
            f'SELECT count(*) FROM "{registration}" WHERE event_id = %s'
            " AND session_id IS NULL AND status = %s"
        ),
        "registration": (
            f'INSERT INTO "{registration}" (event_id, session_id, name, email,'
            " phone, phone_as_typed, call_times, voicemail_ok, support_needs,"
            " status, waitlist_position, token_salt, manage_token_hash,"
            " created_at, updated_at) VALUES"
            " (%s, NULL, %s, %s, %s, '', '', false, %s, %s, NULL, %s, %s, %s, %s)"
            " RETURNING id"
        ),
        "task": (
            f'INSERT INTO "{task}" (id, status, args_kwargs, priority, task_path,'
            " queue_name, backend_name, run_after, enqueued_at, return_value,"
            " exception_class_path, traceback, worker_ids) VALUES"
            " (%s, 'READY', %s, 0, %s, 'default', 'default', %s, %s, NULL, '', '',"
            " '[]')"
        ),
    }


#: Where django_tasks_db stores "no run_after" (the far future).
_NO_RUN_AFTER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@never_cache
def sign_up_write_floor(request, event_id):
    """The least a sign-up that writes can cost: lock, count, two INSERTs.

    The same middleware, the same form validation, then one transaction of
    plain SQL: the event's row lock (``SELECT ... FOR UPDATE``), the count
    of its confirmed places, the registration row and the task row of the
    confirmation email (as ``core.background.enqueue_on_commit`` writes it
    with the database task backend). The capacity is not compared (the
    bench events never fill), and every check, the rate limit, consent rows
    and the audit entry are left out: those are what the sign-up may cost
    on top, and the benchmark's ratio shows how much.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Invalid sign-up.", status=400)
    data = form.cleaned_data
    sql = _write_floor_sql()
    salt = tokens.new_salt()
    token_hash = tokens.hash_token(tokens.derive_token(TOKEN_PURPOSE, salt))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql["lock"], [event_id])
        if cursor.fetchone() is None:
            return HttpResponse("No such event.", status=404)
        cursor.execute(sql["count"], [event_id, RegistrationStatus.CONFIRMED])
        cursor.fetchone()
        cursor.execute(
            sql["registration"],
            [
                event_id,
                data["name"].strip(),
                data["email"].strip(),
                "",
                encrypt(data["support_needs"].strip()),
                RegistrationStatus.CONFIRMED,
                salt,
                token_hash,
                now,
                now,
            ],
        )
        (registration_id,) = cursor.fetchone()
        args_kwargs = {
            "args": [[registration_id], "confirmed"],
            "kwargs": {
                "session_id": None,
                "group_message_id": None,
                "series_change_id": None,
            },
        }
        cursor.execute(
            sql["task"],
            [
                uuid.uuid4(),
                json.dumps(args_kwargs),
                send_messages.module_path,
                _NO_RUN_AFTER,
                now,
            ],
        )
    return redirect(request.path + "thanks/")
