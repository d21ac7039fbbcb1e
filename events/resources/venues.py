"""The venues spreadsheet: one row per venue."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader

from spreadsheets.cells import (
    as_text,
    is_empty,
    parse_bool,
    parse_choice,
    parse_int,
)
from spreadsheets.resources import (
    GatherResource,
    filters_description,
    search_text,
)

from ..filters import VenueFilterSet
from ..models import (
    Setting,
    Venue,
)
from .shared import listing_url, valid_filterset


class VenueLoader(BaseInstanceLoader):
    """Finds venues by ``id`` (as exported, so a name or room can be changed),
    else by name and room (any case), from one query of all venues."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.by_key = defaultdict(list)
        self.by_id = {}
        for venue in Venue.objects.all():
            self.by_key[venue_key(venue.name, venue.room)].append(venue)
            self.by_id[venue.pk] = venue

    def get_instance(self, row):
        if not is_empty(row.get("id")):
            try:
                venue_id = parse_int(row.get("id"), column_label="id", minimum=1)
            except ValueError as error:
                raise ValidationError({"id": [str(error)]}) from error
            if venue_id not in self.by_id:
                raise ValidationError(
                    {
                        "id": [
                            _(
                                "No venue has this id. Leave the id empty to add "
                                "a new venue."
                            )
                        ]
                    }
                )
            return self.by_id[venue_id]
        matches = self.by_key.get(venue_key(row.get("name"), row.get("room")), [])
        if len(matches) > 1:
            raise ValidationError(
                {
                    "name": [
                        _(
                            "More than one venue has this name and room. Give "
                            "them different rooms in the admin first."
                        )
                    ]
                }
            )
        return matches[0] if matches else None


def venue_key(name, room):
    """How a row names a venue without an id: its name and room, any case."""
    return (as_text(name).lower(), as_text(room).lower())


VENUE_TEXT = {
    "name": 120,
    "room": 120,
    "address": None,
    "directions": None,
    "accessibility_notes": None,
    "online_joining_link": 200,
}
VENUE_FLAGS = ("step_free", "hearing_loop", "quiet_room")


class VenueResource(GatherResource):
    """Venues, one row each, found by ``id`` when the row has one (exports
    do), else by name and room.

    Rows allow bulk mode: no workflow, no per-row signals that matter except
    the search index, which is updated for the changed venues afterwards.
    """

    key = "venues"
    label = gettext_lazy("Venues")
    menu_label = gettext_lazy("Import venues")
    menu_order = 10
    columns = {
        "id": gettext_lazy("id"),
        "name": gettext_lazy("name"),
        "room": gettext_lazy("room"),
        "setting": gettext_lazy("setting"),
        "address": gettext_lazy("address"),
        "directions": gettext_lazy("directions"),
        "step_free": gettext_lazy("step-free access"),
        "hearing_loop": gettext_lazy("hearing loop"),
        "quiet_room": gettext_lazy("quiet room"),
        "accessibility_notes": gettext_lazy("accessibility notes"),
        "online_joining_link": gettext_lazy("online joining link"),
        "default_capacity": gettext_lazy("default capacity"),
    }
    required_columns = ("name", "setting")
    column_aliases = {"venue": "name", "capacity": "default_capacity"}

    id = Field(attribute="id", column_name="id", readonly=True)
    name = Field(attribute="name", column_name="name")
    room = Field(attribute="room", column_name="room")
    setting = Field(attribute="setting", column_name="setting")
    address = Field(attribute="address", column_name="address")
    directions = Field(attribute="directions", column_name="directions")
    step_free = Field(attribute="step_free", column_name="step_free")
    hearing_loop = Field(attribute="hearing_loop", column_name="hearing_loop")
    quiet_room = Field(attribute="quiet_room", column_name="quiet_room")
    accessibility_notes = Field(
        attribute="accessibility_notes", column_name="accessibility_notes"
    )
    online_joining_link = Field(
        attribute="online_joining_link", column_name="online_joining_link"
    )
    default_capacity = Field(
        attribute="default_capacity", column_name="default_capacity"
    )

    class Meta(GatherResource.Meta):
        model = Venue
        fields = (
            "id",
            "name",
            "room",
            "setting",
            "address",
            "directions",
            "step_free",
            "hearing_loop",
            "quiet_room",
            "accessibility_notes",
            "online_joining_link",
            "default_capacity",
        )
        export_order = fields
        import_id_fields = ("name", "room")
        instance_loader_class = VenueLoader
        use_bulk = True
        batch_size = 500
        clean_model_instances = True

    def before_import(self, dataset, **kwargs):
        self._seen = {}
        self._saved = []

    def snapshot(self, instance):
        return tuple(getattr(instance, column) for column in self.columns)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        self._check_repeat(instance, row, kwargs.get("row_number"), errors)
        self._take_text(instance, row, errors)
        self._take_setting(instance, row, errors)
        self._take_flags(instance, row, errors)
        if "default_capacity" in row:
            try:
                instance.default_capacity = parse_int(
                    row["default_capacity"], column_label=_("default capacity")
                )
            except ValueError as error:
                errors["default_capacity"] = [str(error)]
        if errors:
            raise ValidationError(errors)

    def _check_repeat(self, instance, row, row_number, errors):
        """One row per venue: a second row for it is an error on the name."""
        key = instance.pk or venue_key(row.get("name"), row.get("room"))
        if key in self._seen:
            errors["name"] = [
                _("The same venue is also on row %(row)s.")
                % {"row": self.line_of(self._seen[key])}
            ]
        else:
            self._seen[key] = row_number

    def _take_text(self, instance, row, errors):
        for column, max_length in VENUE_TEXT.items():
            if column not in row:
                continue
            value = as_text(row[column])
            if max_length and len(value) > max_length:
                errors[column] = [
                    _("Keep this under %(max)s characters.") % {"max": max_length}
                ]
            setattr(instance, column, value)
        if not instance.name:
            errors["name"] = [_("Every venue needs a name.")]

    def _take_setting(self, instance, row, errors):
        try:
            instance.setting = parse_choice(
                row.get("setting"), Setting, column_label=_("setting")
            )
        except ValueError as error:
            errors["setting"] = [str(error)]
            return
        if not instance.setting:
            errors["setting"] = [_("Say where it is: hospital, community or online.")]

    def _take_flags(self, instance, row, errors):
        for column in VENUE_FLAGS:
            if column not in row:
                continue
            try:
                value = parse_bool(row[column], column_label=self.column_label(column))
            except ValueError as error:
                errors[column] = [str(error)]
            else:
                setattr(instance, column, value)

    def get_bulk_update_fields(self):
        return [*(c for c in self.columns if c != "id"), "updated_at"]

    def save_instance(self, instance, is_create, row, **kwargs):
        if not is_create:
            instance.updated_at = timezone.now()
        self._saved.append(instance)
        super().save_instance(instance, is_create, row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run"):
            return
        # Bulk writes send no signals: queue the search index update the
        # signal would have queued, for the venues that changed.
        from modelsearch.tasks import insert_or_update_object_task

        for venue in self._saved:
            if venue.pk:
                insert_or_update_object_task.enqueue("events", "venue", str(venue.pk))

    def dehydrate_default_capacity(self, venue):
        return venue.default_capacity

    def dehydrate_step_free(self, venue):
        return venue.step_free

    def dehydrate_hearing_loop(self, venue):
        return venue.hearing_loop

    def dehydrate_quiet_room(self, venue):
        return venue.quiet_room

    @classmethod
    def can_import(cls, user):
        return user.has_perms(["events.add_venue", "events.change_venue"])

    can_export = can_import

    @classmethod
    def export_queryset(cls, request):
        filterset = VenueFilterSet(request.GET, queryset=Venue.objects.all())
        queryset = valid_filterset(filterset)
        query = search_text(request)
        if query:
            queryset = queryset.filter(name__icontains=query)
        return queryset.order_by("name", "pk"), filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return listing_url("wagtailsnippets_events_venue:list")
