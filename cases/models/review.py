"""The review workflow: status changes with their electronic signatures, and data queries."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from ..querysets import ClinicalQuerySet
from .common import audit_history
from .patient import Patient


class ReviewAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted for review"
    VERIFIED = "verified", "Verified (signed)"
    UNLOCKED = "unlocked", "Unlocked"


SIGNATURE_MEANING = "I have reviewed this case against its sources and verify that the data are complete and accurate."


class ReviewEvent(models.Model):
    """One step of a case through Draft -> Submitted -> Verified, kept for ever.

    A verification is an electronic signature (as in REDCap and OpenClinica): who signed, when,
    and what the signature means. Unlocking keeps the reason and voids the signature it undoes.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="review_events")
    action = models.CharField(max_length=10, choices=ReviewAction.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    meaning = models.TextField(blank=True, help_text="What a signature attests.")
    reason = models.TextField(blank=True, help_text="Why a case was unlocked.")
    voided_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="voids",
        help_text="The unlock that voided this signature.",
    )

    objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action="unlocked") | ~Q(reason=""),
                name="unlock_has_reason",
                violation_error_message="Give the reason for unlocking.",
            ),
            models.CheckConstraint(
                condition=~Q(action="verified") | ~Q(meaning=""),
                name="signature_has_meaning",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.user} at {self.at:%Y-%m-%d %H:%M}"


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DataQueryQuerySet(ClinicalQuerySet):
    def open(self):
        return self.exclude(status=QueryStatus.CLOSED)

    def addressed_to(self, user):
        return self.filter(Q(addressed_to=user) | Q(addressed_to__isnull=True, patient__created_by=user))


class DataQuery(models.Model):
    """A reviewer's question about a case or one of its records ('ANA titre at baseline?').

    Open and answered queries both block verification: only a reviewer closes a query."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="data_queries")
    record_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The record the query is about; blank for the case as a whole.",
    )
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("record_type", "record_id")
    record_label = models.CharField(max_length=200, blank=True, help_text="The record as it read when asked.")
    question = models.TextField()
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank: the clinician who entered the case.",
    )

    objects = DataQueryQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name_plural = "data queries"
        permissions = [
            ("answer_dataquery", "Can answer a data query"),
            ("close_dataquery", "Can close or re-open a data query"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(record_type__isnull=True, record_id__isnull=True)
                | Q(record_type__isnull=False, record_id__isnull=False),
                name="query_record_type_and_id_together",
            ),
            models.CheckConstraint(condition=~Q(question=""), name="query_has_question"),
        ]

    def __str__(self):
        return f"Query on {self.patient.study_id}: {self.question[:60]}"


class QueryMessageKind(models.TextChoices):
    ANSWER = "answer", "Answer"
    CLOSE = "close", "Closed"
    REOPEN = "reopen", "Re-opened"


class DataQueryMessage(models.Model):
    """The thread of a query: answers, and the reviewer's notes when closing or re-opening."""

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=QueryMessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)

    history = audit_history()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="answer") | ~Q(text=""),
                name="query_answer_has_text",
                violation_error_message="Write an answer.",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.author}"
