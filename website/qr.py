"""QR codes as inline SVG, for screens and printed documents."""

import segno


def qr_svg(url: str, *, scale: int = 4) -> str:
    """An SVG QR code for ``url`` (no XML declaration, so it can sit in HTML)."""
    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000", light="#fff")
