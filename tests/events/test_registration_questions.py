"""An event's own sign-up questions: the form, the answers saved, who sees
them, the export, feeds, retention and erasure, and the demographic totals
of the reports."""

import datetime as dt
import json
import logging
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, PageLogEntry

from attendance.reports import ReportFilters, build_reports, suppress_small
from attendance.retention import apply_retention
from events.groups import COORDINATORS_GROUP
from events.models import (
    AnswerTally,
    Registration,
    RegistrationAnswer,
    RegistrationQuestion,
)
from events.privacy import erase
from events.questions import field_name
from events.registration import manage_token
from tests.conftest import (
    make_registration_event,
    make_session,
    role_group,
    sign_up,
)

pytestmark = pytest.mark.django_db

TEXT_ANSWER = "I may need to step out for a call from my worker"
SIGN_UP = {
    "name": "Sam Rivera",
    "email": "sam@example.org",
    "phone": "",
    "support_needs": "",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _question(event, label, kind="text", order=0, **fields):
    return RegistrationQuestion.objects.create(
        event=event, label=label, kind=kind, sort_order=order, **fields
    )


@pytest.fixture
def event(event_index):
    return make_registration_event(event_index, capacity=20, title="Tuesday group")


@pytest.fixture
def questions(event):
    """Four questions: a required choice, an optional text with help, a
    demographic choice and an optional yes/no."""
    return {
        "time": _question(
            event,
            "Which time suits you best?",
            "choice",
            0,
            choices="Morning\nEvening\n",
            required=True,
        ),
        "needs": _question(
            event,
            "Anything we should know to make the session work for you?",
            "text",
            1,
            help_text="For example: you may need to leave early.",
        ),
        "heard": _question(
            event,
            "How did you hear about us?",
            "choice",
            2,
            choices="A friend\nA poster\nHospital staff",
            demographic=True,
        ),
        "first": _question(event, "Is this your first peer group?", "yes_no", 3),
    }


def _answers(questions, **values):
    return {field_name(questions[key]): value for key, value in values.items()}


def _post(client, event, questions, **values):
    data = SIGN_UP | _answers(questions, **values)
    return client.post(event.sign_up_url, data)


def _html(response):
    return response.content.decode()


# The form -------------------------------------------------------------------------


def test_the_form_asks_the_questions_after_the_standard_fields(
    site_client, event, questions
):
    html = _html(site_client.get(event.sign_up_url))
    # In their sort order, after the standard fields (consent is the last).
    positions = [html.index(q.label) for q in questions.values()]
    assert positions == sorted(positions)
    assert html.index('name="consent_call"') < positions[0]
    # A choice and a yes/no are radio buttons in a fieldset whose legend is
    # the question; an optional one can be taken back.
    time = questions["time"]
    assert re.search(
        rf'<fieldset[^>]*id="id_{field_name(time)}"[^>]*>\s*<legend>'
        rf"Which time suits you best\? <span class=\"required\">\(required\)</span>",
        html,
    )
    assert f'<label for="id_{field_name(questions["first"])}_0">Yes</label>' in html
    assert html.count("I would rather not say") == 2  # heard, first; not time
    # The text question has a label, its help text linked to the input and
    # a bound length.
    needs = field_name(questions["needs"])
    assert f'<label for="id_{needs}">Anything we should know' in html
    assert "For example: you may need to leave early." in html
    assert re.search(rf'<input[^>]*name="{needs}"[^>]*maxlength="500"', html)
    assert f'aria-describedby="id_{needs}_helptext"' in html
    # A demographic question says how its answers are used.
    assert "nobody sees your answer next to your name" in html


def test_a_required_question_left_blank_is_refused_and_what_was_typed_kept(
    site_client, event, questions
):
    response = _post(site_client, event, questions, needs=TEXT_ANSWER, first="yes")
    assert response.status_code == 200
    assert not Registration.objects.exists()
    html = _html(response)
    time = field_name(questions["time"])
    assert (
        f'<p class="field__error" id="id_{time}_error">Please answer this question.'
        in html
    )
    # The error summary links to the question's fieldset.
    summary = "Which time suits you best?: Please answer this question."
    assert f'<a href="#id_{time}">{summary}</a>' in html
    # Everything typed or chosen comes back.
    assert 'value="Sam Rivera"' in html
    assert f'value="{TEXT_ANSWER}"' in html
    first = field_name(questions["first"])
    assert re.search(rf'<input[^>]*name="{first}" value="yes"[^>]*checked', html)


def test_an_answer_not_on_the_list_is_refused(site_client, event, questions):
    response = _post(
        site_client, event, questions, time="Midnight", heard="A poster", first="maybe"
    )
    assert response.status_code == 200
    assert not Registration.objects.exists()
    html = _html(response)
    for key in ("time", "first"):
        name = field_name(questions[key])
        assert re.search(
            rf'id="id_{name}_error">Please choose one of the answers listed.', html
        )
    # The refused value is not echoed back.
    assert "Midnight" not in html
    # The valid answer chosen is kept.
    heard = field_name(questions["heard"])
    assert re.search(rf'name="{heard}" value="A poster"[^>]*checked', html)


def test_a_long_answer_is_refused(site_client, event, questions):
    response = _post(site_client, event, questions, time="Morning", needs="x" * 501)
    assert response.status_code == 200
    assert not Registration.objects.exists()
    assert "Ensure this value has at most 500 characters" in _html(response)


def test_answers_are_saved_encrypted_with_the_place(site_client, event, questions):
    response = _post(
        site_client,
        event,
        questions,
        time="Evening",
        needs=f"  {TEXT_ANSWER}  ",
        first="no",
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    saved = {
        answer.question_id: answer.value
        for answer in RegistrationAnswer.objects.filter(registration=registration)
    }
    # A demographic question left blank is kept as "", so the reports can
    # count who chose not to say; other blanks are not stored.
    assert saved == {
        questions["time"].pk: "Evening",
        questions["needs"].pk: TEXT_ANSWER,
        questions["heard"].pk: "",
        questions["first"].pk: "no",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM events_registrationanswer")
        stored = [row[0] for row in cursor.fetchall()]
    assert TEXT_ANSWER not in " ".join(stored)
    assert "Evening" not in " ".join(stored)


def test_a_repeat_sign_up_changes_no_answer(site_client, event, questions):
    _post(site_client, event, questions, time="Evening", needs=TEXT_ANSWER)
    _post(site_client, event, questions, time="Morning", needs="Something else")
    assert Registration.objects.count() == 1
    values = set(RegistrationAnswer.objects.values_list("value", flat=True))
    assert "Morning" not in values and "Something else" not in values


def test_answers_are_not_in_the_audit_log_or_the_logs(
    site_client, event, questions, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = _post(
            site_client, event, questions, time="Evening", needs=TEXT_ANSWER
        )
    assert response.status_code == 302
    assert "Evening" not in response["Location"]
    assert TEXT_ANSWER not in caplog.text
    entries = [
        *PageLogEntry.objects.values_list("label", "data"),
        *ModelLogEntry.objects.values_list("label", "data"),
    ]
    assert entries
    assert TEXT_ANSWER not in json.dumps(entries)


def test_a_workflow_caller_cannot_store_a_choice_not_on_the_list(event, questions):
    registration = sign_up(
        event,
        answers={
            questions["time"].pk: "Midnight",
            questions["first"].pk: "yes",
            questions["heard"].pk: "A friend",
        },
    )
    saved = dict(registration.answers.values_list("question_id", "value"))
    assert saved == {questions["first"].pk: "yes", questions["heard"].pk: "A friend"}


# The questions themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "choice", "choices": "Only one"}, "choices"),
        ({"kind": "text", "choices": "A\nB"}, "choices"),
        (
            {
                "kind": "choice",
                "choices": "A\nB",
                "demographic": True,
                "required": True,
            },
            "required",
        ),
        ({"kind": "text", "demographic": True}, "kind"),
        ({"kind": "choice", "choices": "A\n" + "B" * 101}, "choices"),
    ],
)
def test_a_question_that_could_not_work_is_refused(event, fields, field):
    question = RegistrationQuestion(event=event, label="Q", **fields)
    with pytest.raises(ValidationError) as refused:
        question.full_clean()
    assert field in refused.value.message_dict


def test_a_demographic_question_with_answers_stays_demographic(event, questions):
    sign_up(event, answers={questions["heard"].pk: "A friend"})
    heard = RegistrationQuestion.objects.get(pk=questions["heard"].pk)
    heard.demographic = False
    with pytest.raises(ValidationError) as refused:
        heard.full_clean()
    assert "demographic" in refused.value.message_dict


def test_the_page_editor_has_the_questions_panel(admin_client, event, questions):
    response = admin_client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
    assert response.status_code == 200
    html = _html(response)
    assert "Questions on the sign-up form" in html
    assert "How did you hear about us?" in html


# Who sees the answers --------------------------------------------------------------


@pytest.fixture
def answered(event, questions):
    """Ana answered every question; her demographic answer is "Hospital
    staff"."""
    return sign_up(
        event,
        "Ana Lopez",
        email="ana@example.org",
        answers={
            questions["time"].pk: "Evening",
            questions["needs"].pk: TEXT_ANSWER,
            questions["heard"].pk: "Hospital staff",
            questions["first"].pk: "yes",
        },
    )


@pytest.fixture
def facilitator(django_user_model, event):
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(role_group("Facilitators"))
    event.facilitators.add(user)
    event.save_revision().publish()
    return user


def _roster(client, event):
    return client.get(reverse("facilitate_session", args=[event.sessions.get().pk]))


def test_the_roster_shows_the_answers_but_never_the_demographic_one(
    client, event, answered, facilitator
):
    client.force_login(facilitator)
    response = _roster(client, event)
    assert response.status_code == 200
    html = _html(response)
    assert "Ana Lopez" in html
    assert "Anything we should know to make the session work for you?" in html
    assert TEXT_ANSWER in html
    assert "<dd>Evening</dd>" in html and "<dd>Yes</dd>" in html
    assert "Hospital staff" not in html
    assert "How did you hear about us?" not in html


def test_the_roster_is_refused_to_others(
    client, django_user_model, event, answered, facilitator
):
    response = _roster(client, event)  # anonymous: to the login page
    assert response.status_code == 302
    assert TEXT_ANSWER not in _html(response)
    other = django_user_model.objects.create_user("other", password="pw")
    other.groups.add(role_group("Facilitators"))
    client.force_login(other)
    response = _roster(client, event)
    assert response.status_code == 404
    assert TEXT_ANSWER not in _html(response)


@pytest.fixture
def coordinator(django_user_model):
    user = django_user_model.objects.create_user("coord", password="pw")
    user.groups.add(role_group(COORDINATORS_GROUP))
    return user


def test_the_registration_page_shows_the_answers_to_those_who_see_names(
    client, django_user_model, event, answered, coordinator
):
    url = reverse("event_registrations:inspect", args=[answered.pk])
    client.force_login(coordinator)
    html = _html(client.get(url))
    assert (
        f"Anything we should know to make the session work for you?: {TEXT_ANSWER}"
        in html
    )
    assert "Which time suits you best?: Evening" in html
    assert "Hospital staff" not in html
    # Someone with the registration permissions but no event to see.
    staff = django_user_model.objects.create_user("staff", password="pw")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_registration"])
    )
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 404
    assert TEXT_ANSWER not in _html(response)


def _export(client, file_format="json", **params):
    return client.get(
        reverse("spreadsheets_export", args=["registrations"]),
        {"format": file_format, **params},
    )


def test_the_export_has_a_column_per_question_and_is_logged(
    client, event_index, event, questions, answered, coordinator
):
    # Another event asking the same question shares its column.
    other = make_registration_event(event_index, title="Wednesday group")
    same = _question(
        other, "Which time suits you best?", "choice", choices="Noon\nNight"
    )
    sign_up(other, "Ben Okafor", answers={same.pk: "Noon"})
    sign_up(event, "Cy Blank")
    client.force_login(coordinator)
    response = _export(client)
    assert response.status_code == 200
    rows = {row["name"]: row for row in json.loads(response.content)}
    assert rows["Ana Lopez"]["Which time suits you best?"] == "Evening"
    assert rows["Ana Lopez"][questions["needs"].label] == TEXT_ANSWER
    assert rows["Ana Lopez"]["Is this your first peer group?"] == "Yes"
    assert rows["Ben Okafor"]["Which time suits you best?"] == "Noon"
    assert rows["Cy Blank"][questions["needs"].label] == ""
    # Demographic answers are totals only: no column.
    assert "How did you hear about us?" not in rows["Ana Lopez"]
    assert "Hospital staff" not in response.content.decode()
    # The CSV's header row names the questions after the standard columns.
    csv = _export(client, "csv").content.decode("utf-8-sig").splitlines()
    header = csv[0].split(",")
    assert header[-3:] == [
        "Which time suits you best?",
        questions["needs"].label,
        "Is this your first peer group?",
    ]
    assert header[0] == "event_id"
    exports = ModelLogEntry.objects.filter(action="spreadsheets.export")
    assert exports.count() == 2
    assert all(entry.data["personal_data"] for entry in exports)
    assert TEXT_ANSWER not in json.dumps(list(exports.values_list("data", flat=True)))


def test_a_facilitators_export_holds_only_their_events_answers(
    client, event_index, event, questions, answered, facilitator
):
    facilitator.groups.get().permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_registration"])
    )
    other = make_registration_event(event_index, title="Not theirs")
    secret = _question(other, "Private question", "text")
    sign_up(other, "Di", answers={secret.pk: "Their answer"})
    client.force_login(facilitator)
    content = _export(client).content.decode()
    assert TEXT_ANSWER in content
    assert "Their answer" not in content and "Private question" not in content


def test_answers_are_never_in_public_pages_feeds_or_calendar_files(
    site_client, event, questions, answered
):
    session = event.sessions.get()
    public = [
        event.url,
        event.sign_up_url,
        reverse("site_calendar_feed"),
        event.calendar_url,
        f"/calendar/session-{session.pk}.ics",
        reverse("registration_manage", args=[manage_token(answered)]),
        reverse("registration_calendar", args=[manage_token(answered)]),
    ]
    for url in public:
        response = site_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert TEXT_ANSWER not in body, url
        if url != event.sign_up_url:  # the form lists the choices themselves
            assert "Evening" not in body and "Hospital staff" not in body, url


# Retention and erasure --------------------------------------------------------------


def _past(event):
    """Move ``event``'s session two years back."""
    start = timezone.now() - dt.timedelta(days=730)
    event.sessions.update(start=start, end=start + dt.timedelta(hours=2))


def _answers_report(days_back=1000):
    today = timezone.localdate()
    # Up to next month: the event's session is tomorrow.
    filters = ReportFilters(
        date_from=today - dt.timedelta(days=days_back),
        date_to=today + dt.timedelta(days=30),
    )
    (report,) = build_reports(filters, only={"answers"})
    return report


def test_retention_deletes_the_answers_and_keeps_the_totals(event, questions):
    heard = questions["heard"].pk
    for n in range(6):
        sign_up(event, f"P{n}", answers={heard: "A friend", questions["needs"].pk: "x"})
    _past(event)
    before = _answers_report().rows
    result = apply_retention()
    assert result.registrations == 6
    assert not RegistrationAnswer.objects.exists()
    assert dict(AnswerTally.objects.values_list("value", "count")) == {"A friend": 6}
    assert _answers_report().rows == before
    assert ["Tuesday group", "How did you hear about us?", "A friend", 6] in before
    # A second run counts nothing twice.
    apply_retention()
    assert _answers_report().rows == before


def test_erasure_deletes_the_persons_answers(event, questions, answered, coordinator):
    result = erase(
        registration_ids=[answered.pk], email="ana@example.org", user=coordinator
    )
    assert result.erased == 1
    assert not RegistrationAnswer.objects.filter(registration=answered).exists()
    # Her demographic answer lives on only as an anonymous count.
    assert list(AnswerTally.objects.values_list("question_id", "value", "count")) == [
        (questions["heard"].pk, "Hospital staff", 1)
    ]


def test_deleting_a_registration_deletes_its_answers(event, answered, coordinator):
    from events.privacy import delete_registration

    delete_registration(registration=answered, user=coordinator)
    assert not RegistrationAnswer.objects.exists()
    assert not AnswerTally.objects.exists()


# Reports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        ([6, 7, 5], [6, 7, 5]),
        ([6, 2, 0, 1], [6, "fewer than 5", "fewer than 5", "fewer than 5"]),
        # One hidden count would be the total minus the others: the smallest
        # other one is hidden too.
        ([9, 6, 7, 3], [9, "not shown", 7, "fewer than 5"]),
        ([4], ["fewer than 5"]),
    ],
)
def test_small_counts_are_suppressed(counts, shown):
    assert suppress_small(counts) == shown


def test_the_report_shows_totals_per_answer_with_small_counts_hidden(
    event, questions, coordinator, client
):
    heard, first = questions["heard"].pk, questions["first"].pk
    for n in range(7):
        sign_up(event, f"F{n}", answers={heard: "A friend", first: "yes"})
    for n in range(2):
        sign_up(event, f"P{n}", answers={heard: "A poster", first: "no"})
    report = _answers_report()
    rows = [row[1:] for row in report.rows]
    assert rows == [
        ["How did you hear about us?", "A friend", 7],
        ["How did you hear about us?", "A poster", "fewer than 5"],
        ["How did you hear about us?", "Hospital staff", "fewer than 5"],
        ["How did you hear about us?", "No answer", "fewer than 5"],
    ]
    # Only demographic questions, never a name.
    assert "F0" not in json.dumps(report.rows)
    client.force_login(coordinator)
    today = timezone.localdate()
    dates = {
        "date_from": (today - dt.timedelta(days=30)).isoformat(),
        "date_to": (today + dt.timedelta(days=30)).isoformat(),
    }
    html = _html(client.get(reverse("attendance_reports"), dates))
    assert "Answers to demographic questions" in html
    assert "fewer than 5" in html
    download = client.get(
        reverse("attendance_report_download", args=["answers", "csv"]),
        dates,
    )
    assert "A friend,7" in download.content.decode()


def test_the_answers_report_queries_do_not_grow_with_data(
    event_index, event, questions
):
    def count():
        with CaptureQueriesContext(connection) as queries:
            _answers_report()
        return len(queries)

    sign_up(event, answers={questions["heard"].pk: "A friend"})
    before = count()
    for n in range(3):
        other = make_registration_event(event_index)
        question = _question(other, f"Q{n}", "yes_no", demographic=True)
        for _ in range(3):
            sign_up(other, answers={question.pk: "yes"})
    make_session(event, start=timezone.now() - dt.timedelta(days=3))
    assert count() == before <= 4


def test_the_reports_are_refused_to_facilitators(client, facilitator):
    client.force_login(facilitator)
    url = reverse("attendance_report_download", args=["answers", "csv"])
    assert client.get(url).status_code == 403
