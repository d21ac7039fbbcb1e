"""Waitlist offers (events.offers): a freed place held for the next person
until a deadline, accepted or declined from a link, passed down the list
when it expires; on a frozen clock."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import ModelLogEntry

from core import sms
from core.models import SiteSettings
from events import offers
from events import registration as workflows
from events.errors import EventsError
from events.models import (
    CallRequest,
    Channel,
    Delivery,
    EventPage,
    PlaceOffer,
    PlaceOfferStatus,
    Registration,
    RegistrationStatus,
)
from events.privacy import anonymise_registrations
from tests.conftest import make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")
#: A Wednesday morning, outside quiet hours (21:00 to 08:00).
MORNING = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TORONTO)
PHONE = "+14165550123"


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def offer_event(index, *, capacity=1, hours=24, **fields):
    """An event whose freed places are offered for ``hours``, meeting in a
    week (so an offer's deadline comes before it)."""
    event = make_registration_event(
        index, capacity=capacity, waitlist_offer_hours=hours, **fields
    )
    event.sessions.all().delete()
    make_session(event, start=MORNING + dt.timedelta(days=7))
    return event


def people(event, *names, **fields):
    return [
        sign_up(event, name, email=f"{name.lower()}@example.org", **fields)
        for name in names
    ]


def fresh(registration):
    return Registration.objects.get(pk=registration.pk)


def waiting(event):
    return [
        (r.name, r.waitlist_position)
        for r in Registration.objects.filter(event=event).waitlisted()
    ]


def open_offers(event):
    return list(
        PlaceOffer.objects.open()
        .filter(registration__event=event)
        .values_list("registration__name", flat=True)
    )


def taken(event):
    return offers.Scope(event).places_taken()


# Off: today's behaviour --------------------------------------------------------


def test_without_hours_the_first_person_waiting_gets_the_place_at_once(
    event_index, clock
):
    event = make_registration_event(event_index, capacity=1)
    ana, ben = people(event, "Ana", "Ben")

    cancelled = workflows.cancel(registration=ana)

    assert [r.pk for r in cancelled.promoted] == [ben.pk]
    assert fresh(ben).status == RegistrationStatus.CONFIRMED
    assert not PlaceOffer.objects.exists()


# Offers ------------------------------------------------------------------------


def test_a_cancellation_offers_the_place_to_the_first_person_waiting(
    event_index, clock
):
    event = offer_event(event_index)
    ana, ben, _cy = people(event, "Ana", "Ben", "Cy")

    cancelled = workflows.cancel(registration=ana)

    assert cancelled.promoted == []
    offer = PlaceOffer.objects.get()
    assert (offer.registration_id, offer.status) == (ben.pk, PlaceOfferStatus.OPEN)
    assert offer.expires_at == MORNING + dt.timedelta(hours=24)
    # Ben keeps his place in line until he says yes; the place is held.
    assert waiting(event) == [("Ben", 1), ("Cy", 2)]
    assert taken(event) == 1
    assert EventPage.objects.get(pk=event.pk).places_left == 0
    assert ModelLogEntry.objects.filter(
        action="events.registration.offered", object_id=str(ben.pk)
    ).exists()


def test_a_held_place_is_not_given_to_a_newcomer_or_an_import(event_index, clock):
    event = offer_event(event_index)
    ana, _ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)

    newcomer = sign_up(event, "Di", email="di@example.org")
    from django.db import transaction

    with transaction.atomic():
        batch = workflows.RegistrationBatch([event], notify=False)
        imported = batch.add(event=event, name="Ed", email="ed@example.org")
        batch.save()

    assert newcomer.status == RegistrationStatus.WAITLISTED
    assert imported.registration.status == RegistrationStatus.WAITLISTED
    assert Registration.objects.filter(event=event).confirmed().count() == 0


def test_accepting_confirms_the_place(
    event_index, clock, django_capture_on_commit_callbacks
):
    event = offer_event(event_index)
    ana, ben, _cy = people(event, "Ana", "Ben", "Cy")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        offers.accept(offer=offer)

    assert fresh(ben).status == RegistrationStatus.CONFIRMED
    assert fresh(ben).waitlist_position is None
    offer.refresh_from_db()
    assert offer.status == PlaceOfferStatus.ACCEPTED
    assert waiting(event) == [("Cy", 1)]
    assert taken(event) == 1
    [email] = mail.outbox
    assert email.to == ["ben@example.org"]
    assert email.subject == "Good news, a place opened up"
    # Used once: a second answer is refused, with words.
    with pytest.raises(EventsError) as refused:
        offers.accept(offer=offer)
    assert refused.value.code == "offer_accepted"


def test_declining_leaves_the_waitlist_and_offers_the_place_to_the_next(
    event_index, clock
):
    event = offer_event(event_index)
    ana, ben, cy = people(event, "Ana", "Ben", "Cy")
    workflows.cancel(registration=ana)

    offers.decline(offer=PlaceOffer.objects.get(registration=ben))

    assert fresh(ben).status == RegistrationStatus.CANCELLED
    assert waiting(event) == [("Cy", 1)]
    assert open_offers(event) == ["Cy"]
    assert taken(event) == 1
    assert PlaceOffer.objects.get(registration=ben).status == PlaceOfferStatus.DECLINED


def test_an_expired_offer_moves_down_the_list_and_the_person_waits_at_the_end(
    event_index, clock, django_capture_on_commit_callbacks
):
    event = offer_event(event_index)
    ana, ben, _cy, _di = people(event, "Ana", "Ben", "Cy", "Di")
    workflows.cancel(registration=ana)
    mail.outbox.clear()

    clock.move_to(MORNING + dt.timedelta(hours=23, minutes=59))
    assert offers.expire_due_offers() == 0
    clock.move_to(MORNING + dt.timedelta(hours=24))
    with django_capture_on_commit_callbacks(execute=True):
        assert offers.expire_due_offers() == 1

    assert PlaceOffer.objects.get(registration=ben).status == PlaceOfferStatus.EXPIRED
    assert waiting(event) == [("Cy", 1), ("Di", 2), ("Ben", 3)]
    assert open_offers(event) == ["Cy"]
    assert taken(event) == 1
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        "ben@example.org": "The time to take a place has passed",
        "cy@example.org": "A place is free for you: please reply",
    }
    told = next(m for m in mail.outbox if m.to == ["ben@example.org"])
    assert "now number 3 in line" in told.body


def test_someone_alone_on_the_list_is_not_offered_the_same_place_again(
    event_index, clock
):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    clock.move_to(MORNING + dt.timedelta(hours=25))

    offers.expire_due_offers()

    assert waiting(event) == [("Ben", 1)]
    assert open_offers(event) == []
    # The place is free again: a newcomer has it.
    assert sign_up(event, "Di").status == RegistrationStatus.CONFIRMED


def test_accepting_after_the_deadline_is_refused_with_a_message(event_index, clock):
    event = offer_event(event_index)
    ana, ben, cy = people(event, "Ana", "Ben", "Cy")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()
    clock.move_to(MORNING + dt.timedelta(hours=24, minutes=1))

    # The scheduled job has not run yet: the late answer expires it itself.
    with pytest.raises(EventsError) as refused:
        offers.accept(offer=offer)

    assert refused.value.code == "offer_expired"
    assert "time to accept this place has passed" in refused.value.message
    assert fresh(ben).status == RegistrationStatus.WAITLISTED
    offer.refresh_from_db()
    assert offer.status == PlaceOfferStatus.EXPIRED
    assert open_offers(event) == ["Cy"]
    assert offers.expire_due_offers() == 0


def test_offers_never_take_the_event_over_capacity(event_index, clock):
    event = offer_event(event_index, capacity=2)
    ana, bo, cy, di, _ed = people(event, "Ana", "Bo", "Cy", "Di", "Ed")
    workflows.cancel(registration=ana)
    workflows.cancel(registration=bo)
    assert sorted(open_offers(event)) == ["Cy", "Di"]
    assert taken(event) == 2
    # A coordinator cannot give a held place to someone else.
    with pytest.raises(EventsError) as full:
        workflows.promote(registration=Registration.objects.get(name="Ed"))
    assert full.value.code == "full"

    # The capacity is lowered while both offers are open: one place left.
    workflows.change_capacity(event=EventPage.objects.get(pk=event.pk), capacity=1)
    with pytest.raises(EventsError) as withdrawn:
        offers.accept(offer=PlaceOffer.objects.get(registration=cy))
    assert withdrawn.value.code == "offer_withdrawn"
    offers.accept(offer=PlaceOffer.objects.get(registration=di))

    assert Registration.objects.filter(event=event).confirmed().count() == 1
    assert taken(event) == 1
    assert fresh(cy).status == RegistrationStatus.WAITLISTED


def test_raising_the_capacity_offers_the_new_places(event_index, clock):
    event = offer_event(event_index, capacity=1)
    people(event, "Ana", "Bo", "Cy", "Di")

    promoted = workflows.change_capacity(event=event, capacity=3)

    assert promoted == []
    assert open_offers(event) == ["Bo", "Cy"]
    assert taken(event) == 3


def test_leaving_the_waitlist_while_holding_an_offer_passes_it_on(event_index, clock):
    event = offer_event(event_index)
    ana, ben, _cy = people(event, "Ana", "Ben", "Cy")
    workflows.cancel(registration=ana)

    workflows.cancel(registration=ben)

    assert PlaceOffer.objects.get(registration=ben).status == PlaceOfferStatus.WITHDRAWN
    assert open_offers(event) == ["Cy"]
    assert waiting(event) == [("Cy", 1)]


def test_a_coordinator_giving_the_place_to_the_offer_holder_accepts_it(
    event_index, clock
):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)

    workflows.promote(registration=fresh(ben))

    assert fresh(ben).status == RegistrationStatus.CONFIRMED
    assert PlaceOffer.objects.get().status == PlaceOfferStatus.ACCEPTED
    assert taken(event) == 1


def test_the_scheduled_job_is_idempotent(event_index, clock):
    event = offer_event(event_index, capacity=2)
    ana, bo, _cy, _di, _ed = people(event, "Ana", "Bo", "Cy", "Di", "Ed")
    workflows.cancel(registration=ana)
    workflows.cancel(registration=bo)
    clock.move_to(MORNING + dt.timedelta(hours=30))

    call_command("expire_place_offers")
    after_first = list(PlaceOffer.objects.values_list("pk", "status", "expires_at"))
    line = waiting(event)
    call_command("expire_place_offers")

    assert list(PlaceOffer.objects.values_list("pk", "status", "expires_at")) == (
        after_first
    )
    assert waiting(event) == line == [("Ed", 1), ("Cy", 2), ("Di", 3)]
    assert open_offers(event) == ["Ed"]
    # Two places and one person left who did not just let an offer lapse.
    assert taken(event) == 1
    assert PlaceOffer.objects.filter(status=PlaceOfferStatus.EXPIRED).count() == 2


def test_the_job_is_in_the_schedule_and_a_task():
    from events import tasks
    from website.scheduler import JOBS

    assert "expire_place_offers" in [job.command for job in JOBS]
    assert callable(tasks.expire_place_offers.call)


# Deadlines and quiet hours ------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "hours", "ends"),
    [
        # Made at 10:00 for a day: the same time tomorrow.
        (MORNING, 24, MORNING + dt.timedelta(hours=24)),
        # Made at 23:00: the clock starts at 08:00, when the text goes.
        (
            dt.datetime(2026, 12, 2, 23, tzinfo=TORONTO),
            24,
            dt.datetime(2026, 12, 4, 8, tzinfo=TORONTO),
        ),
        # 3 hours from 19:00 would end at 22:00, at night: moved to 08:00.
        (
            dt.datetime(2026, 12, 2, 19, tzinfo=TORONTO),
            3,
            dt.datetime(2026, 12, 3, 8, tzinfo=TORONTO),
        ),
    ],
)
def test_a_deadline_never_runs_through_quiet_hours_unannounced(made, hours, ends):
    assert offers.deadline(made, hours) == ends


def test_an_offer_made_at_night_is_emailed_now_and_texted_at_eight(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    night = dt.datetime(2026, 12, 2, 23, tzinfo=TORONTO)
    with time_machine.travel(night, tick=False):
        event = offer_event(event_index)
        ana = sign_up(event, "Ana")
        ben = workflows.register(
            event=event,
            name="Ben",
            email="ben@example.org",
            phone=PHONE,
            consent=[Channel.TEXT],
        ).registration
        mail.outbox.clear()
        sms_outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            workflows.cancel(registration=ana)
        to_ben = [m.subject for m in mail.outbox if m.to == ["ben@example.org"]]
        assert to_ben == ["A place is free for you: please reply"]
        assert sms_outbox == []
        text = Delivery.objects.get(registration=ben, channel=Channel.TEXT)
        assert text.send_after == dt.datetime(2026, 12, 3, 8, tzinfo=TORONTO)
    assert PlaceOffer.objects.get().expires_at == dt.datetime(
        2026, 12, 4, 8, tzinfo=TORONTO
    )


# Messages by channel ------------------------------------------------------------


def test_the_offer_email_gives_the_link_and_the_deadline_in_local_time(
    event_index, clock, django_capture_on_commit_callbacks
):
    event = offer_event(event_index, title="Hearing Voices Group")
    ana, _ben = people(event, "Ana", "Ben")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflows.cancel(registration=ana)

    [email] = [m for m in mail.outbox if m.to == ["ben@example.org"]]
    offer = PlaceOffer.objects.get()
    assert email.subject == "A place is free for you: please reply"
    assert "Hearing Voices" not in email.subject
    assert offers.offer_url(offer) in email.body
    assert "/offer/" + offers.offer_token(offer) + "/" in email.body
    # 10:00 tomorrow in Toronto (15:00 UTC).
    assert "Thursday 3 December, 10:00 a.m." in email.body
    html = email.alternatives[0][0]
    assert offers.offer_url(offer) in html
    # Nothing about the person in the link.
    assert "ben" not in offers.offer_url(offer).lower()
    assert not PlaceOffer.objects.filter(token_hash=offers.offer_token(offer))


@pytest.mark.parametrize("naming", [False, True])
def test_the_offer_text_fits_one_segment_and_names_no_group_unless_allowed(
    event_index, clock, home_page, django_capture_on_commit_callbacks, naming
):
    site_settings = SiteSettings.for_site(home_page.get_site())
    site_settings.short_name = "PeerSupport"
    site_settings.messages_name_the_group = naming
    site_settings.save()
    event = offer_event(
        event_index, title="Hearing Voices Peer Support Group (Wednesdays)"
    )
    ana = sign_up(event, "Ana")
    ben = workflows.register(
        event=event, name="Ben", phone=PHONE, consent=[Channel.TEXT]
    ).registration
    with django_capture_on_commit_callbacks(execute=True):
        workflows.cancel(registration=ana)

    [text] = [t for t in sms.outbox if t.to == PHONE]
    offer = PlaceOffer.objects.get(registration=ben)
    assert offers.short_link(offer) in text.body
    assert "Thu 3 Dec, 10:00 AM" in text.body
    assert sms.segments(text.body) == 1
    assert ("Hearing" in text.body) is naming
    # The short link leads to the offer's page.
    code = re.search(r"/o/(\S+)", text.body).group(1)
    response = offers_client().get(reverse("place_offer_short_link", args=[code]))
    assert response["Location"] == reverse(
        "place_offer", args=[offers.offer_token(offer)]
    )


def offers_client():
    from django.test import Client

    return Client(HTTP_HOST="localhost")


def test_someone_only_a_call_reaches_goes_on_the_call_list_while_the_offer_is_open(
    event_index, clock, django_capture_on_commit_callbacks
):
    event = offer_event(event_index)
    ana = sign_up(event, "Ana")
    ben = workflows.register(event=event, name="Ben", phone=PHONE).registration
    with django_capture_on_commit_callbacks(execute=True):
        workflows.cancel(registration=ana)

    call = CallRequest.objects.get(registration=ben, reason="place_offered")
    assert call in CallRequest.objects.to_make()
    from events.admin_calls import reason_text

    assert "Offered a place until Thu 3 Dec 2026, 10 a.m." in reason_text(call)
    offers.accept(offer=PlaceOffer.objects.get())
    assert call not in CallRequest.objects.to_make()


# The public page ----------------------------------------------------------------


def test_the_offer_page_shows_the_offer_and_accepts_without_javascript(
    event_index, clock, site_client
):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()
    url = reverse("place_offer", args=[offers.offer_token(offer)])

    page = site_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store, private"
    assert "Please answer by Thursday 3 December, 10:00 a.m." in html
    assert 'name="choice" value="accept"' in html
    assert 'name="choice" value="decline"' in html

    answered = site_client.post(url, {"choice": "accept"}, follow=True)
    assert "Thank you. The place is yours." in answered.content.decode()
    assert "The place is yours" in answered.content.decode()
    assert fresh(ben).status == RegistrationStatus.CONFIRMED


def test_a_late_answer_on_the_page_says_why_never_an_error(
    event_index, clock, site_client
):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    url = reverse("place_offer", args=[offers.offer_token(PlaceOffer.objects.get())])
    clock.move_to(MORNING + dt.timedelta(days=2))

    shown = site_client.get(url)
    assert shown.status_code == 200
    assert "This offer has ended" in shown.content.decode()
    answered = site_client.post(url, {"choice": "accept"}, follow=True)

    assert answered.status_code == 200
    html = answered.content.decode()
    assert "the time to accept this place has passed" in html
    assert "You are still on the waitlist, now number 1 in line." in html
    assert fresh(ben).status == RegistrationStatus.WAITLISTED


def test_a_wrong_offer_link_is_not_found(site_client, db):
    from django.core.cache import cache

    cache.clear()  # short links are rate-limited; earlier tests used them
    assert site_client.get(reverse("place_offer", args=["0" * 64])).status_code == 404
    assert site_client.get(reverse("place_offer", args=["nonsense"])).status_code == 404
    short = reverse("place_offer_short_link", args=["1-AAAAAAAAAA"])
    assert site_client.get(short).status_code == 404


def test_the_manage_page_points_to_an_open_offer(event_index, clock, site_client):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()

    html = site_client.get(
        reverse("registration_manage", args=[workflows.manage_token(ben)])
    ).content.decode()

    assert "A place is free for you" in html
    assert reverse("place_offer", args=[offers.offer_token(offer)]) in html


# Coordinators, retention ------------------------------------------------------


def test_coordinators_see_open_offers_in_the_registrations_list(
    event_index, clock, client, admin_user, django_user_model
):
    from django.contrib.auth.models import Permission

    event = offer_event(event_index)
    ana, _ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    client.force_login(admin_user)

    html = client.get(
        reverse("event_registrations:index"), {"event": event.pk}
    ).content.decode()
    assert "Offered a place until 3 December 2026, 10:00 a.m. (Toronto time)" in html

    # Staff who may not see this group's people see no offer either.
    staff = django_user_model.objects.create_user("staff", password="pw")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_registration"])
    )
    client.force_login(staff)
    html = client.get(reverse("event_registrations:index")).content.decode()
    assert "Offered a place" not in html


def test_anonymising_ends_the_offer_and_its_link(event_index, clock, site_client):
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()
    token, code = offers.offer_token(offer), offers.short_code(offer)

    anonymise_registrations(Registration.objects.filter(pk=ben.pk))

    offer.refresh_from_db()
    assert offer.status == PlaceOfferStatus.WITHDRAWN
    assert offer.token_salt == ""
    assert site_client.get(reverse("place_offer", args=[token])).status_code == 404
    short = reverse("place_offer_short_link", args=[code])
    assert site_client.get(short).status_code == 404


def test_cancelling_in_the_admin_says_who_was_offered_the_place(
    event_index, clock, client, admin_user
):
    event = offer_event(event_index)
    ana, _ben = people(event, "Ana", "Ben")
    client.force_login(admin_user)

    response = client.post(
        reverse("event_registrations:cancel", args=[ana.pk]), follow=True
    )

    assert (
        "Registration of Ana cancelled. Ben was offered the place until "
        "3 December 2026, 10:00 a.m. (Toronto time)."
    ) in response.content.decode()


def test_the_hours_to_accept_a_place_are_in_the_events_sign_up_panel(
    event_index, client, admin_user
):
    event = offer_event(event_index)
    client.force_login(admin_user)

    html = client.get(reverse("wagtailadmin_pages:edit", args=[event.pk])).content

    assert b'name="waitlist_offer_hours"' in html
    assert b"Leave empty to give the place at once" in html


def test_a_run_for_a_moment_starts_the_next_offers_then(event_index, clock):
    """The expiry job run for a moment (``now``) offers the freed places from
    that moment: a second run for the same moment finds nothing due, even
    when the clock has not reached it (as in quiet hours, or a late job)."""
    event = offer_event(event_index)
    ana, _ben, _cy = people(event, "Ana", "Ben", "Cy")
    workflows.cancel(registration=ana)
    deadline = PlaceOffer.objects.get().expires_at
    assert offers.expire_due_offers(now=deadline) == 1
    follow_on = PlaceOffer.objects.open().get()
    assert follow_on.expires_at == deadline + dt.timedelta(hours=24)
    assert offers.expire_due_offers(now=deadline) == 0


def test_an_offer_ending_reaches_the_cached_public_pages(event_index, clock):
    """A held place shows as taken; once its offer ends (here, declined and
    nobody else waiting) the public pages must not keep the old count."""
    from core import public_cache

    event = offer_event(event_index)
    ana, _ben = people(event, "Ana", "Ben")
    workflows.cancel(registration=ana)
    offer = PlaceOffer.objects.get()
    key = public_cache.PLACES_GENERATION_KEY
    before = public_cache.generation(key)
    offer.status = PlaceOfferStatus.DECLINED
    offer.save(update_fields=["status"])
    assert public_cache.generation(key) != before


def test_no_offer_is_made_once_the_event_is_over(event_index, clock):
    """A place freed after the last session ended is offered to nobody:
    the person waiting is not asked to answer for a group that is over."""
    event = offer_event(event_index)
    ana, ben = people(event, "Ana", "Ben")
    mail.outbox.clear()
    clock.move_to(MORNING + dt.timedelta(days=8))

    workflows.cancel(registration=ana)

    assert not PlaceOffer.objects.exists()
    assert fresh(ben).status == RegistrationStatus.WAITLISTED
    assert not [m for m in mail.outbox if "ben@example.org" in m.to]
