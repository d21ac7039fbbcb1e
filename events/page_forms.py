"""The page editor's form for events."""

from wagtail.admin.forms import WagtailAdminPageForm


def facilitator_label(user) -> str:
    """A facilitator as coordinators know them: their name, else username."""
    return user.get_full_name() or user.get_username()


class EventPageForm(WagtailAdminPageForm):
    """Facilitators are listed by name, in name order, not by username."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("facilitators")
        if field is not None:
            field.label_from_instance = facilitator_label
            field.queryset = field.queryset.order_by(
                "first_name", "last_name", "username"
            )
