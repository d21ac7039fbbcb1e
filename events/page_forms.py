"""The page editor's form for events."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminPageForm

from .groups import FACILITATORS_GROUP


def facilitator_label(user) -> str:
    """A facilitator as coordinators know them: their name, else username."""
    return user.get_full_name() or user.get_username()


def _may_facilitate(user) -> bool:
    # The same condition as events.permissions.is_facilitator, read from the
    # annotation made below so the choice list costs one query.
    return bool(user.is_active and user.in_facilitators_group)


def facilitator_choice_label(user) -> str:
    """A choice in the facilitators list: their name, and for someone still
    listed on the event who may no longer facilitate, that they have no
    access, so a coordinator sees it and can take them off."""
    label = facilitator_label(user)
    if _may_facilitate(user):
        return label
    return _("%(name)s (no access: not an active member of Facilitators)") % {
        "name": label
    }


class EventPageForm(WagtailAdminPageForm):
    """Facilitators are listed by name, in name order, not by username.

    The choices are the active members of the Facilitators group, and also
    anyone already listed on this event who has since left the group or
    been deactivated: they stay ticked and marked "no access" instead of
    vanishing from the editor (their access ends through
    ``events.permissions`` either way), and saving the page keeps them
    listed until a coordinator unticks them.

    Choosing facilitators gives people access to an event's participants,
    so only coordinators may change the choice: for anyone else (editors,
    facilitators editing their own event's page) the field is shown but
    disabled, and a save keeps the facilitators the page already has.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("facilitators")
        if field is None:
            return
        users = get_user_model()
        in_group = Exists(
            users.groups.through.objects.filter(
                user_id=OuterRef("pk"), group__name=FACILITATORS_GROUP
            )
        )
        choices = Q(in_facilitators_group=True, is_active=True)
        if self.instance.pk:
            choices |= Q(facilitated_events=self.instance.pk)
        field.queryset = (
            users.objects.annotate(in_facilitators_group=in_group)
            .filter(choices)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        field.label_from_instance = facilitator_choice_label
        # Imported here: events.permissions imports the models, which
        # import this form.
        from .permissions import is_coordinator

        user = getattr(self, "for_user", None)
        if user is None or not is_coordinator(user):
            field.disabled = True
            field.help_text = _(
                "Only coordinators choose who facilitates an event: it lets "
                "them see the people who sign up."
            )
