"""Page-editor panels for events."""

from django.urls import reverse
from wagtail.admin.panels import Panel

from .admin_links import session_action_url, session_admin_links


def may_see_event_people(user, event) -> bool:
    """Whether ``user`` may see ``event``'s registrations
    (``events_visible_to``)."""
    # Not at the top: events.permissions imports the models, which import
    # these panels.
    from .permissions import events_visible_to

    return events_visible_to(user).filter(pk=event.pk).exists()


def series_rules_context(event) -> list[dict]:
    """Each stored repeat rule of ``event`` in words, with the link that
    stops it while it keeps going."""
    from .open_series import rule_in_words  # imports the models, as above

    return [
        {
            "words": rule_in_words(rule),
            "stop_url": (
                reverse("event_sessions:stop_series", args=[rule.pk])
                if rule.open_ended
                else None
            ),
        }
        for rule in event.series_rules.order_by("first_date", "pk")
    ]


class SessionsPanel(Panel):
    """Lists an event's sessions in the page editor, with links to change them.

    Sessions are edited in the Sessions area rather than inline, so that an
    old page revision can never rewind them (see ``events.models``).
    """

    @property
    def clean_name(self):
        return super().clean_name or "sessions"

    class BoundPanel(Panel.BoundPanel):
        template_name = "events/admin/sessions_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            event = self.instance
            saved = bool(event.pk)
            context["saved"] = saved
            context["sessions"] = (
                list(event.sessions.select_related("venue").order_by("start"))
                if saved
                else []
            )
            if saved:
                # Moving, cancelling or reinstating a session from here
                # comes back to this page editor.
                back = reverse("wagtailadmin_pages:edit", args=[event.pk])
                for session in context["sessions"]:
                    session.admin_urls = {
                        name: session_action_url(name, session, back)
                        for name in ("edit", "cancel", "reinstate", "rest_of_series")
                    }
            context["links"] = session_admin_links(event) if saved else {}
            context["series_rules"] = series_rules_context(event) if saved else []
            # Counts and links to an event's people only for someone who
            # may see them (an editor writing the page may not).
            context["show_registrations"] = saved and may_see_event_people(
                self.request.user, event
            )
            if context["show_registrations"]:
                counts = event.registrations.values_list("status", flat=True)
                statuses = list(counts)
                context["confirmed"] = statuses.count("confirmed")
                context["waitlisted"] = statuses.count("waitlisted")
            return context
