"""Page-editor panels for events."""

from wagtail.admin.panels import Panel


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
            from .admin_views import session_admin_links

            context = super().get_context_data(parent_context)
            event = self.instance
            saved = bool(event.pk)
            context["saved"] = saved
            context["sessions"] = (
                list(event.sessions.select_related("venue").order_by("start"))
                if saved
                else []
            )
            context["links"] = session_admin_links(event) if saved else {}
            if saved:
                counts = event.registrations.values_list("status", flat=True)
                statuses = list(counts)
                context["confirmed"] = statuses.count("confirmed")
                context["waitlisted"] = statuses.count("waitlisted")
            return context
