"""A plan for each session of a workshop: which session gets which plan,
what falls back to the workshop's outline and handout, the public page, the
facilitator's session page and the printed guide, handout and pack."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from attendance import pdfs
from events.models import EventSession, SessionStatus
from tests.conftest import make_registration_event, make_session, make_workshop
from workshops.models import WorkshopPage, WorkshopSessionPlan, session_plan_errors

pytestmark = pytest.mark.django_db


def segment(title, minutes, kind="activity", **fields):
    return (
        "segment",
        {
            "title": title,
            "minutes": minutes,
            "kind": kind,
            "description": f"{title} part.",
            "facilitator_notes": fields.get("notes", f"Note for {title}."),
            "materials": fields.get("materials", []),
        },
    )


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def at(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def course(workshop_index):
    """A 60-minute workshop with its own plan for week 2 only."""
    return make_workshop(
        workshop_index,
        title="WRAP",
        handout="<p>The usual handout for every week.</p>",
        session_plans=[
            WorkshopSessionPlan(
                number=2,
                title="Week 2: Your daily plan",
                outline=[
                    segment("Daily plan check-in", 15, "check_in"),
                    segment(
                        "Write your daily plan",
                        45,
                        notes="Keep the list short.",
                        materials=["Daily plan worksheets"],
                    ),
                ],
                handout="<p>Read your daily plan each morning.</p>",
                materials="Coloured pencils\n\n",
            )
        ],
    )


@pytest.fixture
def weekly(event_index, course):
    """Four weekly sessions of ``course``, the first from tomorrow."""
    event = make_registration_event(event_index, workshop=course)
    first = event.sessions.get()
    EventSession.objects.filter(pk=first.pk).update(start=at(1), end=at(1, 20))
    for week in (1, 2, 3):
        make_session(event, start=at(1 + 7 * week))
    return event


def sessions_of(event):
    return list(EventSession.objects.filter(event=event).order_by("start"))


# Numbering -------------------------------------------------------------------


def test_week_numbers_count_sessions_by_start(weekly):
    assert [s.week_number() for s in sessions_of(weekly)] == [1, 2, 3, 4]


def test_a_cancelled_week_is_skipped_and_the_next_session_runs_its_plan(weekly):
    """Cancelling week 2's date moves week 2's plan to the next date that
    goes ahead; the cancelled session keeps the plan it would have run, and
    the printed "Session n of N" still counts every date."""
    first, second, third, fourth = sessions_of(weekly)
    EventSession.objects.filter(pk=second.pk).update(status=SessionStatus.CANCELLED)

    numbers = [s.week_number() for s in sessions_of(weekly)]

    assert numbers == [1, 2, 2, 3]
    assert third.series_position() == (3, 4)
    assert "Week 2: Your daily plan" in text_of(pdfs.facilitator_guide_pdf(third))
    assert "Week 2" not in text_of(pdfs.facilitator_guide_pdf(fourth))


def test_sessions_at_the_same_time_are_numbered_in_creation_order(weekly):
    first = sessions_of(weekly)[0]
    twin = make_session(weekly, start=first.start)

    assert first.week_number() == 1
    assert twin.week_number() == 2


# What a session runs -----------------------------------------------------------


def test_a_plan_replaces_the_outline_handout_and_adds_materials(course):
    week_two = course.session_content(2)
    week_one = course.session_content(1)

    assert week_two.has_plan and week_two.title == "Week 2: Your daily plan"
    assert [s["title"] for s in week_two.segments] == [
        "Daily plan check-in",
        "Write your daily plan",
    ]
    assert week_two.handout == "<p>Read your daily plan each morning.</p>"
    assert week_two.materials == ["Daily plan worksheets", "Coloured pencils"]
    assert not week_one.has_plan and week_one.other_plans
    assert week_one.segments == course.segments
    assert week_one.handout == course.handout


def test_a_plan_with_only_a_title_keeps_the_workshops_outline_and_handout(
    workshop_index,
):
    workshop = make_workshop(
        workshop_index,
        handout="<p>Usual.</p>",
        session_plans=[WorkshopSessionPlan(number=5, title="Week 5: Review")],
    )

    week_five = workshop.session_content(5)

    assert week_five.title == "Week 5: Review"
    assert week_five.segments == workshop.segments
    assert week_five.handout == "<p>Usual.</p>"


# Validation --------------------------------------------------------------------


def test_repeated_numbers_and_outlines_of_the_wrong_length_are_refused():
    errors = session_plan_errors(
        [
            (1, [segment("A", 60)]),
            (2, [segment("A", 20), segment("B", 30)]),
            (2, []),
        ],
        60,
    )

    assert errors[0] == {}
    assert errors[1]["number"] == errors[2]["number"]
    assert "Another plan is for session 2 too." in errors[1]["number"]
    assert "adds up to 50 minutes but the duration is 60" in errors[1]["outline"]
    assert "outline" not in errors[2]  # empty: it uses the workshop's outline


def test_the_database_refuses_two_plans_for_one_session(course):
    with pytest.raises(ValidationError) as refused:
        WorkshopSessionPlan(workshop=course, number=2, title="Again").full_clean()

    assert "already has a plan for this session number" in str(refused.value)


# Documents ---------------------------------------------------------------------


def test_week_two_guide_prints_its_plan_and_week_one_falls_back(weekly):
    first, second, *_rest = sessions_of(weekly)

    week_two = text_of(pdfs.facilitator_guide_pdf(second))
    week_one = text_of(pdfs.facilitator_guide_pdf(first))

    assert "Week 2: Your daily plan" in week_two
    assert "Write your daily plan" in week_two and "Keep the list short." in week_two
    assert "6:15 p.m." in week_two  # the plan's second part starts after 15 min
    checklist = week_two.split("Materials checklist", 1)[1]
    assert "Daily plan worksheets" in checklist and "Coloured pencils" in checklist
    assert "Talk" not in week_two.split("Running order", 1)[1].split("Materials")[0]
    assert "Week 2" not in week_one
    assert "Talk" in week_one and "Secret note for Talk." in week_one
    assert "no plan of its own for week 1" in week_one


def test_week_two_handout_prints_its_plan_and_week_one_falls_back(course):
    week_two = text_of(pdfs.participant_handout_pdf(course, week=2))
    week_one = text_of(pdfs.participant_handout_pdf(course, week=1))
    any_week = text_of(pdfs.participant_handout_pdf(course))

    assert "Week 2: Your daily plan" in week_two
    assert "Read your daily plan each morning." in week_two
    assert "The usual handout" not in week_two
    assert "Keep the list short." not in week_two  # notes never on handouts
    assert "The usual handout for every week." in week_one
    assert "Week 2" not in week_one
    assert any_week == week_one


def test_the_session_pack_prints_the_weeks_guide_and_handouts(weekly):
    second = sessions_of(weekly)[1]

    text = text_of(pdfs.session_pack_pdf(second))

    assert "Write your daily plan" in text
    assert "Read your daily plan each morning." in text
    assert "The usual handout" not in text


def test_the_facilitator_page_shows_the_sessions_plan(
    client, weekly, django_user_model, facilitators_group
):
    user = django_user_model.objects.create_user("fay", password="pw")
    user.groups.add(facilitators_group)
    weekly.facilitators.add(user)
    weekly.save_revision().publish()
    client.force_login(user)
    first, second, *_rest = sessions_of(weekly)

    week_two = client.get(reverse("facilitate_session", args=[second.pk]))
    week_one = client.get(reverse("facilitate_session", args=[first.pk]))

    html = week_two.content.decode()
    assert "Week 2: Your daily plan" in html
    assert "Keep the list short." in html and "Coloured pencils" in html
    assert "Read your daily plan each morning." in html
    html = week_one.content.decode()
    assert "Plan for week 1" in html and "Secret note for Talk." in html
    # The handout link prints the session's own week.
    handout = client.get(reverse("facilitate_pdf", args=[second.pk, "handout"]))
    assert "Read your daily plan" in text_of(handout.content)


def test_the_public_page_lists_the_weeks_but_no_facilitator_notes(site_client, course):
    html = site_client.get(course.url).content.decode()

    assert "Week by week" in html and "Week 2: Your daily plan" in html
    assert "Keep the list short." not in html
    assert "Coloured pencils" not in html


def test_plans_are_kept_with_the_published_revision(course):
    workshop = WorkshopPage.objects.get(pk=course.pk)
    revision = workshop.latest_revision.as_object()

    assert [p.title for p in revision.plans()] == ["Week 2: Your daily plan"]
