"""StreamField blocks shared by the site's free-text pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock


class HeadingBlock(blocks.StructBlock):
    """A section heading; level 2 or 3 so the outline stays correct."""

    text = blocks.CharBlock(max_length=120, label=_("Heading"))
    level = blocks.ChoiceBlock(
        choices=[("h2", _("Section")), ("h3", _("Subsection"))],
        default="h2",
        help_text=_("Use Section for main parts and Subsection inside them."),
    )

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        preview_value = {"text": "What to expect", "level": "h2"}


class CalloutBlock(blocks.StructBlock):
    """A highlighted box for something readers must not miss."""

    title = blocks.CharBlock(max_length=120, required=False)
    text = blocks.RichTextBlock(features=["bold", "italic", "link", "ul"])

    class Meta:
        icon = "warning"
        template = "blocks/callout_block.html"
        preview_value = {
            "title": "Need help now?",
            "text": "<p>Call the crisis line at any time.</p>",
        }


class BodyBlock(blocks.StreamBlock):
    """The body of a free-text page: headings, text, images and callouts."""

    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "document-link"],
        icon="pilcrow",
        template="blocks/paragraph_block.html",
        preview_value="<p>Our groups are free and open to everyone.</p>",
    )
    image = ImageBlock(
        icon="image",
        template="blocks/image_block.html",
    )
    callout = CalloutBlock()
