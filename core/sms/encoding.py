"""How many SMS segments a text takes: GSM 03.38 (GSM-7) or UCS-2.

A text whose every character is in the GSM 03.38 default alphabet (or its
extension table) is sent in 7-bit parts: 160 characters in a single part,
153 in each part of a longer one, where an extension character (€ [ ] { }
^ ~ | \\ and form feed) takes two. Any other character (ê, an emoji, curly
quotes) sends the whole text in UCS-2: 70 UTF-16 code units in one part,
67 a part when it is longer. A character is never split across parts, as
providers split them.
"""

#: The GSM 03.38 default alphabet, in the table's order (0x00 to 0x7F,
#: without 0x1B, the escape to the extension table), as Unicode characters
#: (the mapping of the Unicode Consortium's GSM0338.TXT).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: each is sent as escape plus one septet.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM 03.38 7-bit alphabet."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def encoding(text: str) -> str:
    """ "GSM-7" or "UCS-2": the encoding ``text`` is sent in."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _parts(sizes: list[int], single: int, part: int) -> int:
    if sum(sizes) <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:
            parts, used = parts + 1, size
        else:
            used += size
    return parts


def segments(text: str) -> int:
    """How many SMS parts ``text`` is sent in (an empty text still takes one)."""
    if is_gsm7(text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return _parts(sizes, GSM7_SINGLE, GSM7_PART)
    # UTF-16 code units: a character beyond the Basic Multilingual Plane
    # (most emoji) is a surrogate pair.
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return _parts(sizes, UCS2_SINGLE, UCS2_PART)
