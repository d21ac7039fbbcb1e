"""Template tags used across the site's templates."""

from django import template
from wagtail.models import Site

from core.phones import link_phone_numbers, phone_display, phone_link

register = template.Library()


@register.simple_tag(takes_context=True)
def site_nav_items(context):
    """Live pages below the site's home page that are marked 'show in menus'.

    Pages with a privacy setting of their own are left out. One query: the
    restriction check is a join rather than Wagtail's separate ``public()``
    look-up (a restriction on the home page covers the whole menu anyway).
    """
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    if site is None:
        return []
    return (
        site.root_page.get_children()
        .live()
        .in_menu()
        .filter(view_restrictions__isnull=True)
    )


@register.filter(is_safe=True)
def phone_links(value):
    """Phone numbers in text or rich text as tappable ``tel:``/``sms:`` links
    (see ``core.phones``)."""
    return link_phone_numbers(value or "")


@register.filter(name="phone_number")
def phone_number_filter(value):
    """A stored phone number as staff dial it (``core.phones.phone_display``)."""
    return phone_display(value)


@register.filter(name="phone_link", is_safe=True)
def phone_link_filter(value):
    """One contact phone number as a ``tel:`` link."""
    return phone_link(value or "")
