"""Text messages (core/sms): segment counting, the console, in-memory and
Twilio backends, the delivery-status callback and the deploy check."""

import io
import json
import logging

import pytest
import requests
from django.core.cache import cache
from django.urls import reverse
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from core import sms
from core.checks import text_messages_can_be_sent
from core.sms import (
    TextMessage,
    get_connection,
    is_gsm7,
    segments,
    send_text,
    text_status_changed,
)
from core.sms.backends import locmem
from core.sms.backends.twilio import TextBackend as TwilioBackend

NUMBER = "+14165550123"
OTHER_NUMBER = "+14165550199"
TWILIO = "core.sms.backends.twilio.TextBackend"
CONSOLE = "core.sms.backends.console.TextBackend"
TOKEN = "test-auth-token"  # noqa: S105


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


# Segments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        # Extension characters take two septets each.
        ("a" * 158 + "€", 1),
        ("a" * 159 + "€", 2),
        ("[" * 80, 1),
        ("{" * 81, 2),
        # An escape sequence is never split: the euro moves to the second
        # part, which then has no room for 152 more.
        ("a" * 152 + "€" + "a" * 151, 2),
        ("a" * 152 + "€" + "a" * 152, 3),
        # é is in the GSM 03.38 table; ê is not, so the text goes in UCS-2.
        ("é" * 160, 1),
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("a" * 69 + "ê", 1),
        ("a" * 100 + "ê", 2),
        # An emoji is two UTF-16 code units, and a pair is never split.
        ("😀" * 35, 1),
        ("😀" * 36, 2),
        ("a" + "😀" * 35, 2),
        ("a" * 66 + "😀" + "a" * 66, 3),
    ],
)
def test_segments(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Your group meets Tuesday at 6 pm. Reply STOP to opt out.",
        "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà",
        "€[]{}^~|\\",
        "two\nlines\r\n",
    ],
)
def test_texts_in_the_gsm_03_38_table_are_gsm7(text):
    assert is_gsm7(text)


@pytest.mark.parametrize(
    "text", ["ê", "ç", "`", "’", "“quoted”", "😀", "\t", "Ä ok but Ÿ not", "中"]
)
def test_characters_outside_the_table_are_not_gsm7(text):
    """ç is not in the table (only capital Ç is), nor curly quotes, the
    backtick or a tab."""
    assert not is_gsm7(text)


# Console ----------------------------------------------------------------


def test_the_console_backend_prints_each_text_with_its_header(settings):
    settings.GATHER_SMS_SENDER = "Gather"
    stream = io.StringIO()
    connection = get_connection(CONSOLE, stream=stream)
    results = connection.send_messages(
        [
            TextMessage(to=NUMBER, body="See you Tuesday €5", reference="delivery-7"),
            TextMessage(to=OTHER_NUMBER, body="ê" * 71, sender="Peer Team"),
        ]
    )
    assert [r.ok for r in results] == [True, True]
    assert all(r.provider_id for r in results)
    assert results[0].provider_id != results[1].provider_id
    printed = stream.getvalue()
    first, second = printed.split("-" * 79)[:2]
    assert f"To: {NUMBER}" in first
    assert "From: Gather" in first
    assert "Reference: delivery-7" in first
    assert "Segments: 1 (GSM-7)" in first
    assert "See you Tuesday €5" in first
    assert f"To: {OTHER_NUMBER}" in second
    assert "From: Peer Team" in second
    assert "Segments: 2 (UCS-2)" in second


def test_the_console_backend_writes_to_stdout_by_default(settings, capsys):
    settings.SMS_BACKEND = CONSOLE
    assert send_text(NUMBER, "Hello").ok
    assert f"To: {NUMBER}" in capsys.readouterr().out


# In memory ----------------------------------------------------------------


def test_the_test_settings_keep_texts_in_the_outbox(settings, sms_outbox):
    settings.GATHER_SMS_SENDER = "Gather"
    result = send_text(NUMBER, "Your place is confirmed", reference="delivery-1")
    assert result.ok
    assert result.provider_id.startswith("LM")
    assert result.message.reference == "delivery-1"
    assert sms.outbox == sms_outbox
    [sent] = sms.outbox
    assert (sent.to, sent.body, sent.sender) == (
        NUMBER,
        "Your place is confirmed",
        "Gather",
    )


def test_fail_next_fails_that_many_messages_then_sends_again():
    locmem.fail_next(2, retryable=True, error="provider down")
    messages = [TextMessage(to=NUMBER, body=f"text {i}") for i in range(3)]
    results = get_connection().send_messages(messages)
    assert [(r.ok, r.retryable, r.error) for r in results] == [
        (False, True, "provider down"),
        (False, True, "provider down"),
        (True, False, ""),
    ]
    assert [m.body for m in sms.outbox] == ["text 2"]
    assert [r.message for r in results] == messages


def test_fail_for_fails_only_those_numbers():
    locmem.fail_for(OTHER_NUMBER)
    results = get_connection().send_messages(
        [TextMessage(to=OTHER_NUMBER, body="a"), TextMessage(to=NUMBER, body="b")]
    )
    assert [(r.ok, r.retryable) for r in results] == [(False, False), (True, False)]
    assert [m.to for m in sms.outbox] == [NUMBER]


def test_a_bad_message_gets_a_result_and_the_others_are_sent():
    results = get_connection().send_messages(
        [
            TextMessage(to="416-555-0123", body="not E.164"),
            TextMessage(to=NUMBER, body=""),
            TextMessage(to=NUMBER, body="fine"),
        ]
    )
    assert [(r.ok, r.error) for r in results] == [
        (False, "not an E.164 number"),
        (False, "empty body"),
        (True, ""),
    ]
    assert len(sms.outbox) == 1


def test_a_backend_error_fails_one_message_without_its_number(monkeypatch, caplog):
    def explode(self, message):
        if message.body == "boom":
            raise ValueError(f"cannot send to {message.to}")
        return original(self, message)

    original = locmem.TextBackend.send_message
    monkeypatch.setattr(locmem.TextBackend, "send_message", explode)
    with caplog.at_level(logging.ERROR, logger="core.sms"):
        results = get_connection().send_messages(
            [
                TextMessage(to=NUMBER, body="boom", reference="d-9"),
                TextMessage(to=NUMBER, body="ok"),
            ]
        )
    assert [r.ok for r in results] == [False, True]
    assert results[0].error == "unexpected error (ValueError)"
    assert "d-9" in caplog.text
    assert NUMBER not in caplog.text


def test_the_disabled_backend_sends_nothing():
    connection = get_connection("core.sms.backends.disabled.TextBackend")
    [result] = connection.send_messages([TextMessage(to=NUMBER, body="hi")])
    assert (result.ok, result.retryable) == (False, False)
    assert sms.outbox == []


# Twilio -------------------------------------------------------------------


class FakeTwilioHttp(HttpClient):
    """Twilio's HTTP layer, answering from a list instead of the network."""

    def __init__(self, *answers):
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.answers = list(answers)
        self.requests = []

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        return Response(status, json.dumps(payload))


def created(sid="SM0123456789abcdef0123456789abcdef"):
    return 201, {"sid": sid, "status": "queued"}


def twilio_error(status, code, message="The 'To' number +14165550123 is not valid."):
    return status, {"code": code, "message": message, "status": status}


def twilio(http, **overrides):
    options = {
        "account_sid": "AC00000000000000000000000000000000",
        "auth_token": TOKEN,
        "from_number": "+15005550006",
        "http_client": http,
    } | overrides
    return get_connection(TWILIO, **options)


def test_twilio_sends_with_the_status_callback_and_returns_the_sid(settings):
    settings.BASE_URL = "https://gather.example.org"
    http = FakeTwilioHttp(created("SMaaa"), created("SMbbb"))
    with twilio(http) as connection:
        results = connection.send_messages(
            [
                TextMessage(to=NUMBER, body="Hello", reference="d-1"),
                TextMessage(to=OTHER_NUMBER, body="Again", sender="+15005550001"),
            ]
        )
    assert [(r.ok, r.provider_id) for r in results] == [
        (True, "SMaaa"),
        (True, "SMbbb"),
    ]
    first, second = http.requests
    assert first["method"] == "POST"
    assert first["uri"].endswith(
        "/Accounts/AC00000000000000000000000000000000/Messages.json"
    )
    assert first["auth"] == ("AC00000000000000000000000000000000", TOKEN)
    assert first["data"] == {
        "To": NUMBER,
        "Body": "Hello",
        "From": "+15005550006",
        "StatusCallback": "https://gather.example.org/sms/status/twilio/",
    }
    assert second["data"]["From"] == "+15005550001"


def test_twilio_uses_the_site_sender_before_its_number(settings):
    settings.GATHER_SMS_SENDER = "Gather"
    http = FakeTwilioHttp(created())
    assert twilio(http).send_messages([TextMessage(to=NUMBER, body="Hi")])[0].ok
    assert http.requests[0]["data"]["From"] == "Gather"


def test_twilio_sends_through_a_messaging_service_when_one_is_set():
    http = FakeTwilioHttp(created(), created())
    connection = twilio(http, from_number="", messaging_service_sid="MG123")
    connection.send_messages(
        [
            TextMessage(to=NUMBER, body="Pool"),
            TextMessage(to=NUMBER, body="Named", sender="Gather"),
        ]
    )
    pool, named = (request["data"] for request in http.requests)
    assert pool["MessagingServiceSid"] == "MG123"
    assert "From" not in pool
    assert pool["StatusCallback"] == "http://testserver/sms/status/twilio/"
    assert (named["MessagingServiceSid"], named["From"]) == ("MG123", "Gather")


@pytest.mark.parametrize(
    ("answer", "error", "retryable"),
    [
        (twilio_error(400, 21211), "Twilio error 21211 (HTTP 400)", False),
        (twilio_error(400, 21610), "Twilio error 21610 (HTTP 400)", False),
        (twilio_error(429, 20429), "Twilio error 20429 (HTTP 429)", True),
        (twilio_error(500, 20500), "Twilio error 20500 (HTTP 500)", True),
        ((503, {}), "Twilio error (HTTP 503)", True),
        (requests.ConnectionError("down"), "network error (ConnectionError)", True),
        (requests.Timeout("slow"), "network error (Timeout)", True),
    ],
)
def test_twilio_failures_become_results(answer, error, retryable, caplog):
    http = FakeTwilioHttp(answer, created("SMok"))
    with caplog.at_level(logging.WARNING, logger="core.sms"):
        results = twilio(http).send_messages(
            [
                TextMessage(to=NUMBER, body="Private words", reference="d-3"),
                TextMessage(to=OTHER_NUMBER, body="Next"),
            ]
        )
    failed, sent = results
    assert (failed.ok, failed.error, failed.retryable) == (False, error, retryable)
    assert failed.provider_id == ""
    assert (sent.ok, sent.provider_id) == (True, "SMok")
    # Twilio's message quoted the number: neither it nor the body is logged.
    assert "d-3" in caplog.text
    assert NUMBER not in caplog.text + failed.error
    assert "Private words" not in caplog.text


def test_twilio_without_its_settings_fails_every_message_without_a_request():
    http = FakeTwilioHttp()
    connection = twilio(http, auth_token="", from_number="")
    [result] = connection.send_messages([TextMessage(to=NUMBER, body="Hi")])
    assert (result.ok, result.retryable) == (False, False)
    assert "TWILIO_AUTH_TOKEN" in result.error
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID" in result.error
    assert http.requests == []


def test_twilio_reads_its_settings(settings):
    settings.TWILIO_ACCOUNT_SID = "AC11111111111111111111111111111111"
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.SMS_BACKEND = TWILIO
    http = FakeTwilioHttp(created("SMset"))
    assert send_text(NUMBER, "Hi", connection=get_connection(http_client=http)).ok
    assert "/Accounts/AC11111111111111111111111111111111/" in http.requests[0]["uri"]


# Delivery-status callback ---------------------------------------------------


@pytest.fixture
def status_reports():
    """The ``text_status_changed`` signals sent during the test."""
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    text_status_changed.connect(receiver)
    yield received
    text_status_changed.disconnect(receiver)


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    return TOKEN


def report(**fields):
    """A status report as Twilio posts it, with the numbers and body."""
    return {
        "MessageSid": "SMaaa",
        "SmsSid": "SMaaa",
        "AccountSid": "AC00000000000000000000000000000000",
        "To": NUMBER,
        "From": "+15005550006",
        "Body": "Private words",
        "ApiVersion": "2010-04-01",
        **fields,
    }


def post_report(client, data, *, url=None, signature=None, token=TOKEN):
    path = reverse("sms_status_twilio")
    if signature is None:
        signature = RequestValidator(token).compute_signature(
            url or f"http://testserver{path}", data
        )
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, data, headers=headers)


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"MessageStatus": "queued"}, "sent", ""),
        ({"MessageStatus": "sent"}, "sent", ""),
        ({"MessageStatus": "delivered"}, "delivered", ""),
        ({"MessageStatus": "failed", "ErrorCode": "30008"}, "failed", "30008"),
        ({"MessageStatus": "undelivered", "ErrorCode": "30003"}, "failed", "30003"),
        ({"MessageStatus": "undelivered"}, "failed", "undelivered"),
    ],
)
@pytest.mark.django_db  # events records the status
def test_a_signed_report_sends_the_mapped_status(
    client, twilio_token, status_reports, fields, status, error, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = post_report(client, report(**fields))
    assert response.status_code == 204
    assert status_reports == [
        (
            TwilioBackend,
            {
                "signal": text_status_changed,
                "provider_id": "SMaaa",
                "status": status,
                "error": error,
            },
        )
    ]
    assert NUMBER not in caplog.text
    assert "Private words" not in caplog.text


@pytest.mark.django_db  # events records the status
def test_the_signature_is_checked_against_the_public_address(
    client, settings, twilio_token, status_reports
):
    """Behind a proxy the server sees another host; Twilio signed BASE_URL's."""
    settings.BASE_URL = "https://gather.example.org"
    data = report(MessageStatus="delivered")
    url = "https://gather.example.org/sms/status/twilio/"
    assert post_report(client, data, url=url).status_code == 204
    assert post_report(client, data).status_code == 403
    assert len(status_reports) == 1


def test_a_report_with_a_wrong_signature_is_refused(
    client, twilio_token, status_reports
):
    data = report(MessageStatus="delivered")
    forged = post_report(client, data, token="someone-else's-token")  # noqa: S106
    assert forged.status_code == 403
    # Signed for other values than those posted.
    signature = RequestValidator(TOKEN).compute_signature(
        "http://testserver/sms/status/twilio/", report(MessageStatus="failed")
    )
    assert post_report(client, data, signature=signature).status_code == 403
    assert status_reports == []


def test_a_report_without_a_signature_is_refused(client, twilio_token, status_reports):
    assert (
        post_report(client, report(MessageStatus="sent"), signature="").status_code
        == 403
    )
    assert status_reports == []


def test_no_report_is_accepted_without_an_auth_token(client, settings, status_reports):
    settings.TWILIO_AUTH_TOKEN = ""
    response = post_report(client, report(MessageStatus="sent"), token="")
    assert response.status_code == 403
    assert status_reports == []


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_a_signed_report_without_its_fields_is_a_bad_request(
    client, twilio_token, status_reports, missing
):
    data = report(MessageStatus="sent")
    del data[missing]
    assert post_report(client, data).status_code == 400
    assert status_reports == []


def test_an_inbound_status_changes_nothing(client, twilio_token, status_reports):
    assert post_report(client, report(MessageStatus="received")).status_code == 204
    assert status_reports == []


def test_the_callback_takes_posts_only(client):
    assert client.get(reverse("sms_status_twilio")).status_code == 405


def test_too_many_refused_reports_from_one_address_are_cut_off(
    client, settings, twilio_token, status_reports
):
    settings.GATHER_SMS_STATUS_RATE_LIMIT = 2
    data = report(MessageStatus="delivered")
    for _ in range(2):
        assert post_report(client, data, signature="forged").status_code == 403
    assert post_report(client, data, signature="forged").status_code == 429
    # Even a signed report waits for the window to end.
    assert post_report(client, data).status_code == 429
    assert status_reports == []


@pytest.mark.django_db  # events records the status
def test_signed_reports_are_never_cut_off(client, settings, twilio_token):
    settings.GATHER_SMS_STATUS_RATE_LIMIT = 2
    data = report(MessageStatus="delivered")
    assert all(post_report(client, data).status_code == 204 for _ in range(5))


def test_an_oversized_report_is_refused(client, twilio_token, status_reports):
    data = report(MessageStatus="delivered", Body="x" * 20_000)
    assert post_report(client, data).status_code == 413
    assert status_reports == []


# Deploy check --------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "twilio_settings", "expected"),
    [
        (CONSOLE, {}, ["core.W002"]),
        ("core.sms.backends.locmem.TextBackend", {}, ["core.W002"]),
        ("core.sms.backends.disabled.TextBackend", {}, []),
        (TWILIO, {}, ["core.W003"]),
        (
            TWILIO,
            {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": TOKEN},
            ["core.W003"],
        ),
        (
            TWILIO,
            {
                "TWILIO_ACCOUNT_SID": "AC1",
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_FROM_NUMBER": "+15005550006",
            },
            [],
        ),
        (
            TWILIO,
            {
                "TWILIO_ACCOUNT_SID": "AC1",
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_MESSAGING_SERVICE_SID": "MG1",
            },
            [],
        ),
    ],
)
def test_the_deploy_check_warns_when_texts_would_go_nowhere(
    settings, backend, twilio_settings, expected
):
    settings.SMS_BACKEND = backend
    for name, value in twilio_settings.items():
        setattr(settings, name, value)
    assert [w.id for w in text_messages_can_be_sent(None)] == expected
