"""Small helpers the events resources share."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def listing_url(name):
    """The admin listing a resource exports from, by URL name (reversed
    late: resources are imported while the URLconf is still loading)."""
    from django.urls import reverse

    return reverse(name)


def valid_filterset(filterset):
    """The listing's filtered queryset, or a ValidationError when the
    filters in the request are not valid (the export then refuses)."""
    if not filterset.is_valid():
        raise ValidationError(_("The listing's filters are not valid."))
    return filterset.qs
