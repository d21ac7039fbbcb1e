"""Phone numbers in crisis and contact text become tel: and sms: links."""

import pytest
from django.template import Context, Template
from django.utils.safestring import mark_safe

from core.phones import link_phone_numbers, phone_link


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call or text 988", 'Call or text <a href="tel:988">988</a>'),
        ("Call 988.", 'Call <a href="tel:988">988</a>.'),
        (
            "Kids Help Phone: 1-800-668-6868",
            'Kids Help Phone: <a href="tel:18006686868">1-800-668-6868</a>',
        ),
        ("text 686868", 'text <a href="sms:686868">686868</a>'),
        (
            "Text HOME to 686868",
            'Text HOME to <a href="sms:686868?body=HOME">686868</a>',
        ),
        (
            "Call us on (416) 555-0100 or 416.555.0199",
            'Call us on <a href="tel:4165550100">(416) 555-0100</a> or '
            '<a href="tel:4165550199">416.555.0199</a>',
        ),
        ("+44 20 7946 0958", '<a href="tel:+442079460958">+44 20 7946 0958</a>'),
        (
            "Call 911 or 988",
            'Call <a href="tel:911">911</a> or <a href="tel:988">988</a>',
        ),
        ("dial 211 any time", 'dial <a href="tel:211">211</a> any time'),
    ],
)
def test_numbers_become_links(text, expected):
    assert link_phone_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "On 2026-12-01 at 10:30",
        "Room 101, 2nd floor",
        "Opens 1 December 2026",
        "Costs $1,000 for 12 weeks",
        "Group 12345 meets weekly",
        "Version 1.2.3",
        "See https://example.org/988/help",
    ],
)
def test_dates_and_other_digits_stay_plain(text):
    assert "<a " not in link_phone_numbers(text)


def test_plain_text_is_escaped_first():
    html = link_phone_numbers("<script>alert(1)</script> Tom's line: 416-555-0100")

    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "Tom&#x27;s" in html
    assert '<a href="tel:4165550100">416-555-0100</a>' in html


def test_rich_text_links_across_inline_tags_but_never_inside_links():
    html = mark_safe(
        "<p>In crisis? Call <b>988</b> at any time.</p><p>2026 and 988</p>"
        '<p>Or <a href="https://example.org">call 211</a>.</p>'
    )

    assert link_phone_numbers(html) == (
        '<p>In crisis? Call <b><a href="tel:988">988</a></b> at any time.</p>'
        "<p>2026 and 988</p>"
        '<p>Or <a href="https://example.org">call 211</a>.</p>'
    )


def test_contact_phone_is_one_tel_link():
    assert phone_link("(416) 555-0100") == (
        '<a href="tel:4165550100">(416) 555-0100</a>'
    )
    assert phone_link("+1 416 555 0100 <b>") == (
        '<a href="tel:+14165550100">+1 416 555 0100</a> &lt;b&gt;'
    )
    assert phone_link("ask") == "ask"
    assert phone_link("211") == '<a href="tel:211">211</a>'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "416-555-0100 ext. 22",
            '<a href="tel:4165550100;ext=22">416-555-0100 ext. 22</a>',
        ),
        ("416-555-0100 x7", '<a href="tel:4165550100;ext=7">416-555-0100 x7</a>'),
        (
            "416-555-0100 (Mon-Fri 9-5)",
            '<a href="tel:4165550100">416-555-0100</a> (Mon-Fri 9-5)',
        ),
        (
            "Front desk: 416 555 0100",
            'Front desk: <a href="tel:4165550100">416 555 0100</a>',
        ),
        ("Room 12, floor 3", "Room 12, floor 3"),
    ],
)
def test_contact_phone_dials_only_the_number(value, expected):
    """Hours or an extension beside the number never join the digits dialled."""
    assert phone_link(value) == expected


def test_template_filters():
    template = Template(
        "{% load gather_tags %}{{ text|phone_links }} / {{ phone|phone_link }}"
    )

    html = template.render(Context({"text": "Call 988 <now>", "phone": "211"}))

    assert html == (
        'Call <a href="tel:988">988</a> &lt;now&gt; / <a href="tel:211">211</a>'
    )
