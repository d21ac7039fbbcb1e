"""The outline of a workshop: a sequence of timed segments."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks


class SegmentKind:
    """The kinds of segment a session is built from."""

    CHOICES = [
        ("welcome", _("Welcome")),
        ("check_in", _("Check-in")),
        ("discussion", _("Discussion")),
        ("activity", _("Activity")),
        ("break", _("Break")),
        ("closing", _("Closing")),
    ]


class SegmentBlock(blocks.StructBlock):
    """One timed part of a session, with what the facilitator needs for it."""

    title = blocks.CharBlock(max_length=120)
    minutes = blocks.IntegerBlock(
        min_value=1,
        max_value=480,
        help_text=_("How long this part takes, in minutes."),
    )
    kind = blocks.ChoiceBlock(choices=SegmentKind.CHOICES, default="discussion")
    description = blocks.TextBlock(
        required=False,
        help_text=_("What happens, in a sentence or two. Shown on the public page."),
    )
    facilitator_notes = blocks.TextBlock(
        required=False,
        help_text=_("Guidance for the facilitator. Never shown on the public site."),
    )
    materials = blocks.ListBlock(
        blocks.CharBlock(max_length=120),
        default=[],
        help_text=_("What to bring for this part, one item per line."),
    )

    class Meta:
        icon = "time"
        label_format = "{title} ({minutes} min)"
        template = "blocks/segment_block.html"
        preview_value = {
            "title": "Check-in round",
            "minutes": 15,
            "kind": "check_in",
            "description": "Each person shares how their week has been.",
        }


class OutlineBlock(blocks.StreamBlock):
    """A workshop's outline: segments in the order they run."""

    segment = SegmentBlock()
