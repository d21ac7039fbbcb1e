"""The facilitator area (``/facilitate/``) and public self check-in.

Every facilitator view finds its session through
``permissions.sessions_visible_to``: a facilitator of another event gets a
404, never someone else's roster. Views parse input, call
``attendance.records`` and redirect; refusals become messages.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import AccessibleErrorsMixin
from core.http import absolute_url, private
from core.qr import qr_svg
from events.calendars import feed_token, regenerate_feed_token
from events.models import Registration, RegistrationStatus
from events.permissions import sessions_visible_to

from . import checkin, records, viewing
from .errors import AttendanceError
from .models import AttendanceRecord, AttendanceStatus, Headcount, SessionNote
from .names import comparable, short_names

#: Past sessions stay in the facilitator's list this long, for notes.
RECENT = dt.timedelta(days=14)


def _visible_session(user, session_id):
    return get_object_or_404(
        sessions_visible_to(user).select_related("event", "venue", "event__venue"),
        pk=session_id,
    )


@login_required
def session_list(request):
    """Today's and upcoming sessions, and the last two weeks' for notes."""
    now = timezone.now()
    sessions = list(
        sessions_visible_to(request.user)
        .filter(end__gte=now - RECENT)
        .select_related("event", "venue", "event__venue", "note")
        .order_by("start")[:200]
    )
    today = timezone.localdate()
    context = {
        "today": [s for s in sessions if s.local_date == today],
        "upcoming": [s for s in sessions if s.local_date > today],
        "recent": [s for s in sessions if s.local_date < today][::-1],
    }
    return private(TemplateResponse(request, "attendance/session_list.html", context))


class WalkInForm(AccessibleErrorsMixin, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of someone who came without signing up"),
        max_length=120,
    )


class HeadcountForm(AccessibleErrorsMixin, forms.Form):
    attendees = forms.IntegerField(
        label=gettext_lazy("How many people came in total"), min_value=0, max_value=999
    )
    walk_ins = forms.IntegerField(
        label=gettext_lazy("Of those, how many were new"),
        min_value=0,
        max_value=999,
        initial=0,
    )


class NoteForm(AccessibleErrorsMixin, forms.ModelForm):
    class Meta:
        model = SessionNote
        fields = ["covered", "attendance_summary", "follow_ups", "needs_follow_up"]
        widgets = {
            "covered": forms.Textarea(attrs={"rows": 3}),
            "attendance_summary": forms.Textarea(attrs={"rows": 2}),
            "follow_ups": forms.Textarea(attrs={"rows": 2}),
        }


def _session_context(request, session, **forms_by_name):
    confirmed, waitlist = records.roster(session)
    # The session's records in one query: the registrants' by registration,
    # the walk-ins in their order.
    session_records = list(AttendanceRecord.objects.filter(session=session))
    by_registration = {
        record.registration_id: record
        for record in session_records
        if record.registration_id is not None
    }
    walk_ins = [record for record in session_records if record.registration_id is None]
    note = SessionNote.objects.filter(session=session).first()
    headcount = Headcount.objects.filter(session=session).first()
    week_number = (
        session.week_number() if session.event.workshop_id is not None else None
    )
    context = {
        "session": session,
        "event": session.event,
        "rows": [(r, by_registration.get(r.pk)) for r in confirmed],
        "waitlist": waitlist,
        "walk_ins": walk_ins,
        # Labels translated once, not once per person.
        "statuses": [(value, str(label)) for value, label in AttendanceStatus.choices],
        "walk_in_form": WalkInForm(),
        "note_form": NoteForm(instance=note),
        "headcount_form": HeadcountForm(
            initial={
                "attendees": headcount.attendees if headcount else None,
                "walk_ins": headcount.walk_ins if headcount else 0,
            }
        ),
        "has_workshop": session.event.workshop_id is not None,
        # The workshop's plan for this session, else its usual outline.
        "week_number": week_number,
        "plan": (
            session.event.workshop.session_content(week_number)
            if week_number is not None
            else None
        ),
        # Why attendance cannot be taken yet (or at all), instead of forms
        # that would be refused.
        "attendance_refusal": records.attendance_refusal(session),
        "check_in_open": checkin.window_is_open(session),
    }
    context.update(forms_by_name)
    return context


@login_required
def session_detail(request, session_id):
    """Everything a facilitator needs for one session, on one page."""
    session = _visible_session(request.user, session_id)
    context = _session_context(request, session)
    shown = (context["rows"], context["waitlist"], context["walk_ins"])
    viewing.log_roster_viewed(
        session=session, user=request.user, count=sum(map(len, shown))
    )
    return private(TemplateResponse(request, "attendance/session_detail.html", context))


@login_required
@require_POST
def take_attendance(request, session_id):
    """Save the statuses chosen on the attendance form; with its "mark
    everyone" button, then also mark everyone still unmarked present (so a
    status changed on screen and not saved yet is kept)."""
    session = _visible_session(request.user, session_id)
    statuses = {
        key.removeprefix("status-"): value
        for key, value in request.POST.items()
        if key.startswith("status-") and value
    }
    try:
        changed = records.record_attendance(
            session=session, statuses=statuses, user=request.user
        )
        everyone = "everyone_present" in request.POST
        if everyone:
            count = records.mark_everyone_present(session=session, user=request.user)
    except AttendanceError as error:
        messages.error(request, error.message)
        return redirect("facilitate_session", session.pk)
    if changed or not everyone:
        messages.success(
            request,
            ngettext(
                "Attendance saved (%(count)s change).",
                "Attendance saved (%(count)s changes).",
                changed,
            )
            % {"count": changed},
        )
    if everyone:
        messages.success(
            request,
            ngettext(
                "%(count)s person marked present.",
                "%(count)s people marked present.",
                count,
            )
            % {"count": count},
        )
    return redirect("facilitate_session", session.pk)


def _save_form(request, session_id, form_class, *, name, save, success, fields=None):
    """A facilitator's form posted for a session: ``save(session, **data)``
    through a workflow, then a message and back to the session page.
    ``success`` is the message, or makes it from what ``save`` returned. A
    refusal shows the page again (400) with what was typed, next to the
    field ``fields`` names for the refusal's code, else above the form, and
    an error summary at the top of the page (the form may be far down)."""
    session = _visible_session(request.user, session_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            saved = save(session, **form.cleaned_data)
        except AttendanceError as error:
            form.add_error((fields or {}).get(error.code), error.message)
        else:
            messages.success(request, success(saved) if callable(success) else success)
            return redirect("facilitate_session", session.pk)
    context = _session_context(request, session, **{name: form})
    context["refused_form"] = form
    return TemplateResponse(
        request, "attendance/session_detail.html", context, status=400
    )


def _walk_in_message(result) -> str:
    record, created = result
    if created:
        return _("Walk-in added.")
    return _(
        "%(name)s is already on the list as a walk-in. If this is someone "
        "else with the same name, add them with their last initial."
    ) % {"name": record.walk_in_name}


@login_required
@require_POST
def walk_in(request, session_id):
    return _save_form(
        request,
        session_id,
        WalkInForm,
        name="walk_in_form",
        save=lambda session, name: records.add_walk_in(
            session=session, name=name, user=request.user
        ),
        success=_walk_in_message,
        fields={"name_missing": "name"},
    )


@login_required
@require_POST
def headcount(request, session_id):
    return _save_form(
        request,
        session_id,
        HeadcountForm,
        name="headcount_form",
        save=lambda session, **data: records.save_headcount(
            session=session, user=request.user, **data
        ),
        success=_("Headcount saved."),
        fields={"bad_headcount": "walk_ins"},
    )


@login_required
@require_POST
def session_note(request, session_id):
    return _save_form(
        request,
        session_id,
        NoteForm,
        name="note_form",
        save=lambda session, **data: records.save_note(
            session=session, user=request.user, **data
        ),
        success=_("Note saved."),
    )


@login_required
def check_in_screen(request, session_id):
    """A page to show on a screen: the check-in code and its QR code."""
    session = _visible_session(request.user, session_id)
    url = checkin.check_in_url(session)
    context = {
        "session": session,
        "code": checkin.check_in_code(session),
        "url": url,
        "start_url": absolute_url(reverse("check_in_start")),
        "qr": qr_svg(url, label=_("QR code for checking in")),
        "open": checkin.window_is_open(session),
    }
    return private(
        TemplateResponse(request, "attendance/check_in_screen.html", context)
    )


def _pdf_documents():
    from . import pdfs  # not at the top: importing WeasyPrint takes seconds

    return {
        "sign-in-sheet": lambda session, request: pdfs.sign_in_sheet_pdf(
            session, full_names=request.GET.get("names") == "full"
        ),
        "register": lambda session, request: pdfs.attendance_register_pdf(
            session.event
        ),
        "guide": lambda session, request: pdfs.facilitator_guide_pdf(session),
        "handout": lambda session, request: pdfs.participant_handout_pdf(
            session.event.workshop,
            large_print=request.GET.get("large") == "1",
            week=session.week_number(),
        ),
        "flyer": lambda session, request: pdfs.flyer_pdf(session.event),
        "pack": lambda session, request: pdfs.session_pack_pdf(session),
    }


@login_required
@require_http_methods(["GET"])
def session_pdf(request, session_id, document):
    """One of a session's printable documents, made in memory."""
    session = _visible_session(request.user, session_id)
    builders = _pdf_documents()
    if document not in builders:
        raise Http404(_("There is no such document."))
    if document in ("guide", "handout") and session.event.workshop_id is None:
        raise Http404(_("This event does not deliver a workshop."))
    data = builders[document](session, request)
    if document in viewing.NAMING_DOCUMENTS:
        viewing.log_printed(
            session=session,
            user=request.user,
            document=document,
            full_names=document == "sign-in-sheet"
            and request.GET.get("names") == "full",
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{session.event.slug}-{session.pk}-{document}.pdf"'
    )
    return private(response)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed(request):
    """Show the facilitator's private feed address; POST makes a new one."""
    if request.method == "POST":
        regenerate_feed_token(request.user)
        messages.success(
            request,
            _("Your calendar has a new address. The old one no longer works."),
        )
        return redirect("facilitator_calendar")
    url = absolute_url(
        reverse("facilitator_calendar_feed", args=[feed_token(request.user)])
    )
    response = TemplateResponse(
        request,
        "attendance/calendar_feed.html",
        {"https_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]},
    )
    return private(response)


# Public self check-in ------------------------------------------------------------


class PersonChoiceField(forms.ChoiceField):
    """Radio buttons for the names on the list, which also accepts the ids in
    ``also_accepted`` though they are not shown (people already checked in,
    so a double tap or the back button is not an error)."""

    also_accepted: frozenset[str] = frozenset()

    def valid_value(self, value):
        return str(value) in self.also_accepted or super().valid_value(value)


class CheckInForm(AccessibleErrorsMixin, forms.Form):
    person = PersonChoiceField(
        label=gettext_lazy("Choose your name"),
        required=False,
        widget=forms.RadioSelect,
    )
    typed_name = forms.CharField(
        label=gettext_lazy("Or type the name you signed up with"),
        max_length=120,
        required=False,
    )

    def __init__(
        self, *args, people=(), offered=None, accepted=None, labels=None, **kwargs
    ):
        """``people`` may check in by typing their name; ``offered`` (all of
        ``people`` unless given) are on the list to choose from, by
        ``labels`` (by id); ``accepted`` (``offered`` unless given) may be
        chosen by id, shown or not."""
        super().__init__(*args, **kwargs)
        self.people = list(people)
        self.offered = self.people if offered is None else list(offered)
        self.accepted = self.offered if accepted is None else list(accepted)
        self.labels = labels or {}
        self.fields["person"].choices = [
            (str(p.pk), self.labels.get(p.pk, p.first_name_and_initial))
            for p in self.offered
        ]
        self.fields["person"].also_accepted = frozenset(
            str(p.pk) for p in self.accepted
        )
        if not self.offered:
            # No list to choose from, so typing is not the other way.
            self.fields["typed_name"].label = _("Type the name you signed up with")
        #: Whether the name chosen or typed matched nobody (a failed try).
        self.not_found = False

    def clean(self):
        cleaned = super().clean()
        chosen, typed = cleaned.get("person"), cleaned.get("typed_name", "").strip()
        match = None
        if self.has_error("person", "invalid_choice"):
            self.not_found = True
        elif chosen:
            match = next((p for p in self.accepted if str(p.pk) == chosen), None)
        elif typed:
            matches = [
                p for p in self.people if comparable(p.name) == comparable(typed)
            ]
            if len(matches) == 1:
                match = matches[0]
            elif matches:
                # Not a wrong guess: the name is right, but it is not enough.
                self.add_error(
                    "typed_name",
                    _(
                        "More than one person has that name, so we cannot "
                        "check you in here. Please tell the facilitator you "
                        "are here."
                    ),
                )
            else:
                self.not_found = True
                self.add_error(
                    "typed_name",
                    _("We could not find that name. Please tell the facilitator."),
                )
        elif self.offered:
            self.add_error("person", _("Choose your name, or type it below."))
        else:
            self.add_error("typed_name", _("Type the name you signed up with."))
        cleaned["registration"] = match
        return cleaned


class CheckInCodeForm(AccessibleErrorsMixin, forms.Form):
    code = forms.CharField(label=gettext_lazy("Check-in code"), max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _(
            "The %(count)s letters and numbers on the facilitator's screen or "
            "on the sign-in sheet."
        ) % {"count": checkin.CODE_LENGTH}

    def clean_code(self):
        code = checkin.normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(
                _("Type the letters and numbers of the code."), code="empty"
            )
        return code


@never_cache
@require_http_methods(["GET"])
def check_in_start(request):
    """Type a check-in code (for people who cannot scan the QR code). A plain
    GET form, so it works without JavaScript; the code's own page decides
    whether it is right, and counts it if it is not."""
    form = CheckInCodeForm(request.GET if "code" in request.GET else None)
    if form.is_valid():
        return redirect("check_in", form.cleaned_data["code"])
    return TemplateResponse(
        request, "attendance/check_in_start.html", {"code_form": form}
    )


#: What the check-in page says when a code does not lead to an open check-in
#: (``_not_yet_message`` says when a session's check-in opens).
CLOSED_MESSAGES = {
    checkin.CodeState.OVER: gettext_lazy(
        "This session has ended, so check-in is closed."
    ),
    checkin.CodeState.CANCELLED: gettext_lazy(
        "This session is cancelled, so there is no check-in."
    ),
    checkin.CodeState.UNKNOWN: gettext_lazy(
        "We could not find a session with this check-in code. Please check the "
        "code, or ask the facilitator."
    ),
}


def _not_yet_message(session) -> str:
    """When check-in opens, with the day when that is not today (codes are
    recognised hours ahead, e.g. scanned the evening before)."""
    opens = timezone.localtime(session.start - checkin.OPENS_BEFORE)
    minutes = int(checkin.OPENS_BEFORE.total_seconds() // 60)
    before = ngettext("%(count)s minute", "%(count)s minutes", minutes) % {
        "count": minutes
    }
    values = {"time": formats.time_format(opens), "before": before}
    if opens.date() == timezone.localdate():
        return (
            _(
                "Check-in for this session is not open yet. It opens at %(time)s, "
                "%(before)s before the session starts."
            )
            % values
        )
    return _(
        "Check-in for this session is not open yet. It opens on %(date)s at "
        "%(time)s, %(before)s before the session starts."
    ) % {**values, "date": formats.date_format(opens, "l j F")}


def _check_in_closed(request, *, heading, message, status, retry=None, form=None):
    """The check-in page when it cannot be used; ``retry`` (a code that may
    have been mistyped) offers the code form again, filled in with it, and
    ``form`` offers a typed name instead."""
    context = {"closed": True, "heading": heading, "message": message}
    if retry is not None:
        context["code_form"] = CheckInCodeForm(initial={"code": retry})
    if form is not None:
        context["name_form"] = form
    return TemplateResponse(request, "attendance/check_in.html", context, status=status)


def _checked_in(request, session, *, label, already):
    return TemplateResponse(
        request,
        "attendance/check_in.html",
        {"done": True, "already": already, "session": session, "name": label},
    )


def _look_alikes(labels: dict, offered) -> list[str]:
    """A line for each label the pick-list cannot use because it names more
    than one person, while any of them is still to check in."""
    by_label = {}
    for key, label in labels.items():
        by_label.setdefault(label.casefold(), []).append(key)
    waiting = {p.pk for p in offered}
    lines = []
    for keys in by_label.values():
        if len(keys) > 1 and waiting.intersection(keys):
            lines.append(
                ngettext(
                    "%(count)s person shares the name %(name)s, so it is not "
                    "on the list. Please type your full name below, or tell "
                    "the facilitator.",
                    "%(count)s people share the name %(name)s, so it is not "
                    "on the list. Please type your full name below, or tell "
                    "the facilitator.",
                    len(keys),
                )
                % {"count": len(keys), "name": labels[keys[0]]}
            )
    return lines


@dataclass(frozen=True)
class CheckInChoices:
    """Who the check-in page of a session lists, and who it accepts."""

    #: Everyone confirmed, by name: they may check in by typing it.
    people: list
    #: Each person's label on the list, by id.
    labels: dict
    #: Ids of people already recorded as attending.
    attended: set
    #: Not here yet, and with a label of their own: the list to choose from.
    offered: list
    #: With a label of their own, here or not: who may be chosen by id.
    accepted: list
    #: Not here yet, whatever their label.
    waiting: list


def check_in_choices(session) -> CheckInChoices:
    """The check-in list of ``session``, the same on every request, so a
    refused check-in shows the list the page showed before.

    The list offers people not here yet (someone marked absent who arrives
    is offered); a choice of anyone the list can name, here or not, is
    accepted, so a double tap or the back button is not an error. Labels
    are made from everyone confirmed, so they stay the same as people check
    in and leave the list. People they cannot tell apart share one label
    and are left off the list: they type their name.
    """
    people = list(
        Registration.objects.for_session(session)
        .filter(status=RegistrationStatus.CONFIRMED)
        .order_by("name", "pk")
    )
    labels = short_names(
        ((p.pk, p.name) for p in sorted(people, key=lambda p: p.pk)),
        numbered=False,
    )
    counts = Counter(label.casefold() for label in labels.values())
    accepted = [p for p in people if counts[labels[p.pk].casefold()] == 1]
    attended = _attended(session)
    return CheckInChoices(
        people=people,
        labels=labels,
        attended=attended,
        offered=[p for p in accepted if p.pk not in attended],
        accepted=accepted,
        waiting=[p for p in people if p.pk not in attended],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def check_in(request, code):
    """A participant checks in from the QR code. Shows first names and
    initials only, and works only while the session's check-in is open.

    Only failed tries are limited (see ``checkin``): wrong codes per client
    address, wrong names per address and session, so a whole group on one
    Wi-Fi can check in. Once an address has used up its wrong codes, every
    code's page is the same "too many tries" page, right codes included (a
    different page would tell a guesser the code is right); it offers the
    typed-name path, which checks in someone on the list of a right code."""
    if checkin.too_many_wrong_codes(request):
        return _check_in_after_too_many_codes(request, code)
    session, state = checkin.look_up_code(code)
    if state != checkin.CodeState.OPEN:
        if state == checkin.CodeState.UNKNOWN:
            checkin.count_wrong_code(request)
        if state == checkin.CodeState.NOT_YET:
            message = _not_yet_message(session)
        else:
            message = str(CLOSED_MESSAGES[state])
        unknown = state == checkin.CodeState.UNKNOWN
        return _check_in_closed(
            request,
            # A code of no session is a typing problem, not a closed check-in.
            heading=_("We could not find that code")
            if unknown
            else _("Check-in is not open"),
            message=message,
            status=404,
            retry=checkin.normalise(code) if unknown else None,
        )
    if request.method == "POST" and checkin.too_many_wrong_names(request, session):
        return _check_in_closed(
            request,
            heading=_("Too many tries"),
            message=_(
                "There have been too many names tried for this session from "
                "this connection. Please tell the facilitator you are here."
            ),
            status=429,
        )
    choices = check_in_choices(session)
    form = CheckInForm(
        request.POST if request.method == "POST" else None,
        people=choices.people,
        offered=choices.offered,
        accepted=choices.accepted,
        labels=choices.labels,
    )
    if request.method == "POST" and form.is_valid():
        registration = form.cleaned_data["registration"]
        try:
            records.check_in(session=session, registration=registration)
        except AttendanceError as error:
            form.add_error(None, error.message)
        else:
            return _checked_in(
                request,
                session,
                label=choices.labels[registration.pk],
                already=registration.pk in choices.attended,
            )
    if form.not_found:
        checkin.count_wrong_name(request, session)
    return TemplateResponse(
        request,
        "attendance/check_in.html",
        {
            "session": session,
            "form": form,
            "look_alikes": _look_alikes(choices.labels, choices.waiting),
            "everyone_here": bool(choices.people) and not choices.waiting,
            "headcount_only": session.event.headcount_only,
        },
    )


def _attended(session) -> set[int]:
    return set(
        AttendanceRecord.objects.filter(
            session=session,
            registration__isnull=False,
            status__in=AttendanceStatus.attended(),
        ).values_list("registration_id", flat=True)
    )


def _check_in_after_too_many_codes(request, code):
    """The page every code gets once this address has used up its wrong
    codes: it says so and offers a typed name. A name on the list of a
    right, open code checks that person in; anything else (a wrong code, a
    wrong name, a closed session) gets the same page again, so it tells a
    guesser nothing about the code."""
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        session, state = checkin.look_up_code(code)
        if state == checkin.CodeState.OPEN and not checkin.too_many_wrong_names(
            request, session
        ):
            people = (
                Registration.objects.for_session(session)
                .filter(status=RegistrationStatus.CONFIRMED)
                .order_by("pk")
            )
            # Typed names only: ids on a list are easy to guess.
            form = CheckInForm(request.POST, people=people, offered=())
            if form.is_valid() and form.cleaned_data["registration"]:
                registration = form.cleaned_data["registration"]
                already = registration.pk in _attended(session)
                try:
                    records.check_in(session=session, registration=registration)
                except AttendanceError:
                    pass
                else:
                    labels = short_names(
                        ((p.pk, p.name) for p in people), numbered=False
                    )
                    return _checked_in(
                        request,
                        session,
                        label=labels[registration.pk],
                        already=already,
                    )
            if form.not_found:
                checkin.count_wrong_name(request, session)
        # The same form for every code: what was typed, and no field errors.
        form = CheckInForm(initial={"typed_name": request.POST.get("typed_name", "")})
    return _check_in_closed(
        request,
        heading=_("Too many tries"),
        message=_(
            "There have been too many tries from this connection. If you are "
            "at the session, type the name you signed up with below, or tell "
            "the facilitator you are here. Otherwise please wait a few "
            "minutes and try again."
        ),
        status=429,
        form=form,
    )
