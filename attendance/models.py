"""Attendance at sessions, headcounts for anonymous drop-ins, and the
facilitator's session notes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.encryption import EncryptedTextField


class AttendanceStatus(models.TextChoices):
    """How a person attended one session."""

    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    LEFT_EARLY = "left_early", _("Left early")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")

    @classmethod
    def attended(cls):
        """The statuses that count as an attendance."""
        return [cls.PRESENT, cls.LATE, cls.LEFT_EARLY]


class RecordedBy(models.TextChoices):
    """How an attendance record was made."""

    FACILITATOR = "facilitator", _("Facilitator")
    SELF_CHECK_IN = "self_check_in", _("Self check-in")
    IMPORT = "import", _("Import")


class AttendanceRecord(models.Model):
    """One person at one session: a registrant, or a walk-in by name.

    There is at most one record per registrant and session, so saving the
    attendance form twice never duplicates anyone.
    """

    session = models.ForeignKey(
        "events.EventSession", on_delete=models.CASCADE, related_name="attendance"
    )
    registration = models.ForeignKey(
        "events.Registration",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    walk_in_name = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("For people who came without signing up."),
    )
    status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    method = models.CharField(
        max_length=20, choices=RecordedBy.choices, default=RecordedBy.FACILITATOR
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "registration"],
                condition=Q(registration__isnull=False),
                name="one_record_per_registrant_and_session",
            ),
            models.CheckConstraint(
                condition=Q(registration__isnull=False) | ~Q(walk_in_name=""),
                name="record_names_a_registrant_or_walk_in",
            ),
        ]

    def __str__(self):
        # No names: this string ends up in audit logs.
        return f"Attendance record {self.pk}"

    @property
    def is_walk_in(self):
        return self.registration_id is None

    @property
    def attended(self):
        return self.status in AttendanceStatus.attended()


class Headcount(models.Model):
    """Attendance at a headcount-only (anonymous) session: numbers, no names."""

    session = models.OneToOneField(
        "events.EventSession", on_delete=models.CASCADE, related_name="headcount"
    )
    attendees = models.PositiveIntegerField(default=0)
    walk_ins = models.PositiveIntegerField(
        default=0, help_text=_("Of those, how many were new or unexpected.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Headcount {self.session_id}: {self.attendees}"


class SessionTally(models.Model):
    """Stored counts of one session's attendance records, for the reports
    (``attendance.tallies``): what ``attendance.reports`` would otherwise
    count over every record of the range. A session has a row when it has
    at least one record; every change to its records rewrites the row
    (``tallies.refresh``), and ``manage.py rebuild_attendance_tallies``
    rebuilds them all."""

    session = models.OneToOneField(
        "events.EventSession",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="tally",
    )
    #: Records linked to a registration, present, late or left early.
    registrants_attended = models.PositiveIntegerField(default=0)
    #: Records not linked to a registration, present, late or left early.
    walk_ins_attended = models.PositiveIntegerField(default=0)
    #: Records linked to a registration, absent.
    absent = models.PositiveIntegerField(default=0)
    #: Records linked to a registration, excused.
    excused = models.PositiveIntegerField(default=0)
    #: Every record, whatever its status.
    records = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"Tally of session {self.session_id}"


class ParticipantSpan(models.Model):
    """When one registrant first and last attended sessions of an event
    that met at one venue (the session's own, or none: the event's), over
    the sessions that were not cancelled: what the reports' unique
    participants are counted from without reading every attendance record
    (``attendance.tallies``). Someone whose first and last attendances both
    fall outside a date range but on either side of it is looked up in the
    records. The rows of a registrant are rewritten whenever their records
    change or a session they attended moves, changes venue or is cancelled
    (``tallies.refresh``)."""

    registration = models.ForeignKey(
        "events.Registration", on_delete=models.CASCADE, related_name="+"
    )
    event = models.ForeignKey(
        "events.EventPage", on_delete=models.CASCADE, related_name="+"
    )
    #: The sessions' own venue; none for sessions meeting at the event's.
    venue = models.ForeignKey(
        "events.Venue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_start = models.DateTimeField()
    last_start = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["last_start", "first_start", "registration", "event", "venue"],
                name="participant_span_by_dates",
            ),
        ]

    def __str__(self):
        return f"Participant span {self.pk}"


class SessionNote(models.Model):
    """A facilitator's documentation of one session. No clinical notes.

    Its free text may still name people, so it is stored encrypted
    (``core.encryption``); ``needs_follow_up`` stays in clear for listings.
    """

    session = models.OneToOneField(
        "events.EventSession", on_delete=models.CASCADE, related_name="note"
    )
    covered = EncryptedTextField(
        _("what was covered"),
        blank=True,
        help_text=_("Topics and activities, in a few lines."),
    )
    attendance_summary = EncryptedTextField(
        blank=True, help_text=_("Numbers and anything notable about attendance.")
    )
    follow_ups = EncryptedTextField(
        _("follow-ups for the coordinator"),
        blank=True,
        help_text=_(
            "Practical things to act on (a room problem, a request for "
            "information). Do not write clinical notes or details about "
            "anyone's health here."
        ),
    )
    needs_follow_up = models.BooleanField(_("flag for the coordinator"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Note for session {self.session_id}"


# The coordinators' follow-up inbox -----------------------------------------------


class FollowUpKind(models.TextChoices):
    """What brought something to the coordinators' attention."""

    FLAGGED_NOTE = "flagged_note", _("Session note flagged")
    CALL = "call", _("Call waiting")
    FAILED_DELIVERY = "failed_delivery", _("Message not delivered")


#: Delivery statuses that mean a failed message went after all (tried again)
#: or is no longer needed: nothing left to follow up.
SETTLED_DELIVERY = ("sent", "delivered", "not_sent")


def closed_condition() -> Q:
    """When a follow-up is closed: resolved in the inbox, or settled at its
    source (the call made on the call list, the message sent after all, or
    the person's details removed, so there is nobody left to reach)."""
    return (
        Q(resolved_at__isnull=False)
        | Q(call_request__status="done")
        | Q(delivery__status__in=SETTLED_DELIVERY)
        | Q(call_request__registration__anonymised_at__isnull=False)
        | Q(delivery__registration__anonymised_at__isnull=False)
    )


class FollowUpQuerySet(models.QuerySet):
    """Read rules for the inbox, by name."""

    def with_state(self):
        """Annotate ``is_open``: not resolved here nor settled at its source
        (``closed_condition``)."""
        return self.annotate(
            is_open=models.Case(
                models.When(closed_condition(), then=models.Value(False)),
                default=models.Value(True),
                output_field=models.BooleanField(),
            )
        )

    def open(self):
        return self.with_state().filter(is_open=True)

    def for_listing(self):
        """Everything a row of the inbox shows, in one query."""
        return self.with_state().select_related(
            "event",
            "session_note__session",
            "call_request__registration",
            "delivery__registration",
            "assigned_to",
            "acknowledged_by",
            "resolved_by",
        )


class FollowUp(models.Model):
    """Something a coordinator should act on: a facilitator's flagged
    session note, a person only a call can reach, or a message that could
    not be delivered.

    Nothing about the person is stored here: what a row says is read from
    its source (the note, the call request, the delivery) when it is shown,
    so erasing or anonymising the person changes what the inbox says too.
    A call or delivery follow-up goes with its source (``CASCADE``). A call
    closed on the call list, or a message sent after all, shows as resolved
    without anyone resolving it here (``closed_condition``).
    """

    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    event = models.ForeignKey(
        "events.EventPage", on_delete=models.CASCADE, related_name="follow_ups"
    )
    session_note = models.ForeignKey(
        SessionNote,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_up_items",
    )
    call_request = models.OneToOneField(
        "events.CallRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_up",
    )
    delivery = models.OneToOneField(
        "events.Delivery",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_up",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["resolved_at", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session_note"],
                condition=Q(resolved_at__isnull=True, session_note__isnull=False),
                name="one_open_follow_up_per_note",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="flagged_note",
                        session_note__isnull=False,
                        call_request__isnull=True,
                        delivery__isnull=True,
                    )
                    | Q(
                        kind="call",
                        call_request__isnull=False,
                        session_note__isnull=True,
                        delivery__isnull=True,
                    )
                    | Q(
                        kind="failed_delivery",
                        delivery__isnull=False,
                        session_note__isnull=True,
                        call_request__isnull=True,
                    )
                ),
                name="follow_up_has_the_source_of_its_kind",
            ),
        ]

    def __str__(self):
        # No names: audit entries and history screens use this.
        return f"Follow-up {self.pk} ({self.kind})"

    @property
    def registration(self):
        """The person a call or delivery follow-up is about, or None."""
        source = self.call_request or self.delivery
        return source.registration if source else None


class StaffNotificationPreference(models.Model):
    """What a coordinator chose to be emailed about (the inbox screen's
    "Email me when…" form). No row means nothing is emailed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_notifications",
    )
    email_on_flagged_note = models.BooleanField(
        _("a facilitator flags a session note"),
        default=False,
        help_text=_("An email with the event and session date, never the note."),
    )
    daily_digest = models.BooleanField(
        _("once a day, with new sign-ups, cancellations and open follow-ups"),
        default=False,
        help_text=_("Counts per event only; nothing is sent on a quiet day."),
    )
    digest_sent_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("The day the last digest went, so it goes once a day."),
    )

    def __str__(self):
        return f"Notification preferences of user {self.user_id}"
