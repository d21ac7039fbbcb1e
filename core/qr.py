"""QR codes as inline SVG, for screens and printed documents."""

import segno
from django.utils.safestring import mark_safe


def qr_svg(url: str, *, label: str, scale: int = 4) -> str:
    """An inline SVG QR code for ``url``, with ``label`` as its text
    alternative. Sized by CSS (no width or height attributes)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=scale, border=2, title=label, omitsize=True, svgclass="qr"
    )
    return mark_safe(svg)  # segno builds the markup from a URL it encodes
