"""The event chooser: a Wagtail chooser modal that lists, pages and searches
only the events the user may see, and the form field and filter that use
it in place of a drop-down of every event.

A drop-down holds one option per event ever planned, so a screen with one
grows with the program's history; the chooser's widget renders only the
chosen event, and its modal shows one page of events at a time. Every
query the modal answers starts from ``events_visible_to(request.user)``:
a facilitator finds their own events and nothing else, not even another
event's title by its id. Used by the registrations and sessions listings'
filters, the attendance reports form, the registrations spreadsheet
import, the add-registration and move forms and the "Message a group"
screen.

A form that accepts fewer events than the user may see (the add form takes
only events with sign-up, Move to only published ones other than the
person's own) names a *scope* (``chooser_scopes``): its field's
``choose_from`` sets both the events the form accepts and the modal's
``?for=`` parameter, so the modal offers exactly those.

The modal counts its events, searched or not, only as far as the page
asked for needs (``EventChooserPaginator``), and its search reads titles
from an index in title order (events migration 0026), so a page costs the
same whatever the number of events.
"""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy
from wagtail import hooks
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet

from core.dates import site_zone
from core.forms import PageChoiceField, PageChoiceFilter, plausible_id, search_words

from .listing import CountingUpToPaginator
from .models import EventPage, EventSession
from .permissions import (
    events_to_add_people_to,
    events_to_move_people_to,
    events_visible_to,
)

#: The modal URL's parameter naming its scope, and the one argument a scope
#: may take (Move to: the event the person is on); both are kept on the
#: modal's search, page and "chosen" links.
SCOPE_PARAM = "for"
SCOPE_ARGUMENT = "from"
SCOPES_HOOK = "register_event_chooser_scopes"


def _moving_from(params):
    value = params.get(SCOPE_ARGUMENT)
    return int(value) if plausible_id(value) else None


def chooser_scopes() -> dict:
    """What the chooser can offer, by scope name: functions of the user and
    the modal URL's parameters returning the events. No name (the listings'
    filters, the reports, the import) is every event the user may see;
    higher apps add theirs from a ``register_event_chooser_scopes`` hook
    (``{name: function}``). Each starts from what the user may see."""
    scopes = {
        "": lambda user, params: events_visible_to(user),
        "add": lambda user, params: events_to_add_people_to(user),
        "move": lambda user, params: events_to_move_people_to(
            user, from_event_id=_moving_from(params)
        ),
    }
    for hook in hooks.get_hooks(SCOPES_HOOK):
        scopes.update(hook())
    return scopes


def scoped_events(request):
    """The events of the scope the modal's URL names, for its user; a 404
    for a scope that does not exist."""
    scope = chooser_scopes().get(request.GET.get(SCOPE_PARAM, ""))
    if scope is None:
        raise Http404
    return scope(request.user, request.GET)


def choosable_events(request):
    """The events the chooser offers ``request.user`` (``scoped_events``),
    each with the start of its first session (``first_start``) to tell
    apart events of the same title; a subquery, so only the page of events
    shown pays for it."""
    first = EventSession.objects.filter(event=OuterRef("pk")).order_by("start")
    return (
        scoped_events(request)
        .annotate(first_start=Subquery(first.values("start")[:1]))
        .order_by("title", "pk")
    )


class EventSearchForm(BaseFilterForm):
    """The modal's search box: events whose title holds every word typed.

    A plain title match rather than the search index, so a facilitator's
    restricted queryset can be searched as it is, and events are found
    whether or not the index has been brought up to date."""

    q = forms.CharField(
        label=gettext_lazy("Search term"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Search")}),
        required=False,
        max_length=200,
    )

    def filter(self, objects):
        words = search_words(self.cleaned_data.get("q") or "").split()
        if not words:
            return objects
        self.is_searching = True
        self.search_query = self.cleaned_data["q"]
        condition = Q()
        for word in words[:10]:
            condition &= Q(title__icontains=word)
        return objects.filter(condition)


def first_date_text(event) -> str:
    """The local date of an event's first session, or a dash."""
    if event.first_start is None:
        return "—"
    return date_format(timezone.localtime(event.first_start, site_zone()))


def status_text(event) -> str:
    return str(gettext_lazy("Published") if event.live else gettext_lazy("Draft"))


class EventChooserPaginator(CountingUpToPaginator, WagtailPaginator):
    """The modal's pages of events, counted up to ``COUNT_LIMIT`` (or one
    past the page asked for, if that is further), as the public listing
    counts its sessions: counting every event that matches a common word
    read every one of them, so the modal grew with the program's history.
    Below the limit the count is exact, as Wagtail's paginator's."""

    COUNT_LIMIT = 200

    def __init__(self, object_list, per_page, **kwargs):
        kwargs.setdefault("count_limit", self.COUNT_LIMIT)
        super().__init__(object_list, per_page, **kwargs)

    @property
    def items_count_label(self):
        """The pagination's "20 events", or "More than 200 events" when the
        count stopped short."""
        if self.more_than_counted:
            return gettext("More than %(count)s events") % {
                "count": number_format(self.counted_floor, force_grouping=True)
            }
        return super().items_count_label

    def page(self, number):
        # Wagtail's chooser asks for the page directly (a page that does not
        # exist is its 404), so count as far as this page here.
        try:
            wanted = min(max(int(number), 1), self.MAX_PAGE)
        except (TypeError, ValueError):
            wanted = 1
        self.counted_floor = max(self.count_limit, wanted * self.per_page)
        return super().page(number)


class EventChooseViewMixin:
    """The modal's listing: ``choosable_events``, searched by title, a page
    at a time (``EventChooserPaginator``)."""

    filter_form_class = EventSearchForm
    paginator_class = EventChooserPaginator
    results_template_name = "events/admin/event_chooser_results.html"

    def get_object_list(self):
        return choosable_events(self.request)

    def can_create(self):
        return False  # events are made in the page tree

    def apply_object_list_ordering(self, objects):
        return objects  # ``choosable_events`` orders by title

    @property
    def columns(self):
        return [
            *super().columns,
            Column(
                "first_date", label=gettext_lazy("First date"), accessor=first_date_text
            ),
            Column("status", label=gettext_lazy("Status"), accessor=status_text),
        ]


class EventChooseView(EventChooseViewMixin, chooser_views.ChooseView):
    pass


class EventChooseResultsView(EventChooseViewMixin, chooser_views.ChooseResultsView):
    pass


class EventChosenView(chooser_views.ChosenView):
    """The chosen event's id and title, for one the modal offers; any other
    id is a 404."""

    def get_object(self, pk):
        if not plausible_id(pk):
            raise EventPage.DoesNotExist
        return scoped_events(self.request).get(pk=pk)


class EventChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        ids = [pk for pk in pks if plausible_id(pk)]
        return scoped_events(self.request).filter(pk__in=ids)


class EventChooserViewSet(ChooserViewSet):
    """The modal at ``/admin/event_chooser/``. It creates nothing (events
    are made in the page tree), and it is not the default widget of every
    admin form with an event: only the fields below use it."""

    model = EventPage
    icon = "date"
    choose_one_text = gettext_lazy("Choose an event")
    choose_another_text = gettext_lazy("Choose another event")
    edit_item_text = gettext_lazy("Edit this event")
    register_widget = False
    per_page = 20
    # The scope, kept on the modal's search, page and "chosen" links.
    preserve_url_parameters = ["multiple", SCOPE_PARAM, SCOPE_ARGUMENT]
    choose_view_class = EventChooseView
    choose_results_view_class = EventChooseResultsView
    chosen_view_class = EventChosenView
    chosen_multiple_view_class = EventChosenMultipleView

    def get_urlpatterns(self):
        return [
            pattern for pattern in super().get_urlpatterns() if pattern.name != "create"
        ]


event_chooser_viewset = EventChooserViewSet("event_chooser", url_prefix="event_chooser")


class EventChooserWidget(event_chooser_viewset.widget_class):
    """Shows the chosen event only: looked up in the field's queryset, so
    an id from the query string of an event the user may not see (or not
    an id at all) shows as nothing chosen, and names no one's event."""

    show_edit_link = False
    queryset = EventPage.objects.none()
    #: The modal URL's parameters (its scope), set by ``choose_from``.
    modal_params: dict = {}

    def get_chooser_modal_url(self):
        url = super().get_chooser_modal_url()
        return f"{url}?{urlencode(self.modal_params)}" if self.modal_params else url

    def get_instance(self, value):
        if isinstance(value, EventPage):
            return value
        if value is None or not plausible_id(value):
            return None
        try:
            return self.queryset.get(pk=value)
        except ObjectDoesNotExist:
            return None


class EventChoiceField(PageChoiceField):
    """One event, chosen in the event chooser; valid only if it is in
    ``queryset`` (set it to what the user may see, as for any
    ``ModelChoiceField``). The widget looks the chosen event up in the same
    queryset, and never lists the others."""

    widget = EventChooserWidget

    def __init__(self, queryset=None, **kwargs):
        kwargs.setdefault("empty_label", None)
        super().__init__(
            queryset=EventPage.objects.all() if queryset is None else queryset,
            **kwargs,
        )

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self.widget.queryset = self.queryset

    queryset = property(PageChoiceField._get_queryset, _set_queryset)

    def choose_from(self, scope: str, user, **params) -> None:
        """Accept, and offer in the modal, the events of chooser scope
        ``scope`` (``chooser_scopes``) for ``user``: one rule for both, so
        the modal offers nothing the form refuses."""
        params = {name: str(value) for name, value in params.items()}
        self.queryset = chooser_scopes()[scope](user, params)
        self.widget.modal_params = {SCOPE_PARAM: scope, **params}


class EventChoiceFilter(PageChoiceFilter):
    """A listing filter on one event, chosen in the event chooser."""

    field_class = EventChoiceField
