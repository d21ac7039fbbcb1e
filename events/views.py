"""Public views: signing up for an event and managing a registration.

Views parse input, call ``events.registration`` and render; refusals become
messages, never errors. Manage links carry a secret token, so their pages
are never cached or sent on as a referrer.
"""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.lookups import StartsWith
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from wagtail.models import PageViewRestriction

from core import audit
from core.http import private
from core.prepared import PreparedQuery
from core.ratelimit import allow, limit_reached

from . import consent as consent_rules
from . import drop_in, messaging, offers
from . import registration as workflows
from .calendars import build_calendar, calendar_bytes
from .errors import EventsError
from .forms import DropInSignUpForm, SignUpForm
from .models import (
    Channel,
    EventPage,
    GroupMessage,
    PlaceOfferStatus,
    RegistrationQuestion,
    RegistrationStatus,
)
from .questions import questions_of


def _full_without_waitlist(event):
    return not event.waitlist_enabled and event.places_left == 0


#: Refusals that end the sign-up, shown instead of the form.
REFUSALS = {
    "no_registration",
    "not_published",
    "cancelled",
    "past",
    "not_open_yet",
    "closed",
    "full",
}


def published_events():
    """Live events without a privacy setting on them or a page above them,
    decided in the same query as the event is read: Wagtail's ``public()``
    reads every restriction of the site first, a query of its own."""
    restricted = PageViewRestriction.objects.filter(
        StartsWith(OuterRef("path"), F("page__path"))
    )
    return EventPage.objects.live().filter(~Exists(restricted))


def published_event_or_404(event_id, events=None):
    """A live event without a privacy setting, or 404 (for the sign-up form
    and the event's calendar file). ``events``: a narrower queryset of
    ``published_events``."""
    events = published_events() if events is None else events
    event = events.filter(pk=event_id).first()
    if event is None:
        raise Http404(_("There is no such event."))
    return event


@never_cache
def sign_up(request, event_id):
    """The sign-up form of an event.

    Served by a plain URL rather than as a route of the page: a sign-up POST
    is the busiest write in Gather, and Wagtail's page routing would cost
    as much as the sign-up itself. The live and privacy checks are the same.
    A GET checks whether sign-up is open to show the form or the reason it is
    not; a POST leaves every check to ``register``, which makes them under
    the event's lock anyway (``_post_series_sign_up``).

    A series sign-up POST costs six statements in a warm process (the
    benchmark's write floor four), besides BEGIN and COMMIT, all in one
    transaction: the event with its privacy and whether it asks questions,
    read under its row lock; its sessions with the person and the places
    counted in the same statement; and the INSERTs of the registration, its
    email task (with the database task backend), its consent and its audit
    entry. All of the queries are compiled once per process
    (``core.prepared``).
    """
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    refusal, status = None, 200
    if request.method == "POST":
        event, form, status, refusal = _post_series_sign_up(request, event_id)
        if form is None:
            # A drop-in: its dates are locked by ``register_sessions``.
            form = _sign_up_form(event, request.POST)
            try:
                status = _handle_sign_up(request, event, form)
            except EventsError as error:
                refusal, status = error, 409
        if status is None:
            return redirect("event_sign_up_thanks", event.pk)
    else:
        event = _SIGN_UP_EVENT.first(event_id)
        if event is None:
            raise Http404(_("There is no such event."))
        form = _sign_up_form(event, None)
        refusal = workflows.registration_refusal(event)
        if refusal is None and drop_in.is_per_session(event):
            if not form.session_rows:
                refusal = EventsError(
                    _("Sign-up for this event has closed."), code="closed"
                )
        elif refusal is None and _full_without_waitlist(event):
            refusal = EventsError(_("Sorry, this event is full."), code="full")
    context = {
        "page": event,
        "form": None if refusal else form,
        "refusal": refusal,
        "full": refusal is None
        and not drop_in.is_per_session(event)
        and event.places_left == 0,
        "per_session": drop_in.is_per_session(event),
    }
    return TemplateResponse(request, "events/sign_up.html", context, status=status)


#: The event of a sign-up form, live and without a privacy setting, and
#: whether it asks questions of its own, in one query: most ask none, and
#: then the form needs no query for them. Compiled once per process
#: (``core.prepared``): building this queryset cost more than running it.
_SIGN_UP_EVENT = PreparedQuery(
    lambda event_id: (
        published_events()
        .annotate(
            has_questions=Exists(
                RegistrationQuestion.objects.filter(event_id=OuterRef("pk"))
            )
        )
        .filter(pk=event_id)[:1]
    ),
    int,
)


#: ``_SIGN_UP_EVENT`` under the event's row lock (the lock every workflow
#: takes, ``events.registration._lock_event``), for a series sign-up POST:
#: the checks that it is published and the lock in one statement.
_LOCKED_SIGN_UP_EVENT = PreparedQuery(
    lambda event_id: (
        published_events()
        .select_for_update(of=("self",))
        .annotate(
            has_questions=Exists(
                RegistrationQuestion.objects.filter(event_id=OuterRef("pk"))
            )
        )
        .filter(pk=event_id)[:1]
    ),
    int,
)


def _post_series_sign_up(request, event_id):
    """A sign-up POST in one transaction: the event read under its lock,
    then the form, the rate limit and ``register(locked=True)``, so the
    event is neither read apart from its lock nor locked twice. Returns
    ``(event, form, status, refusal)`` as ``sign_up`` shows them: status
    None when registered (committed); anything else rolled back. A drop-in
    event gets ``form`` None and status 200, and is signed up for by
    ``_handle_sign_up`` after this transaction (its dates are locked by
    ``drop_in.register_sessions``). Raises Http404 for an unpublished event.
    """
    refusal, form, status = None, None, 200
    try:
        with transaction.atomic():
            event = _LOCKED_SIGN_UP_EVENT.first(event_id)
            if event is None:
                raise Http404(_("There is no such event."))
            if drop_in.is_per_session(event):
                transaction.set_rollback(True)
                return event, None, 200, None
            form = _sign_up_form(event, request.POST)
            status = _handle_sign_up(request, event, form, locked=True)
            if status is not None:
                transaction.set_rollback(True)
    except EventsError as error:
        refusal, status = error, 409
    return event, form, status, refusal


def _sign_up_form(event, data):
    """The series form, or for a drop-in the form with a box per open date
    and where each stands (one count query for all of them)."""
    questions = questions_of(event) if getattr(event, "has_questions", True) else []
    if not drop_in.is_per_session(event):
        return SignUpForm(data, questions=questions)
    sessions = list(drop_in.open_sessions(event))
    for session in sessions:
        session.event = event
    return DropInSignUpForm(
        data,
        sessions=sessions,
        places=drop_in.places_by_session(sessions),
        questions=questions,
    )


def _handle_sign_up(request, event, form, *, locked=False):
    """Register from a posted form; None on success, else the status to show.

    Raises the workflow's EventsError when sign-up is refused outright.
    ``locked``: a series sign-up whose transaction holds the event's lock
    (``_post_series_sign_up``).
    """
    if not allow(
        request,
        scope="sign-up",
        limit=settings.GATHER_SIGNUP_RATE_LIMIT,
        window=settings.GATHER_SIGNUP_RATE_WINDOW,
    ):
        form.is_valid()
        form.add_error(
            None,
            _(
                "There have been too many sign-ups from your connection. Please "
                "wait a few minutes and try again; what you typed is kept below."
            ),
        )
        return 429
    if not form.is_valid():
        return 200
    if form.is_spam:
        return None  # look like success; keep nothing
    data = form.cleaned_data
    if isinstance(form, DropInSignUpForm):
        return _handle_drop_in(event, form)
    try:
        workflows.register(
            event=event,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            support_needs=data["support_needs"],
            call_times=data["call_times"],
            voicemail_ok=data["voicemail_ok"],
            consent=form.consent_channels,
            answers=form.answers_from(),
            by=audit.PARTICIPANT,
            locked=locked,
        )
    except EventsError as error:
        if error.code in REFUSALS:
            raise
        form.add_error(None, error.message)
        return 400
    return None


def _handle_drop_in(event, form):
    """``_handle_sign_up`` for the dates ticked on a drop-in's form; a
    problem with a date is shown next to the dates."""
    data = form.cleaned_data
    try:
        drop_in.register_sessions(
            event=event,
            session_ids=form.session_ids,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            support_needs=data["support_needs"],
            call_times=data["call_times"],
            voicemail_ok=data["voicemail_ok"],
            consent=form.consent_channels,
            answers=form.answers_from(),
            by=audit.PARTICIPANT,
        )
    except EventsError as error:
        if error.code in drop_in.SESSION_ERRORS:
            form.add_error("sessions", error.message)
        elif error.code in REFUSALS:
            raise
        else:
            form.add_error(None, error.message)
        return 400
    return None


def sign_up_thanks(request, event_id):
    """The same answer for every sign-up, new or repeat."""
    event = published_event_or_404(event_id)
    return TemplateResponse(request, "events/sign_up_thanks.html", {"page": event})


def _registration_or_404(token, *, with_event=True):
    registration = workflows.find_by_token(token, with_event=with_event)
    if registration is None:
        raise Http404(_("This link is not valid. It may have been mistyped."))
    return registration


#: Wrong short links one address may try in SHORT_LINK_WINDOW seconds.
SHORT_LINK_LIMIT = 30
SHORT_LINK_WINDOW = 600


@require_http_methods(["GET"])
def short_link(request, code):
    """The short link a text message carries: on to the person's manage page.

    Its code holds 60 secret bits, so wrong codes are counted per address
    and refused once there are too many.
    """
    scope = "short-link"
    if limit_reached(
        request, scope=scope, limit=SHORT_LINK_LIMIT, window=SHORT_LINK_WINDOW
    ):
        return private(
            HttpResponse(
                _("Too many wrong links from this connection. Try again later."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        )
    registration = messaging.registration_for_short_code(code)
    if registration is None:
        allow(request, scope=scope, limit=SHORT_LINK_LIMIT, window=SHORT_LINK_WINDOW)
        raise Http404(_("This link is not valid. It may have been mistyped."))
    return private(
        redirect("registration_manage", workflows.manage_token(registration))
    )


@require_http_methods(["GET"])
def manage(request, token):
    """A person's own view of their place, reached from their private link."""
    registration = _registration_or_404(token)
    event = registration.event
    sessions = _sessions_of(registration).select_related("venue")
    venue = event.venue
    context = {
        "registration": registration,
        "event": event,
        "sessions": sessions,
        "session": registration.session,
        "other_dates": _other_dates(registration),
        "venue": venue,
        "token": token,
        "show_joining_link": registration.status == RegistrationStatus.CONFIRMED
        and venue is not None
        and venue.is_online,
        "contact": _contact_choices(registration),
        "group_messages": GroupMessage.objects.sent_to(registration).only(
            "body", "created_at"
        ),
        "offer": None,
    }
    if registration.status == RegistrationStatus.WAITLISTED:
        offer = offers.open_offer(registration)
        if offer is not None and offer.expires_at > timezone.now():
            context["offer"] = offer
            context["offer_path"] = reverse(
                "place_offer", args=[offers.offer_token(offer)]
            )
    return private(TemplateResponse(request, "events/manage.html", context))


def _sessions_of(registration):
    """The sessions a registration covers: the series, or its one date."""
    sessions = registration.event.sessions.order_by("start")
    if registration.session_id is not None:
        sessions = sessions.filter(pk=registration.session_id)
    return sessions


def _other_dates(registration):
    """A drop-in person's other dates, each with its own manage link (the
    same person: ``drop_in.dates_of``)."""
    others = [r for r in drop_in.dates_of(registration) if r.pk != registration.pk]
    for other in others:
        other.manage_token = workflows.manage_token(other)
    return others


def _contact_choices(registration):
    """What the manage page says about each way of contacting the person,
    and whether it offers to stop it."""
    labels = dict(Channel.choices)
    return [
        {
            "channel": channel,
            "label": labels[channel],
            "consent": consent,
            "can_withdraw": consent_rules.can_withdraw(channel, consent),
        }
        for channel, consent in consent_rules.consent_by_channel(registration)
    ]


@require_http_methods(["POST"])
def manage_consent(request, token):
    """Withdraw consent on one channel (the ``channel`` posted)."""
    registration = _registration_or_404(token)
    channel = request.POST.get("channel", "")
    try:
        consent_rules.withdraw(registration=registration, channel=channel)
    except EventsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, consent_rules.WITHDRAWN_MESSAGES[channel])
    return redirect("registration_manage", token)


@require_http_methods(["GET", "POST"])
def manage_cancel(request, token):
    """Confirm, then cancel a place or leave the waitlist."""
    # The POST shows nothing of the event: the workflow reads it under its lock.
    registration = _registration_or_404(token, with_event=request.method != "POST")
    if registration.status == RegistrationStatus.CANCELLED:
        return redirect("registration_manage", token)
    if request.method == "POST":
        try:
            workflows.cancel(registration=registration, by=audit.PARTICIPANT)
        except EventsError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Your place is cancelled. Thank you for letting us know.")
                if registration.status == RegistrationStatus.CONFIRMED
                else _("You have left the waitlist."),
            )
        return redirect("registration_manage", token)
    context = {
        "registration": registration,
        "event": registration.event,
        "session": registration.session,
        "token": token,
    }
    return private(TemplateResponse(request, "events/manage_cancel.html", context))


@require_http_methods(["GET"])
def manage_calendar(request, token):
    """The series this person joined (or their one date of a drop-in), as
    an .ics file."""
    registration = _registration_or_404(token)
    event = registration.event
    sessions = list(_sessions_of(registration).select_related("venue", "event__venue"))
    include_link = registration.status == RegistrationStatus.CONFIRMED
    calendar = build_calendar(
        sessions,
        name=event.title,
        include_joining_link=include_link,
        registration_status=registration.status,
    )
    response = HttpResponse(
        calendar_bytes(calendar), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return private(response)


# Waitlist offers -------------------------------------------------------------


def _offer_or_404(token):
    offer = offers.find_by_token(token)
    if offer is None:
        raise Http404(_("This link is not valid. It may have been mistyped."))
    return offer


@require_http_methods(["GET"])
def offer_short_link(request, code):
    """The short link an offer's text carries: on to the offer's page.
    Wrong codes are counted per address, as for ``short_link``."""
    scope = "short-link"
    if limit_reached(
        request, scope=scope, limit=SHORT_LINK_LIMIT, window=SHORT_LINK_WINDOW
    ):
        return private(
            HttpResponse(
                _("Too many wrong links from this connection. Try again later."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        )
    offer = offers.offer_for_short_code(code)
    if offer is None:
        allow(request, scope=scope, limit=SHORT_LINK_LIMIT, window=SHORT_LINK_WINDOW)
        raise Http404(_("This link is not valid. It may have been mistyped."))
    return private(redirect("place_offer", offers.offer_token(offer)))


@require_http_methods(["GET", "POST"])
def place_offer(request, token):
    """A place offered from the waitlist: what it is, until when, and two
    buttons, Accept and No thanks. A POST answers and comes back here, where
    the offer's state (and any refusal, as a message) is shown."""
    offer = _offer_or_404(token)
    if request.method == "POST":
        choice = request.POST.get("choice")
        try:
            if choice == "accept":
                offers.accept(offer=offer)
                messages.success(request, _("Thank you. The place is yours."))
            elif choice == "decline":
                offers.decline(offer=offer)
                messages.success(
                    request,
                    _(
                        "Thank you for letting us know. The place will go to the "
                        "next person, and you have left the waitlist."
                    ),
                )
            else:
                messages.error(request, _("Please choose Accept or No thanks."))
        except EventsError as error:
            messages.error(request, error.message)
        return redirect("place_offer", token)
    offer.refresh_from_db(fields=["status", "expires_at"])
    registration = offer.registration
    registration.refresh_from_db(fields=["status", "waitlist_position"])
    is_open = (
        offer.status == PlaceOfferStatus.OPEN and offer.expires_at > timezone.now()
    )
    context = {
        "offer": offer,
        "is_open": is_open,
        "lapsed": offer.status == PlaceOfferStatus.EXPIRED
        or (offer.status == PlaceOfferStatus.OPEN and not is_open),
        "registration": registration,
        "event": registration.event,
        "sessions": registration.event.sessions.select_related("venue").order_by(
            "start"
        ),
        "manage_path": reverse(
            "registration_manage", args=[workflows.manage_token(registration)]
        )
        if registration.token_salt
        else "",
    }
    return private(TemplateResponse(request, "events/place_offer.html", context))
