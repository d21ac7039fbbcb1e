"""Public views: signing up for an event and managing a registration.

Views parse input, call ``events.registration`` and render; refusals become
messages, never errors. Manage links carry a secret token, so their pages
are never cached or sent on as a referrer.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core import audit
from core.http import private
from core.ratelimit import allow, limit_reached

from . import consent as consent_rules
from . import messaging
from . import registration as workflows
from .calendars import build_calendar, calendar_bytes
from .errors import EventsError
from .forms import SignUpForm
from .models import Channel, EventPage, GroupMessage, RegistrationStatus
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


def published_event_or_404(event_id):
    """A live event without a privacy setting, or 404 (for the sign-up form
    and the event's calendar file)."""
    event = EventPage.objects.live().public().filter(pk=event_id).first()
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
    the event's lock anyway.
    """
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    event = published_event_or_404(event_id)
    refusal, status = None, 200
    form = SignUpForm(
        request.POST if request.method == "POST" else None,
        questions=questions_of(event),
    )
    if request.method == "GET":
        refusal = workflows.registration_refusal(event)
        if refusal is None and _full_without_waitlist(event):
            refusal = EventsError(_("Sorry, this event is full."), code="full")
    else:
        try:
            status = _handle_sign_up(request, event, form)
        except EventsError as error:
            refusal, status = error, 409
        if status is None:
            return redirect("event_sign_up_thanks", event.pk)
    context = {
        "page": event,
        "form": None if refusal else form,
        "refusal": refusal,
        "full": refusal is None and event.places_left == 0,
    }
    return TemplateResponse(request, "events/sign_up.html", context, status=status)


def _handle_sign_up(request, event, form):
    """Register from a posted form; None on success, else the status to show.

    Raises the workflow's EventsError when sign-up is refused outright.
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
        )
    except EventsError as error:
        if error.code in REFUSALS:
            raise
        form.add_error(None, error.message)
        return 400
    return None


def sign_up_thanks(request, event_id):
    """The same answer for every sign-up, new or repeat."""
    event = published_event_or_404(event_id)
    return TemplateResponse(request, "events/sign_up_thanks.html", {"page": event})


def _registration_or_404(token):
    registration = workflows.find_by_token(token)
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
    sessions = event.sessions.select_related("venue").order_by("start")
    venue = event.venue
    context = {
        "registration": registration,
        "event": event,
        "sessions": sessions,
        "venue": venue,
        "token": token,
        "show_joining_link": registration.status == RegistrationStatus.CONFIRMED
        and venue is not None
        and venue.is_online,
        "contact": _contact_choices(registration),
        "group_messages": GroupMessage.objects.sent_to(registration).only(
            "body", "created_at"
        ),
    }
    return private(TemplateResponse(request, "events/manage.html", context))


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
    registration = _registration_or_404(token)
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
        "token": token,
    }
    return private(TemplateResponse(request, "events/manage_cancel.html", context))


@require_http_methods(["GET"])
def manage_calendar(request, token):
    """The series this person joined, as an .ics file."""
    registration = _registration_or_404(token)
    event = registration.event
    sessions = list(
        event.sessions.select_related("venue", "event__venue").order_by("start")
    )
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
