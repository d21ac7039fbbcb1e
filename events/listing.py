"""The public events listing: filters, search and pagination.

Every filter is a plain GET parameter. A value that does not parse is shown
as an error next to its field and otherwise ignored, so no query string can
make the page fail. Only the listing's own parameters are read (the last
value of each, ``core.public_cache.known_params``), so a page is a function
of what its public cache key holds: other parameters change nothing.
"""

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from core import public_cache
from core.forms import AccessibleErrorsMixin, search_words
from core.http import absolute_url

from .models import (
    LISTING_FILTERS,
    EventKind,
    EventPage,
    EventSession,
    EventTopic,
    Setting,
)

ANY = [("", _("Any"))]


class DateInput(forms.DateInput):
    """A native date picker that also accepts typed YYYY-MM-DD dates."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class EventFilterForm(AccessibleErrorsMixin, forms.Form):
    """The listing's search and filter fields; all optional."""

    q = forms.CharField(
        label=_("Search"),
        max_length=200,
        required=False,
        error_messages={
            "max_length": _(
                "Please use fewer words: a search can be up to "
                "%(limit_value)d characters long."
            )
        },
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=ANY + EventKind.choices, required=False
    )
    setting = forms.ChoiceField(
        label=_("Where"), choices=ANY + Setting.choices, required=False
    )
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = ANY + [(t.slug, t.name) for t in topics]

    def clean_q(self):
        typed = self.cleaned_data["q"]
        words = search_words(typed)
        if typed.strip() and not words:
            # Symbols and emoji alone leave nothing to search for: say so
            # rather than showing everything as if the search had matched.
            raise forms.ValidationError(
                _("Search for words or numbers. Symbols and emoji are left out.")
            )
        return words

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    @property
    def is_filtered(self):
        return any(self.valid_filters().values())

    def valid_filters(self):
        """The filters that parsed, ignoring any field with an error."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.errors and value not in (None, "")
        }


def _live_events(index_page=None):
    events = EventPage.objects.live()
    return events.descendant_of(index_page) if index_page else events


def topics_in_use(index_page=None):
    """Topics used by live events (below ``index_page`` if given), by name.

    Per tag, a subquery for its first live event (LIMIT 1), rather than a
    list of every live event's topics: the cost follows the number of
    topics, not of events. A scalar subquery, not EXISTS: PostgreSQL turns
    an EXISTS into a semi-join that hashes every live page once per tag
    (at 10,000 events 60 to 90 ms, against 0.3 ms this way), while the
    subquery's LIMIT keeps it a walk that stops at the first match.
    """
    uses = EventTopic.objects.filter(tag_id=OuterRef("pk"), content_object__live=True)
    if index_page is not None:
        uses = uses.filter(
            content_object__path__startswith=index_page.path,
            content_object__depth__gt=index_page.depth,
        )
    return (
        Tag.objects.alias(first_use=Subquery(uses.values("pk")[:1]))
        .filter(first_use__isnull=False)
        .order_by("name")
    )


#: Below this many matching events a text search is joined as ``IN (the
#: matches)``; from it on, each upcoming session's event is probed instead.
RARE_SEARCH_MATCHES = 50


def filtered_sessions(*, index_page=None, filters, starting_between=None):
    """Upcoming published sessions matching ``filters``, soonest first.

    Limited to events below ``index_page`` when one is given; the site-wide
    calendar feed passes none, and instead of "upcoming" the window of start
    times it covers (``starting_between``: earliest, and latest exclusive).
    """
    if starting_between is None:
        sessions = EventSession.objects.upcoming()
    else:
        sessions = EventSession.objects.starting_between(*starting_between)
    sessions = sessions.published()
    if index_page is not None:
        sessions = sessions.descendant_of(index_page)
    if kind := filters.get("kind"):
        sessions = sessions.filter(event__kind=kind)
    if setting := filters.get("setting"):
        # A session's own venue overrides the event's.
        sessions = sessions.filter(
            Q(venue__setting=setting)
            | Q(venue__isnull=True, event__venue__setting=setting)
        )
    if topic := filters.get("topic"):
        # A subquery, not a join: the database can start from the topic's
        # few events rather than from every session in the time range.
        sessions = sessions.filter(
            event_id__in=EventTopic.objects.filter(tag__slug=topic).values(
                "content_object_id"
            )
        )
    if date_from := filters.get("date_from"):
        sessions = sessions.filter(start__date__gte=date_from)
    if date_to := filters.get("date_to"):
        sessions = sessions.filter(start__date__lte=date_to)
    if query := filters.get("q"):
        matches = matching_events(query, index_page)
        if isinstance(matches, list):
            sessions = sessions.filter(event_id__in=matches)
        elif (
            # Unordered: a count up to a bound needs no sort of the matches.
            matches.order_by().values("pk")[:RARE_SEARCH_MATCHES].count()
            < RARE_SEARCH_MATCHES
        ):
            # Few matches: computing them all is cheap, while walking the
            # sessions for them would read every upcoming one.
            sessions = sessions.filter(event_id__in=matches.values("pk"))
        else:
            # Per session, a probe for its own event among the matches
            # (LIMIT 1), not ``IN (every match)``, which the database
            # plans as a semi-join over every live event that matches,
            # past ones included: the database walks the upcoming sessions
            # in start order and stops when the page is full, so the cost
            # follows the rows shown.
            sessions = sessions.alias(
                search_match=Subquery(
                    matches.filter(pk=OuterRef("event_id")).order_by().values("pk")[:1]
                )
            ).filter(search_match__isnull=False)
    return sessions.for_listing()


def matching_events(words: str, index_page=None):
    """The live events matching every one of ``words``, as a queryset.

    Wagtail's database search backends (PostgreSQL's full-text search,
    SQLite's FTS5, or the plain fallback) can hand back the query they run
    rather than its results: the listing joins that query in the database, so
    a search that matches thousands of events never loads them into Python
    or sends their ids back as a list. A backend that runs elsewhere
    (Elasticsearch) can only give results, and gets the list.
    """
    results = _live_events(index_page).search(
        words, operator="and", order_by_relevance=False
    )
    as_query = getattr(results, "get_queryset", None)
    if as_query is None:
        return [page.pk for page in results]
    return as_query()


class CountingUpToPaginator(Paginator):
    """A paginator that counts matching rows only as far as it needs to.

    Counting every upcoming session costs as much as reading them all, and
    grows with them. This one counts at most ``count_limit`` rows, or as
    many as reach one past the page asked for if that is further (page 40
    of 20 needs 801), plus one to know whether there are more: the count is
    one query whose cost follows the page asked for, not the data's size.

    Below that, it is exact and behaves as Django's ``Paginator`` does.
    Beyond it, ``count_is_exact`` is False, ``count`` is the rows counted
    (one more than ``counted_floor``, the number the page can honestly say
    there are "more than"), and ``num_pages`` the pages those fill, so the
    page asked for exists and has a next page. A page number that is not a
    number, or below 1, gives the first page; one past the last gives the
    last, as ``get_page`` always did.
    """

    #: Pages beyond this are not looked for: the count stops here at most.
    MAX_PAGE = 10_000

    def __init__(self, object_list, per_page, *, count_limit, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_limit = count_limit
        self.counted_floor = count_limit

    def get_page(self, number):
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 1
        wanted = min(max(wanted, 1), self.MAX_PAGE)
        self.counted_floor = max(self.count_limit, wanted * self.per_page)
        return self.page(min(wanted, self.num_pages))

    @cached_property
    def count(self):
        # In the list's own order, so the database walks the rows as the
        # page query does (the listing: the index on start, from a week
        # back) and stops at the limit, rather than however it likes.
        return self.object_list[: self.counted_floor + 1].count()

    @property
    def count_is_exact(self):
        return self.count <= self.counted_floor

    @property
    def more_than_counted(self):
        """Whether there are more rows than were counted (the template's
        "more than N" wording and "page n of at least N")."""
        return not self.count_is_exact


def listing_context(*, index_page, request):
    """Context for the listing template: the form and one page of sessions."""
    typed = public_cache.known_params(request.GET, LISTING_FILTERS)
    form = EventFilterForm(typed or None, topics=topics_in_use(index_page))
    sessions = filtered_sessions(index_page=index_page, filters=form.valid_filters())
    paginator = CountingUpToPaginator(
        sessions,
        settings.GATHER_LISTING_PAGE_SIZE,
        count_limit=settings.GATHER_LISTING_COUNT_LIMIT,
    )
    page_obj = paginator.get_page(request.GET.get("page"))
    shown = with_places(list(page_obj.object_list))
    # A session drops off the listing when it ends.
    public_cache.expires_at(request, lambda: first_end(sessions))
    return {
        "filter_form": form,
        "page_obj": page_obj,
        "sessions": shown,
        "query_string": urlencode(typed),
        "feed_urls": site_feed_urls(form.valid_filters()),
    }


def first_end(sessions):
    """When the first of ``sessions`` to end ends, or None: the lowest
    ``end``, read as an ordered LIMIT 1 on the index on (end, start), which
    stops at the first row that matches instead of visiting every upcoming
    session as ``Min("end")`` does."""
    return sessions.order_by("end").values_list("end", flat=True).first()


def with_places(sessions):
    """``sessions``, each of a drop-in event carrying ``places`` ("2 places
    left", "Full, join the waitlist": ``drop_in.Places``), counted in one
    query for the whole page."""
    from .drop_in import places_by_session  # cycle: drop_in imports models

    places = places_by_session(sessions)
    for session in sessions:
        session.places = places.get(session.pk)
    return sessions


#: Listing filters that the calendar feed understands.
FEED_FILTERS = ("kind", "setting", "topic")


def site_feed_urls(filters):
    """The site feed's https and webcal addresses, carrying feed filters."""
    params = {name: filters[name] for name in FEED_FILTERS if filters.get(name)}
    url = absolute_url(reverse("site_calendar_feed"))
    if params:
        url += "?" + urlencode(params)
    return {"https": url, "webcal": "webcal://" + url.split("://", 1)[1]}
