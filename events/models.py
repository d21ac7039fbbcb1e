"""Events people sign up for, their sessions, and the venues they meet in.

An EventPage is one thing people sign up for (a one-off workshop or an
8-week group series); its EventSession rows are the dates it meets. Sessions
are a plain foreign key to the page rather than a ParentalKey: publishing an
old page revision must never delete or rewind sessions that attendance and
calendars depend on, so sessions are changed only through the functions in
``events/sessions.py``.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from phonenumber_field.modelfields import PhoneNumberField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page, PageViewRestriction
from wagtail.search import index

from core import public_cache
from core.encryption import EncryptedTextField

from .groups import FACILITATORS_GROUP
from .page_forms import EventPageForm
from .panels import SessionsPanel


class Setting(models.TextChoices):
    """Where a venue is, which decides who can get there."""

    HOSPITAL = "hospital", _("Hospital")
    COMMUNITY = "community", _("Community")
    ONLINE = "online", _("Online")


class Venue(index.Indexed, models.Model):
    """A place where sessions happen: a ward room, a community hall, or online."""

    name = models.CharField(max_length=120)
    setting = models.CharField(max_length=20, choices=Setting.choices)
    address = models.TextField(
        blank=True, help_text=_("Street address. Leave empty for online venues.")
    )
    room = models.CharField(
        max_length=120, blank=True, help_text=_("e.g. 'Room 4B, second floor'.")
    )
    directions = models.TextField(
        blank=True,
        help_text=_("How to find the room: entrance, buses, parking."),
    )
    step_free = models.BooleanField(
        _("step-free access"),
        default=False,
        help_text=_("No steps from street to room."),
    )
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    quiet_room = models.BooleanField(
        _("quiet room"), default=False, help_text=_("A quiet space to take a break.")
    )
    accessibility_notes = models.TextField(
        blank=True,
        help_text=_("Anything else about access: lifts, toilets, lighting."),
    )
    online_joining_link = models.URLField(
        blank=True,
        help_text=_(
            "For online venues. Shown only to people with a confirmed place, "
            "never on public pages or feeds."
        ),
    )
    default_capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("How many people the room holds. Used as the default capacity."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("address"),
        index.SearchField("room"),
        index.FilterField("setting"),
    ]

    panels = [
        FieldPanel("name"),
        FieldPanel("setting"),
        MultiFieldPanel(
            [FieldPanel("address"), FieldPanel("room"), FieldPanel("directions")],
            heading=_("Location"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("step_free"),
                        FieldPanel("hearing_loop"),
                        FieldPanel("quiet_room"),
                    ]
                ),
                FieldPanel("accessibility_notes"),
            ],
            heading=_("Accessibility"),
        ),
        FieldPanel("online_joining_link"),
        FieldPanel("default_capacity"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.room}" if self.room else self.name

    def clean(self):
        super().clean()
        if self.setting == Setting.ONLINE and not self.online_joining_link:
            raise ValidationError(
                {"online_joining_link": _("An online venue needs a joining link.")}
            )

    @property
    def is_online(self):
        return self.setting == Setting.ONLINE

    @property
    def access_features(self):
        """Labels of the access features this venue has, for display."""
        flags = [
            (self.step_free, _("Step-free access")),
            (self.hearing_loop, _("Hearing loop")),
            (self.quiet_room, _("Quiet room")),
        ]
        return [label for present, label in flags if present]


class ClosureQuerySet(models.QuerySet):
    """Read rules for closures."""

    def overlapping(self, first_day, last_day):
        """Closures with at least one day between ``first_day`` and
        ``last_day`` (both included), earliest first."""
        return self.filter(first_day__lte=last_day, last_day__gte=first_day).order_by(
            "first_day", "pk"
        )


class Closure(models.Model):
    """Days the whole program is closed, such as the winter holidays.

    Every series generated afterwards leaves these days out
    (``events.sessions.generate_series``) and says which dates it skipped
    for which closure. Sessions that already exist are not changed.
    """

    name = models.CharField(
        max_length=120,
        help_text=_("What the closure is called, e.g. 'Winter holidays'."),
    )
    first_day = models.DateField(help_text=_("The first day the program is closed."))
    last_day = models.DateField(
        help_text=_(
            "The last day the program is closed. The same as the first day "
            "for a single day."
        )
    )

    objects = ClosureQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("first_day"), FieldPanel("last_day")]),
    ]

    class Meta:
        ordering = ["first_day", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError(
                {"last_day": _("The last day cannot be before the first day.")}
            )

    def includes(self, day) -> bool:
        """Whether the program is closed on ``day``."""
        return self.first_day <= day <= self.last_day


#: The listing's filters, as GET parameters (``events.listing.EventFilterForm``).
LISTING_FILTERS = ("q", "kind", "setting", "topic", "date_from", "date_to")


class EventIndexPage(Page):
    """The public events listing: upcoming sessions of the events below it."""

    #: Served from the shared cache to anonymous visitors (core/public_cache.py);
    #: the key carries the filters and the page number, nothing else.
    public_cache = True
    public_cache_shows_places = True
    public_cache_params = (*LISTING_FILTERS, "page")

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["website.HomePage"]
    subpage_types = ["events.EventPage"]

    class Meta:
        verbose_name = _("events listing")

    def route(self, request, path_components):
        """Wagtail's routing, with an event below the listing read in one
        query (its page and event rows together) rather than two (the page,
        then ``.specific``). Anything else routes as Wagtail routes it."""
        if path_components:
            event = (
                EventPage.objects.child_of(self).filter(slug=path_components[0]).first()
            )
            if event is not None:
                event._cached_parent_obj = self  # as Wagtail does: no parent query
                return event.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        from .listing import listing_context  # cycle: events.listing imports models

        context = super().get_context(request, *args, **kwargs)
        context.update(listing_context(index_page=self, request=request))
        return context


class EventTopic(TaggedItemBase):
    """Links an event to a topic tag (e.g. 'recovery', 'harm reduction')."""

    content_object = ParentalKey(
        "events.EventPage", on_delete=models.CASCADE, related_name="tagged_topics"
    )


class EventKind(models.TextChoices):
    """What sort of thing an event is."""

    GROUP = "group", _("Group series")
    WORKSHOP = "workshop", _("Workshop")
    EDUCATION = "education", _("Education session")
    AWARENESS = "awareness", _("Awareness event")
    SOCIAL = "social", _("Social activity")


class RegistrationMode(models.TextChoices):
    """Whether people sign up before coming."""

    NONE = "none", _("No sign-up: just come along")
    OPEN = "open", _("Sign-up welcome, drop-ins welcome too")
    REQUIRED = "required", _("Sign-up required")


class SignUpPer(models.TextChoices):
    """What one sign-up is a place on."""

    SERIES = "series", _("The whole series: one place for every date")
    SESSION = "session", _("Single dates: people choose the dates they come to")


#: The longest a waitlist offer may be held (a week).
MAX_OFFER_HOURS = 168


class EventPage(Page):
    """One thing people sign up for: a one-off event or a group series.

    Registration covers every session of the series, or, when
    ``sign_up_per`` is "session" (drop-in groups), one session each: then
    capacity and the waitlist count per session. The sign-up form is at
    ``sign_up_url`` (see ``events.views.sign_up``).
    """

    base_form_class = EventPageForm
    #: Served from the shared cache to anonymous visitors (core/public_cache.py);
    #: it shows places left.
    public_cache = True
    public_cache_shows_places = True

    kind = models.CharField(
        max_length=20, choices=EventKind.choices, default=EventKind.GROUP
    )
    workshop = models.ForeignKey(
        "workshops.WorkshopPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        help_text=_("The workshop program this event delivers, if any."),
    )
    summary = models.TextField(
        help_text=_("One or two plain sentences shown in listings."),
    )
    what_to_expect = RichTextField(
        features=["bold", "italic", "link", "ul", "ol"],
        blank=True,
        help_text=_(
            "What happens, who comes, what to bring, whether you have to talk."
        ),
    )
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        help_text=_("Where sessions happen unless a session says otherwise."),
    )
    facilitators = ParentalManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilitated_events",
        limit_choices_to={"groups__name": FACILITATORS_GROUP, "is_active": True},
        help_text=_("People in the Facilitators group who lead this event."),
    )
    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Most people who can have a place. Leave empty for no limit."),
    )
    registration_mode = models.CharField(
        max_length=20,
        choices=RegistrationMode.choices,
        default=RegistrationMode.NONE,
    )
    registration_opens_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Leave empty to open sign-up now.")
    )
    registration_closes_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Leave empty to close sign-up when the first session starts."),
    )
    headcount_only = models.BooleanField(
        _("headcount only"),
        default=False,
        help_text=_(
            "For anonymous drop-ins: attendance is a number, and no names are "
            "recorded anywhere."
        ),
    )
    sign_up_per = models.CharField(
        _("people sign up for"),
        max_length=10,
        choices=SignUpPer.choices,
        default=SignUpPer.SERIES,
        help_text=_(
            "The whole series, or single dates (for drop-in groups). With "
            "single dates, the capacity and the waitlist apply to each date, "
            "and people tick the dates they want on the sign-up form. Cannot "
            "be changed once people have signed up."
        ),
    )
    waitlist_enabled = models.BooleanField(
        _("waitlist"),
        default=True,
        help_text=_("When full, let people join a waitlist for a place."),
    )
    waitlist_offer_hours = models.PositiveIntegerField(
        _("hours to accept a place"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_OFFER_HOURS)],
        help_text=_(
            "When a place frees, offer it to the next person on the waitlist "
            "for this many hours; if they do not say yes in time it goes to "
            "the person after them. Night-time quiet hours are added, so "
            "nobody has to answer at night. Leave empty to give the place at "
            "once, with no need to accept. Drop-in dates always give a freed "
            "place at once."
        ),
    )
    topics = ClusterTaggableManager(
        through=EventTopic,
        blank=True,
        help_text=_("Short topics people can filter by, e.g. 'recovery'."),
    )
    import_source = models.CharField(
        max_length=255,
        blank=True,
        editable=False,
        help_text=_("The calendar this event was imported from, if any."),
    )
    import_uid = models.CharField(max_length=255, blank=True, editable=False)

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("what_to_expect"),
        index.RelatedFields("topics", [index.SearchField("name")]),
        index.RelatedFields("venue", [index.SearchField("name")]),
        index.FilterField("kind"),
    ]

    content_panels = [
        *Page.content_panels,
        FieldPanel("kind"),
        FieldPanel("summary"),
        FieldPanel("what_to_expect"),
        FieldPanel("workshop"),
        FieldPanel("topics"),
        MultiFieldPanel(
            [FieldPanel("venue"), FieldPanel("facilitators")],
            heading=_("Where and who"),
        ),
        SessionsPanel(heading=_("Sessions")),
        MultiFieldPanel(
            [
                FieldPanel("registration_mode"),
                FieldPanel("sign_up_per"),
                FieldPanel("capacity"),
                FieldRowPanel(
                    [
                        FieldPanel("registration_opens_at"),
                        FieldPanel("registration_closes_at"),
                    ]
                ),
                FieldPanel("waitlist_enabled"),
                FieldPanel("waitlist_offer_hours"),
                FieldPanel("headcount_only"),
            ],
            heading=_("Sign-up"),
        ),
        InlinePanel(
            "questions",
            heading=_("Questions on the sign-up form"),
            label=_("Question"),
            help_text=_(
                "Optional. Asked after name and contact details. Ask only what "
                "you need to run the event: the answers are personal data, "
                "seen by the people who see the list of names, and deleted "
                "with the person's details."
            ),
        ),
    ]

    parent_page_types = ["events.EventIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("event")
        constraints = [
            models.UniqueConstraint(
                fields=["import_source", "import_uid"],
                condition=~Q(import_uid=""),
                name="one_event_per_imported_uid",
            )
        ]

    def clean(self):
        super().clean()
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            raise ValidationError(
                {"registration_closes_at": _("Sign-up must close after it opens.")}
            )
        self._check_sign_up_per_unchanged()

    def _check_sign_up_per_unchanged(self):
        """Places taken for the whole series cannot become places on one
        date (or back): refuse the change once anyone has signed up."""
        if not self.pk:
            return
        saved = (
            EventPage.objects.filter(pk=self.pk)
            .values_list("sign_up_per", flat=True)
            .first()
        )
        if saved is None or saved == self.sign_up_per:
            return
        if Registration.objects.filter(event_id=self.pk).active().exists():
            raise ValidationError(
                {
                    "sign_up_per": _(
                        "People have already signed up, so this cannot be "
                        "changed. Cancel their places first, or make a new event."
                    )
                }
            )

    @property
    def per_session(self) -> bool:
        """Whether people sign up for single sessions (drop-in)."""
        return self.sign_up_per == SignUpPer.SESSION

    @property
    def registration_on(self):
        return self.registration_mode != RegistrationMode.NONE

    @cached_property
    def confirmed_count(self):
        """How many people hold a confirmed place (from Registration rows)."""
        return self.registrations.filter(status=RegistrationStatus.CONFIRMED).count()

    @cached_property
    def offered_count(self):
        """How many places are held by an open waitlist offer
        (``events.offers``): they are taken until accepted or passed on."""
        return PlaceOffer.objects.filter(
            registration__event=self, status=PlaceOfferStatus.OPEN
        ).count()

    @property
    def places_left(self):
        """Places still free, or None when there is no limit. A place held
        by an open waitlist offer is not free."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.confirmed_count - self.offered_count, 0)

    @property
    def sign_up_url(self):
        return reverse("event_sign_up", args=[self.pk])

    @property
    def calendar_url(self):
        """The .ics file of every session (outside the page tree: Wagtail's
        page routes cannot end in a file extension)."""
        return reverse("event_calendar", args=[self.pk])

    def sessions_for_display(self):
        """Every session of this event, in date order, with its venue."""
        return self.sessions.select_related("venue").order_by("start")

    def load_for_display(self):
        """Fetch the venue, workshop, confirmed count and places held by
        offers in one query.

        Wagtail serves the page from a plain query; without this, each of
        the three is a query of its own.
        """
        # Counts in subqueries, not a join: grouping by every column of the
        # page, its event row, venue and workshop cost more than the counts.
        loaded = (
            EventPage.objects.filter(pk=self.pk)
            .select_related("venue", "workshop")
            .annotate(
                confirmed_total=Coalesce(
                    models.Subquery(
                        Registration.objects.filter(
                            event=models.OuterRef("pk"),
                            status=RegistrationStatus.CONFIRMED,
                        )
                        .order_by()
                        .values("event")
                        .annotate(count=Count("pk"))
                        .values("count")
                    ),
                    0,
                ),
                offered_total=Coalesce(
                    models.Subquery(
                        PlaceOffer.objects.open()
                        .filter(registration__event=models.OuterRef("pk"))
                        .values("registration__event")
                        .annotate(count=Count("pk"))
                        .values("count")
                    ),
                    0,
                ),
            )
            .get()
        )
        self.venue, self.workshop = loaded.venue, loaded.workshop
        self.confirmed_count = loaded.confirmed_total
        self.offered_count = loaded.offered_total

    def leading_facilitators(self):
        """The listed facilitators who may still facilitate (in the
        Facilitators group and active): the ones the event page and the
        printed sheets name. Someone left listed after leaving the group is
        shown only in the editor, marked as having no access."""
        # By id: a page being previewed holds its facilitators in memory,
        # where a lookup through groups cannot run. A page read from the
        # database gives a query, used as a subquery (one query, not two).
        listed = self.facilitators.all()
        if isinstance(listed, models.QuerySet):
            listed = listed.values("pk")
        else:
            listed = [user.pk for user in listed]
        return get_user_model().objects.filter(
            pk__in=listed, groups__name=FACILITATORS_GROUP, is_active=True
        )

    def get_context(self, request, *args, **kwargs):
        from .registration import registration_refusal  # cycle: it imports models

        context = super().get_context(request, *args, **kwargs)
        self.load_for_display()
        sessions = list(self.sessions_for_display())
        if self.per_session:
            from .listing import with_places  # cycle: it imports models

            for session in sessions:
                session.event = self
            with_places(sessions)
        refusal = (
            registration_refusal(self, sessions=sessions)
            if self.registration_on
            else None
        )
        public_cache.expires_at(request, self._changes_by_itself_at(sessions))
        context.update(
            sessions=sessions,
            signup_refusal=refusal,
            facilitators=self.leading_facilitators().order_by(
                "first_name", "last_name"
            ),
            session_venues=_distinct_venues(self.venue, sessions),
        )
        return context

    def _changes_by_itself_at(self, sessions):
        """When this page next changes with no one changing anything: sign-up
        opening or closing, a session starting (sign-up closes at the first)
        or ending (it is then shown as past)."""
        moments = [self.registration_opens_at, self.registration_closes_at]
        for session in sessions:
            moments += [session.start, session.end]
        return public_cache.next_moment(moments)


def _distinct_venues(default_venue, sessions):
    """The venues an event meets in: its own first, then session overrides."""
    venues = [default_venue] if default_venue else []
    for session in sessions:
        if session.venue and session.venue not in venues:
            venues.append(session.venue)
    return venues


class SessionStatus(models.TextChoices):
    """Whether a session goes ahead as first planned."""

    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    MOVED = "moved", _("Moved")


#: The longest a session may last (``events.sessions.check_times`` refuses
#: longer ones). "Upcoming" relies on it: a session that has not ended
#: started at most this long ago, so a listing walks the index on start
#: from there instead of through every past session.
MAX_SESSION_LENGTH = dt.timedelta(days=7)


class EventSessionQuerySet(models.QuerySet):
    """Read rules for sessions, by name."""

    def upcoming(self, now=None):
        """Sessions that have not ended yet, the ones under way included.

        ``start`` is bounded too (no session lasts longer than
        ``MAX_SESSION_LENGTH``), so the database reads the index on start
        from the first session that can still be going, not from the first
        session ever, and a listing in start order stops after a page.
        The condition on ``end`` alone decides which sessions those are.
        """
        now = now or timezone.now()
        return self.filter(start__gte=now - MAX_SESSION_LENGTH, end__gte=now)

    def starting_between(self, earliest, latest):
        """Sessions starting at or after ``earliest`` and before ``latest``:
        a range on the index on ``start``."""
        return self.filter(start__gte=earliest, start__lt=latest)

    def published(self):
        """Sessions of events that are live and not behind a privacy setting.

        Filters on the join rather than a subquery, so a listing can walk
        sessions in start order and stop after one page.
        """
        sessions = self.filter(event__live=True)
        # The restricted pages looked up by id, not joined: SQLite, knowing
        # the page table's size but not the (usually empty) restrictions',
        # otherwise scans every page's path to join them.
        restricted = Page.objects.filter(
            pk__in=PageViewRestriction.objects.values("page_id")
        ).values_list("path", flat=True)
        for path_prefix in restricted:
            sessions = sessions.exclude(event__path__startswith=path_prefix)
        return sessions

    def descendant_of(self, page):
        """Sessions of events below ``page`` in the page tree.

        The path's prefix, less ``page`` itself, says the same as Wagtail's
        ``depth > page.depth`` (paths are unique), without a condition the
        tree's ``(depth, path)`` index can serve: offered that index, SQLite
        read every event below the page, then sorted their sessions, instead
        of walking the sessions in start order and stopping after a page."""
        return self.filter(event__path__startswith=page.path).exclude(event_id=page.pk)

    def not_cancelled(self):
        return self.exclude(status=SessionStatus.CANCELLED)

    def for_listing(self):
        """Sessions with what a listing shows of them, soonest first."""
        return self.select_related("event", "venue", "event__venue").order_by(
            "start", "pk"
        )


def new_session_uid():
    """A calendar UID: globally unique and never reused."""
    return f"{uuid.uuid4()}@gather"


class EventSession(models.Model):
    """One meeting of an event, with a calendar identity that never changes.

    ``uid`` stays the same for the life of the session; ``sequence`` goes up
    with every change so calendar apps replace their copy. ``previous_start``,
    ``previous_end`` and ``previous_venue`` hold when and where it met before
    its latest move (set by ``events.sessions.reschedule_session``), so the
    email about the move can say what changed. The venue is the one it
    actually met at then: its own, or the event's.
    """

    event = models.ForeignKey(
        EventPage, on_delete=models.CASCADE, related_name="sessions"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        help_text=_("Only if this session meets somewhere other than usual."),
    )
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    public_note = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Shown with the session, e.g. 'Moved because of the holiday'."),
    )
    uid = models.CharField(
        max_length=255, unique=True, default=new_session_uid, editable=False
    )
    sequence = models.PositiveIntegerField(default=0, editable=False)
    previous_start = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the session started before it last moved."),
    )
    previous_end = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the session ended before it last moved."),
    )
    previous_venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Where the session met before it last moved."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventSessionQuerySet.as_manager()

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="session_ends_after_start",
            )
        ]
        indexes = [
            # One event's (or a few events') upcoming sessions from the
            # index alone: ``end`` and ``start`` are both in ``upcoming()``.
            # Listings in start order walk the next index from
            # ``now - MAX_SESSION_LENGTH``.
            models.Index(
                fields=["event", "end", "start"], name="session_event_end_start"
            ),
            # Everything in start order or over a range of starts (listings,
            # the site feed's window). ``end`` second: "upcoming" walks from
            # a week back and checks each session's end in the index, so
            # the sessions of that week that are already over cost no read
            # of their rows (at 10x, 1,169 of them before the first page).
            # ``status``, ``event`` and ``venue`` after them: the attendance
            # reports read a year of sessions (held or not, of which event,
            # at which venue) from the index alone, not from every row.
            models.Index(
                fields=["start", "end", "status", "event", "venue"],
                name="session_start_end_status",
            ),
            # The first upcoming session to end (the listing's cache expiry):
            # an ordered LIMIT 1 from ``now`` that stops at the first match.
            models.Index(fields=["end", "start"], name="session_end_start"),
        ]

    def __str__(self):
        local = timezone.localtime(self.start)
        return f"{self.event.title}: {local:%Y-%m-%d %H:%M}"

    @property
    def effective_venue(self):
        """Where this session meets: its own venue, or the event's."""
        return self.venue or self.event.venue

    @property
    def local_date(self):
        return timezone.localdate(self.start)

    @property
    def is_cancelled(self):
        return self.status == SessionStatus.CANCELLED

    @property
    def is_past(self):
        return self.end < timezone.now()

    def series_position(self) -> tuple[int, int]:
        """(n, N) for "Session n of N" on the printed papers: this session's
        place among all the event's sessions by start, cancelled ones
        included (so a cancelled date keeps its number), and how many there
        are, in one query."""
        ids = list(
            EventSession.objects.filter(event_id=self.event_id)
            .order_by("start", "pk")
            .values_list("pk", flat=True)
        )
        return ids.index(self.pk) + 1, len(ids)

    def week_number(self) -> int:
        """Which session of the course this is, for the workshop's session
        plans: 1 + the event's sessions that go ahead before it, in start
        order, in one query.

        Cancelled sessions are not counted, because a cancelled week is
        skipped and the group picks up where it left off: after week 2 is
        cancelled, the next session runs week 2's plan. A cancelled session
        itself gets the number of the plan it would have run (the one the
        next session now runs). This differs from "Session 3 of 8" on the
        printed papers, which counts every date in the series.
        """
        earlier = (
            EventSession.objects.filter(event_id=self.event_id)
            .not_cancelled()
            .filter(Q(start__lt=self.start) | Q(start=self.start, pk__lt=self.pk))
        )
        return earlier.count() + 1


class RegistrationStatus(models.TextChoices):
    """Where a person stands for a place."""

    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


class RegistrationQuerySet(models.QuerySet):
    """Read rules for registrations, by name."""

    def confirmed(self):
        return self.filter(status=RegistrationStatus.CONFIRMED)

    def waitlisted(self):
        """People waiting for a place, first in line first."""
        return self.filter(status=RegistrationStatus.WAITLISTED).order_by(
            "waitlist_position", "pk"
        )

    def active(self):
        """Everyone who has not cancelled."""
        return self.exclude(status=RegistrationStatus.CANCELLED)

    def for_session(self, session):
        """The registrations that cover ``session``: places on the whole
        series of its event, and places on that session alone (drop-in).
        Every list of "the people of a session" (roster, check-in, sheets,
        reminders, changes) goes through this."""
        return self.filter(event_id=session.event_id).filter(
            Q(session__isnull=True) | Q(session_id=session.pk)
        )

    def in_scope(self, event, session=None):
        """The registrations that share places and a waitlist: the whole
        series of ``event`` (``session`` None), or one of its sessions."""
        if session is None:
            return self.filter(event=event, session__isnull=True)
        return self.filter(event=event, session=session)

    def not_anonymised(self):
        """Registrations that still hold a person's details."""
        return self.filter(anonymised_at__isnull=True)

    def phone_needs_check(self):
        """People whose phone number, kept from before numbers were checked,
        could not be read (``phone_as_typed``): staff confirm it with them."""
        return self.not_anonymised().exclude(phone_as_typed="")

    def with_email(self):
        """People who gave an email address and have not withdrawn their
        consent to emails, so can be emailed."""
        return self.exclude(email="").exclude(
            pk__in=Consent.objects.withdrawn()
            .filter(channel=Channel.EMAIL)
            .values("registration")
        )

    def without_email(self):
        """People emails do not reach (no address, or consent to emails
        withdrawn): staff call them instead."""
        return self.filter(
            Q(email="")
            | Q(
                pk__in=Consent.objects.withdrawn()
                .filter(channel=Channel.EMAIL)
                .values("registration")
            )
        )

    def consenting(self, channel: str):
        """People who agreed to be contacted on ``channel`` and have not
        withdrawn it (e.g. reminders by email)."""
        return self.filter(
            pk__in=Consent.objects.given()
            .filter(channel=channel)
            .values("registration")
        )


class Registration(models.Model):
    """A person's place on an event: the whole series, or one session
    (``session``, when the event's ``sign_up_per`` is "session").

    Places left and waitlist order are always computed from these rows. The
    manage link's token is never stored: it is derived from ``token_salt``
    and the site's secret key (see ``events.registration``), and only its
    hash is kept for look-ups. Support needs are stored encrypted
    (``core.encryption``): SQL can tell only whether someone gave any.
    """

    event = models.ForeignKey(
        EventPage, on_delete=models.CASCADE, related_name="registrations"
    )
    session = models.ForeignKey(
        EventSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
        help_text=_(
            "The one date this place is for (drop-in sign-up). Empty: the whole series."
        ),
    )
    name = models.CharField(
        max_length=120, help_text=_("The name they want to be called.")
    )
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(
        max_length=40,
        blank=True,
        help_text=_(
            "A mobile or landline number, kept with its country code, so any "
            "way of typing one number is the same number."
        ),
    )
    phone_as_typed = models.CharField(
        max_length=40,
        blank=True,
        help_text=_(
            "A number kept from before numbers were checked that could not be "
            "read as a phone number; staff check it with the person "
            "(Registration.objects.phone_needs_check())."
        ),
    )
    call_times = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Best times to call, in the person's words (for the call list)."),
    )
    voicemail_ok = models.BooleanField(
        default=False,
        help_text=_(
            "Whether staff may leave a voicemail. No unless the person said "
            "yes: phones are often shared."
        ),
    )
    support_needs = EncryptedTextField(
        blank=True,
        help_text=_(
            "Support or access needs. Seen only by coordinators and facilitators."
        ),
    )
    status = models.CharField(
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.CONFIRMED,
    )
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    token_salt = models.CharField(max_length=64, editable=False)
    manage_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the personal details were removed (retention or erasure). "
            "The place and its attendance still count in the reports."
        ),
    )
    repeat_notice_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When a repeat sign-up last re-sent this person's email; another "
            "repeat within a day sends nothing."
        ),
    )

    objects = RegistrationQuerySet.as_manager()

    # A registration is not a "use" of its event page in the admin's sense,
    # and indexing it would queue a task inside every sign-up's transaction.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # ``created_at`` and ``session`` after the status: the reports'
            # "No record" count reads an event's confirmed places signed up
            # before each session from the index alone.
            models.Index(
                fields=["event", "status", "created_at", "session"],
                name="registration_event_status",
            ),
            models.Index(fields=["session", "status"]),
            # The admin registrations list's order (``RegistrationIndexView``).
            models.Index(
                fields=["event", "status", "waitlist_position", "created_at"],
                name="registration_listing_order",
            ),
            # The repeat-sign-up check looks people up by email, in any case.
            models.Index(
                models.F("event"),
                Upper("email"),
                name="registration_event_email_ci",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="waitlisted", waitlist_position__isnull=False)
                | (~Q(status="waitlisted") & Q(waitlist_position__isnull=True)),
                name="waitlist_position_only_when_waitlisted",
            ),
            models.UniqueConstraint(
                fields=["event", "waitlist_position"],
                condition=Q(session__isnull=True),
                name="one_person_per_waitlist_position",
            ),
            models.UniqueConstraint(
                fields=["session", "waitlist_position"],
                condition=Q(session__isnull=False),
                name="one_person_per_session_waitlist_position",
            ),
        ]

    def __str__(self):
        # No name: Wagtail's history, usage and delete screens and its log
        # entries' labels use this, and none of them may name a person.
        return _("Registration %(id)s for %(event)s") % {
            "id": self.pk,
            "event": self.event.title,
        }

    @property
    def can_be_emailed(self) -> bool:
        """Whether emails reach this person (the rule of ``with_email()``);
        staff phone the others. Reads ``consents`` (prefetch it in lists)."""
        return bool(self.email) and not any(
            consent.channel == Channel.EMAIL and consent.withdrawn_at is not None
            for consent in self.consents.all()
        )

    @property
    def phone_needs_check(self) -> bool:
        """Whether a number kept as typed waits for staff to check it (the
        rule of ``Registration.objects.phone_needs_check()``)."""
        return bool(self.phone_as_typed) and self.anonymised_at is None

    def session_label(self) -> str:
        """The registrations listing's date column: the one date of a
        drop-in place, or "Whole series" (select ``session`` in lists)."""
        if self.session_id is None:
            return _("Whole series")
        start = timezone.localtime(self.session.start)
        return f"{start:%Y-%m-%d %H:%M}"

    def phone_check_label(self) -> str:
        """The registrations listing's flag for ``phone_needs_check``."""
        return _("Phone number to check") if self.phone_needs_check else ""

    @property
    def first_name_and_initial(self):
        """'Sam R.' for 'Sam Rivera': enough for a sign-in sheet or a roll call."""
        parts = self.name.split()
        if len(parts) < 2:
            return self.name
        return f"{parts[0]} {parts[-1][0]}."


class QuestionKind(models.TextChoices):
    """What sort of answer a sign-up question takes."""

    TEXT = "text", _("Short text")
    CHOICE = "choice", _("Choice from a list")
    YES_NO = "yes_no", _("Yes or no")


#: Bounds of a question and its answers (the form and the model share them).
QUESTION_LABEL_MAX = 200
QUESTION_HELP_MAX = 300
CHOICE_MAX = 100
CHOICES_MAX = 20
ANSWER_MAX = 500


def split_choices(text: str) -> list[str]:
    """The options of a choice question: one per line, blank lines and
    repeats left out, in the order written."""
    seen = []
    for line in (text or "").splitlines():
        option = line.strip()
        if option and option not in seen:
            seen.append(option)
    return seen


class RegistrationQuestion(Orderable):
    """A question of an event's own on its sign-up form (``events.questions``
    builds the fields).

    A child of the page (``InlinePanel``), so questions are edited with the
    page and go live when it is published; the form asks the live ones. A
    demographic question is optional and has set answers (a choice or yes
    or no): its answers are shown only as totals in the reports, never next
    to a name, and are counted into ``AnswerTally`` when the person's
    details are removed, so those totals survive retention.
    """

    event = ParentalKey(
        "events.EventPage", on_delete=models.CASCADE, related_name="questions"
    )
    label = models.CharField(
        max_length=QUESTION_LABEL_MAX,
        help_text=_(
            "The question as people read it, e.g. 'How did you hear about us?'"
        ),
    )
    kind = models.CharField(
        max_length=20, choices=QuestionKind.choices, default=QuestionKind.TEXT
    )
    choices = models.TextField(
        blank=True,
        help_text=_(
            "For a choice: the answers people choose from, one per line "
            "(2 to 20, each up to 100 characters)."
        ),
    )
    required = models.BooleanField(
        default=False, help_text=_("People must answer to sign up.")
    )
    help_text = models.CharField(
        max_length=QUESTION_HELP_MAX,
        blank=True,
        help_text=_("A short hint shown under the question."),
    )
    demographic = models.BooleanField(
        default=False,
        help_text=_(
            "For counting who comes (optional choice or yes/no questions only): "
            "answers appear only as totals in the reports, never next to a name."
        ),
    )

    panels = [
        FieldPanel("label"),
        FieldPanel("kind"),
        FieldPanel("choices"),
        FieldRowPanel([FieldPanel("required"), FieldPanel("demographic")]),
        FieldPanel("help_text"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("registration question")

    def __str__(self):
        return self.label

    @property
    def options(self) -> list[str]:
        """The answers of a choice question (none for other kinds)."""
        return split_choices(self.choices) if self.kind == QuestionKind.CHOICE else []

    def clean(self):
        super().clean()
        errors = {}
        if self.kind == QuestionKind.CHOICE:
            options = split_choices(self.choices)
            if len(options) < 2:
                errors["choices"] = _("Give at least two answers, one per line.")
            elif len(options) > CHOICES_MAX:
                errors["choices"] = _("Give at most %(max)s answers.") % {
                    "max": CHOICES_MAX
                }
            elif any(len(option) > CHOICE_MAX for option in options):
                errors["choices"] = _(
                    "Keep each answer to %(max)s characters or fewer."
                ) % {"max": CHOICE_MAX}
        elif self.choices.strip():
            errors["choices"] = _("Only a choice question has answers to choose from.")
        if self.demographic:
            if self.required:
                errors["required"] = _(
                    "A demographic question must be optional: nobody has to "
                    "say this to take part."
                )
            if self.kind == QuestionKind.TEXT:
                errors["kind"] = _(
                    "A demographic question needs set answers (a choice, or "
                    "yes or no): free text could name the person in a total."
                )
        if not self.demographic and self._was_demographic_with_answers():
            errors["demographic"] = _(
                "People answered this question on the promise that only totals "
                "are shown, so it stays demographic. Add a new question instead."
            )
        if errors:
            raise ValidationError(errors)

    def _was_demographic_with_answers(self) -> bool:
        if self.pk is None:
            return False
        stored = RegistrationQuestion.objects.filter(pk=self.pk, demographic=True)
        return stored.exists() and (
            self.answers.exclude(value="").exists() or self.tallies.exists()
        )


class RegistrationAnswer(models.Model):
    """One person's answer to one question, stored encrypted
    (``core.encryption``), like support needs. ``""`` is a question left
    blank (kept for demographic questions, so the reports can say how many
    chose not to answer). Deleted when the registration is anonymised
    (``events.privacy``)."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        RegistrationQuestion, on_delete=models.CASCADE, related_name="answers"
    )
    value = EncryptedTextField(blank=True)

    # Like registrations: not a "use" of the page, and no task per sign-up.
    wagtail_reference_index_ignore = True

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self):
        # Never the answer itself: labels end up in logs and admin screens.
        return _("Answer %(id)s") % {"id": self.pk}


class AnswerTally(models.Model):
    """How many anonymised registrations gave each answer to a demographic
    question: the answers are deleted with the person's details, and their
    counts move here, linked to nobody, so the reports' totals stay the same.
    ``value`` ``""`` counts people who did not answer."""

    question = models.ForeignKey(
        RegistrationQuestion, on_delete=models.CASCADE, related_name="tallies"
    )
    value = models.CharField(max_length=CHOICE_MAX, blank=True)
    count = models.PositiveIntegerField(default=0)

    wagtail_reference_index_ignore = True

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "value"], name="one_tally_per_answer"
            )
        ]

    def __str__(self):
        return _("Tally %(id)s") % {"id": self.pk}


class Channel(models.TextChoices):
    """The ways staff may contact a person, each with its own consent."""

    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")
    CALL = "call", _("Phone call")


class ConsentQuerySet(models.QuerySet):
    """Read rules for consent, by name."""

    def given(self):
        """Consent given and not withdrawn."""
        return self.filter(given_at__isnull=False, withdrawn_at__isnull=True)

    def withdrawn(self):
        return self.filter(withdrawn_at__isnull=False)


class Consent(models.Model):
    """What one person agreed to on one channel: when, and which wording they
    were shown (``events.consent.CONSENT_WORDING_VERSION``), and when they
    withdrew it.

    One row per registration and channel, written by ``events.consent``. No
    row means the person was never asked or did not agree; a row with
    ``withdrawn_at`` and no ``given_at`` records someone who never agreed
    asking for no more messages on that channel (for email: none at all).
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    given_at = models.DateTimeField(null=True, blank=True)
    wording_version = models.CharField(
        max_length=40,
        blank=True,
        help_text=_(
            'The consent wording shown when it was given; "legacy" '
            "for consent recorded before each channel had its own."
        ),
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "channel"], name="one_consent_per_channel"
            )
        ]

    def __str__(self):
        return f"Consent {self.registration_id} / {self.channel}"

    @property
    def is_given(self) -> bool:
        return self.given_at is not None and self.withdrawn_at is None


class SentReminder(models.Model):
    """Records that one person was reminded of one session, so it happens once."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="reminders"
    )
    session = models.ForeignKey(
        EventSession, on_delete=models.CASCADE, related_name="reminders"
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "session"], name="one_reminder_per_session"
            )
        ]

    def __str__(self):
        return f"Reminder {self.registration_id} / {self.session_id}"


class CalendarFeedToken(models.Model):
    """The secret in a person's private calendar feed address.

    Like manage links, the token is derived from ``salt`` and the site's
    secret key and only its hash is stored; a new salt makes the old
    address stop working.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    salt = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"


# Messages ------------------------------------------------------------------------


class MessageKind(models.TextChoices):
    """What a message to a person is about (``events.messaging``)."""

    CONFIRMED = "confirmed", _("Place booked")
    DATES_BOOKED = "dates_booked", _("Dates booked")
    WAITLISTED = "waitlisted", _("On the waitlist")
    PROMOTED = "promoted", _("A place opened up")
    CANCELLED = "cancelled", _("Place cancelled")
    LEFT_WAITLIST = "left_waitlist", _("Left the waitlist")
    SESSION_CANCELLED = "session_cancelled", _("Session cancelled")
    SESSION_MOVED = "session_moved", _("Session changed")
    REMINDER = "reminder", _("Reminder")
    GROUP = "group", _("Message to the group")
    SERIES_CHANGED = "series_changed", _("Sessions changed")
    PLACE_OFFERED = "place_offered", _("A place is offered")
    OFFER_EXPIRED = "offer_expired", _("The offer of a place ended")


class PlaceOfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PlaceOfferQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=PlaceOfferStatus.OPEN)


class PlaceOffer(models.Model):
    """A free place offered to a waitlisted person until ``expires_at``
    (``events.offers``), for events with ``waitlist_offer_hours``.

    While open it holds the place: confirmed people plus open offers never
    exceed the capacity. The person stays on the waitlist until they
    accept. Like the manage link, the accept link's token is never stored:
    it is derived from ``token_salt`` and the site's secret key, and only
    its hash is kept. The row holds no personal data of its own.
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="place_offers"
    )
    status = models.CharField(
        max_length=10,
        choices=PlaceOfferStatus.choices,
        default=PlaceOfferStatus.OPEN,
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        help_text=_("The place goes to the next person after this.")
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    token_salt = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = PlaceOfferQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=Q(status="open"),
                name="one_open_offer_per_registration",
            )
        ]

    def __str__(self):
        # No name, as for Registration.
        return f"Place offer {self.pk} ({self.status})"


class GroupAudience(models.TextChoices):
    """Who a message to a group goes to."""

    CONFIRMED = "confirmed", _("Everyone with a place")
    WAITLIST = "waitlist", _("Everyone on the waitlist")
    ATTENDED = "attended", _("Those who came to a session")
    MISSED = "missed", _("Those who missed a session")


class GroupMessageQuerySet(models.QuerySet):
    """Read rules for messages to a group, by name."""

    def sent_to(self, registration):
        """The messages addressed to ``registration``: those it has a
        delivery (email or text, whatever came of it) or a call-list entry
        for, newest first. A person no channel reached has neither."""
        about_groups = {"group_message__isnull": False}
        return self.filter(
            Q(
                pk__in=registration.deliveries.filter(**about_groups).values(
                    "group_message"
                )
            )
            | Q(
                pk__in=registration.call_requests.filter(**about_groups).values(
                    "group_message"
                )
            )
        ).order_by("-created_at", "-pk")


class GroupMessage(models.Model):
    """A message a coordinator or facilitator wrote to the people of one event.

    Each person gets it by their own channels (a ``Delivery`` per channel) or
    is put on the call list; it is shown on their manage page.
    """

    event = models.ForeignKey(
        EventPage, on_delete=models.CASCADE, related_name="group_messages"
    )
    audience = models.CharField(max_length=20, choices=GroupAudience.choices)
    session = models.ForeignKey(
        EventSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The session, for those who came to it or missed it."),
    )
    body = models.TextField(
        max_length=600,
        help_text=_(
            "What people read, in plain words. It goes by email and text "
            "message; keep it short."
        ),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(
        default=0, help_text=_("How many people it was sent to.")
    )

    objects = GroupMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return _("Message %(id)s to %(event)s") % {
            "id": self.pk,
            "event": self.event.title,
        }


class SeriesChangeKind(models.TextChoices):
    """What changing the rest of a series did to each of its sessions."""

    TIME = "time", _("A new time of day")
    WEEKDAY = "weekday", _("Another weekday")
    VENUE = "venue", _("Another venue")
    CANCEL = "cancel", _("Cancel the rest")


class SeriesChange(models.Model):
    """One change to the rest of a series (``events.sessions.
    change_rest_of_series``): which sessions it moved or cancelled, so each
    person is told once, in one message listing them all."""

    event = models.ForeignKey(
        EventPage, on_delete=models.CASCADE, related_name="series_changes"
    )
    kind = models.CharField(max_length=10, choices=SeriesChangeKind.choices)
    sessions = models.ManyToManyField(EventSession, related_name="series_changes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return _("Change %(id)s to %(event)s") % {
            "id": self.pk,
            "event": self.event.title,
        }

    @property
    def is_cancellation(self) -> bool:
        return self.kind == SeriesChangeKind.CANCEL

    def changed_sessions(self) -> list[EventSession]:
        """The sessions it changed, in date order (prefetch ``sessions``)."""
        return sorted(self.sessions.all(), key=lambda s: (s.start, s.pk))


class Frequency(models.TextChoices):
    """How a series repeats (``events.sessions.RepeatPattern``)."""

    WEEKLY = "weekly", _("Every week, or every few weeks")
    MONTHLY_BY_WEEKDAY = (
        "monthly_weekday",
        _("Every month on a weekday, such as the first Thursday"),
    )
    MONTHLY_BY_DATE = (
        "monthly_date",
        _("Every month on a date, such as the 15th"),
    )


class SeriesRuleQuerySet(models.QuerySet):
    """Read rules for stored repeat rules."""

    def with_dates_to_make(self):
        """Rules the top-up still reads: open-ended ones, and stopped ones
        whose end date is after what has been made."""
        return self.filter(
            Q(open_ended=True)
            | Q(until__isnull=False, until__gt=models.F("generated_until"))
        )


class SeriesRule(models.Model):
    """A series' repeat rule, kept so that an open-ended series ("keeps
    going") can be topped up: ``events.open_series.top_up_series`` makes its
    sessions a rolling number of weeks ahead (``GATHER_ROLLING_WEEKS_AHEAD``).

    The fields are a ``RepeatPattern`` without its end (``pattern``), read
    in step with ``first_date``, at ``start_time`` to ``end_time`` local
    wall time, leaving out ``skip_dates`` (ISO dates) and every closure.
    ``generated_until`` is the last date the rule has been read up to:
    the next top-up reads only after it, so a session a coordinator deleted
    or cancelled is never made again. Stopping (``until``, with
    ``open_ended`` off) ends the top-ups on that date.
    """

    event = models.ForeignKey(
        EventPage, on_delete=models.CASCADE, related_name="series_rules"
    )
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    #: For a monthly series on a weekday: 1 to 4, or -1 for the last.
    weekday_position = models.SmallIntegerField(null=True, blank=True)
    #: 0 is Monday: the weekday a weekly or monthly-by-weekday series meets on.
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    #: For a monthly series on a date.
    month_day = models.PositiveSmallIntegerField(null=True, blank=True)
    first_date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    skip_dates = models.JSONField(default=list, blank=True)
    open_ended = models.BooleanField(default=True)
    #: The last date of a stopped series.
    until = models.DateField(null=True, blank=True)
    generated_until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SeriesRuleQuerySet.as_manager()

    class Meta:
        ordering = ["first_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="series_rule_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(open_ended=True) | Q(until__isnull=False),
                name="series_rule_open_or_until",
            ),
        ]

    def __str__(self):
        return _("Repeat rule %(id)s of %(event)s") % {
            "id": self.pk,
            "event": self.event.title,
        }

    @property
    def skipped(self) -> set:
        """``skip_dates`` as dates."""
        return {dt.date.fromisoformat(day) for day in self.skip_dates}


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    NOT_SENT = "not_sent", _("Not sent (no longer needed)")


class DeliveryQuerySet(models.QuerySet):
    def due(self, now):
        """Messages waiting to go whose time has come (after quiet hours, or
        the next try after a failure)."""
        return self.filter(status=DeliveryStatus.PENDING, send_after__lte=now)

    def failed(self):
        return self.filter(status=DeliveryStatus.FAILED)


class Delivery(models.Model):
    """One message to one person on one channel (email or text): what it was
    about, when it may go, how many tries it took, and what came of it.

    The text itself is not stored: it is built from the templates when sent,
    so a held message says what is true when it goes.
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    session = models.ForeignKey(
        EventSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    group_message = models.ForeignKey(
        GroupMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    series_change = models.ForeignKey(
        SeriesChange,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    send_after = models.DateTimeField(
        help_text=_("Not before this time (quiet hours, or the next try).")
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self):
        return f"Delivery {self.pk} ({self.channel}, {self.kind})"


class CallReason(models.TextChoices):
    NEW_SIGN_UP = "new_sign_up", _("New sign-up")
    WAITLISTED = "waitlisted", _("Put on the waitlist")
    PROMOTED = "promoted", _("Moved up from the waitlist")
    CANCELLED = "cancelled", _("Place cancelled")
    SESSION_CHANGED = "session_changed", _("Session changed")
    REMINDER = "reminder", _("Reminder")
    MESSAGE = "message", _("Message to the group")
    PLACE_OFFERED = "place_offered", _("Offered a place, to accept in time")
    OFFER_EXPIRED = "offer_expired", _("Offer of a place ended")


#: Why staff call, for each message kind.
CALL_REASONS = {
    MessageKind.CONFIRMED: CallReason.NEW_SIGN_UP,
    MessageKind.DATES_BOOKED: CallReason.NEW_SIGN_UP,
    MessageKind.WAITLISTED: CallReason.WAITLISTED,
    MessageKind.PROMOTED: CallReason.PROMOTED,
    MessageKind.CANCELLED: CallReason.CANCELLED,
    MessageKind.LEFT_WAITLIST: CallReason.CANCELLED,
    MessageKind.SESSION_CANCELLED: CallReason.SESSION_CHANGED,
    MessageKind.SESSION_MOVED: CallReason.SESSION_CHANGED,
    MessageKind.REMINDER: CallReason.REMINDER,
    MessageKind.GROUP: CallReason.MESSAGE,
    MessageKind.SERIES_CHANGED: CallReason.SESSION_CHANGED,
    MessageKind.PLACE_OFFERED: CallReason.PLACE_OFFERED,
    MessageKind.OFFER_EXPIRED: CallReason.OFFER_EXPIRED,
}


class CallStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a call")
    DONE = "done", _("Done")


class CallOutcome(models.TextChoices):
    CALLED = "called", _("Spoke to them")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")


class CallRequestQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=CallStatus.WAITING)

    def to_make(self):
        """Waiting calls someone still needs. None to a person whose
        details were removed (anonymised: no name or number to call). Once
        a place is cancelled, only the call that says so (the news the
        others carried no longer holds); once someone has left the
        waitlist, not the call saying they are on it (a newer call says
        where they stand). The rows are left as they are, so the list
        follows the registration however it changed (the admin, the
        person's own link, erasure)."""
        open_offer = PlaceOffer.objects.filter(
            registration=models.OuterRef("registration"),
            status=PlaceOfferStatus.OPEN,
        )
        return self.waiting().filter(
            Q(registration__anonymised_at__isnull=True),
            ~Q(registration__status=RegistrationStatus.CANCELLED)
            | Q(reason=CallReason.CANCELLED),
            ~Q(reason=CallReason.WAITLISTED)
            | Q(registration__status=RegistrationStatus.WAITLISTED),
            # An offer's call only while the offer is open: once it is
            # accepted, declined or over, there is nothing to offer.
            ~Q(reason=CallReason.PLACE_OFFERED) | Q(models.Exists(open_offer)),
        )


class CallRequest(models.Model):
    """Someone only a call from staff can reach (no email that reaches them,
    no consent to texts) has something to hear: a place, a change, a
    reminder, a message. Staff work through these on the call list."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="call_requests"
    )
    reason = models.CharField(max_length=20, choices=CallReason.choices)
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    session = models.ForeignKey(
        EventSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_requests",
    )
    group_message = models.ForeignKey(
        GroupMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_requests",
    )
    series_change = models.ForeignKey(
        SeriesChange,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_requests",
    )
    status = models.CharField(
        max_length=10, choices=CallStatus.choices, default=CallStatus.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CallRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Call {self.pk} ({self.reason})"


class CallAttempt(models.Model):
    """One try at a call on the call list, by whom and how it went."""

    call = models.ForeignKey(
        CallRequest, on_delete=models.CASCADE, related_name="attempts"
    )
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"Call attempt {self.pk} ({self.outcome})"
