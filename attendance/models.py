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
