"""The review workflow's rules: who may move a case from Draft to Submitted to Verified, who may
edit it in each state, and how data queries open and close.

Views call these functions and show `WorkflowError` messages as they are; the rules live here once.
"""

from django.db import transaction

from .models import (
    SIGNATURE_MEANING,
    DataQuery,
    DataQueryMessage,
    QueryMessageKind,
    QueryStatus,
    ReviewAction,
    ReviewEvent,
    ReviewStatus,
)
from .quality import discrepancies
from .quality.checklist import missing_for_submission
from .quality.consent import consent_basis_missing


class WorkflowError(Exception):
    """A step the case's state or the user's role does not allow; the message is for the user."""


class UnconfirmedDiscrepancies(WorkflowError):
    """Submitting a case with open data-quality discrepancies that the user has not confirmed."""


def can_edit(patient, user):
    """Whether the user may change the case and add, edit or remove its records. Verified cases are
    locked for everyone until a registry admin unlocks them. Removing a draft's record deletes it; a
    submitted case's records are withdrawn instead (kept for the audit)."""
    return not patient.is_locked and user.has_perm("cases.change_patient")


def can_submit(patient, user):
    return patient.review_status == ReviewStatus.DRAFT and user.has_perm("cases.submit_patient")


def can_verify(patient, user):
    return patient.review_status == ReviewStatus.SUBMITTED and user.has_perm("cases.verify_patient")


def can_unlock(patient, user):
    return patient.review_status == ReviewStatus.VERIFIED and user.has_perm("cases.unlock_patient")


def _set_status(patient, status):
    patient.review_status = status
    patient.save(update_fields=["review_status"])


@transaction.atomic
def submit(patient, user, open_discrepancies_confirmed=False):
    """Send a draft for review. A case may go with open data-quality discrepancies (the reviewer
    settles them), but only when the person submitting has seen them and says so. It may not go without a
    consent basis (cases.models.consent): the registry holds no case without one."""
    if not can_submit(patient, user):
        raise WorkflowError("Only a draft case can be submitted for review.")
    missing = missing_for_submission(patient)
    if missing:
        raise WorkflowError("The safety-reporting checklist is not complete. Still missing: " + " | ".join(missing))
    no_basis = consent_basis_missing(patient)
    if no_basis:
        raise WorkflowError(no_basis)
    open_discrepancies = discrepancies.open_discrepancies(patient)
    if open_discrepancies and not open_discrepancies_confirmed:
        raise UnconfirmedDiscrepancies(
            f"The case has {discrepancies.count_text(open_discrepancies)} not yet acknowledged. Correct them, or "
            "confirm that you submit the case with them."
        )
    _set_status(patient, ReviewStatus.SUBMITTED)
    return ReviewEvent.objects.create(patient=patient, action=ReviewAction.SUBMITTED, user=user)


@transaction.atomic
def verify(patient, user, password):
    """Sign the case: the reviewer re-enters their password, as an electronic signature requires.

    A signature says the case was checked against its sources, so every data-quality discrepancy
    must first be corrected or acknowledged with a reason."""
    if not user.has_perm("cases.verify_patient"):
        raise WorkflowError("Only a reviewer can verify a case.")
    if patient.review_status != ReviewStatus.SUBMITTED:
        raise WorkflowError("Only a submitted case can be verified.")
    if not user.check_password(password or ""):
        raise WorkflowError("The password is not correct; the case was not verified.")
    if patient.data_queries.open().exists():
        raise WorkflowError("Close every data query before verifying the case.")
    open_discrepancies = discrepancies.open_discrepancies(patient)
    if open_discrepancies:
        raise WorkflowError(
            f"The case has {discrepancies.count_text(open_discrepancies)} not yet acknowledged. Correct each record, "
            "or acknowledge the discrepancy with a reason, before verifying the case."
        )
    _set_status(patient, ReviewStatus.VERIFIED)
    return ReviewEvent.objects.create(
        patient=patient, action=ReviewAction.VERIFIED, user=user, meaning=SIGNATURE_MEANING
    )


@transaction.atomic
def unlock(patient, user, reason):
    if not can_unlock(patient, user):
        raise WorkflowError("Only a registry admin can unlock a verified case.")
    if not (reason or "").strip():
        raise WorkflowError("Give the reason for unlocking.")
    signature = current_signature(patient)
    _set_status(patient, ReviewStatus.SUBMITTED)
    event = ReviewEvent.objects.create(patient=patient, action=ReviewAction.UNLOCKED, user=user, reason=reason)
    if signature is not None:
        signature.voided_by = event
        signature.save(update_fields=["voided_by"])
    return event


def current_signature(patient):
    """The verification in force: the newest one that no unlock has voided.

    Reads `patient.review_events`, so a page that prefetched them (with their users) asks nothing more."""
    return next(
        (e for e in patient.review_events.all() if e.action == ReviewAction.VERIFIED and not e.voided_by_id), None
    )


@transaction.atomic
def raise_query(patient, user, question, record=None, addressed_to=None):
    if not user.has_perm("cases.add_dataquery"):
        raise WorkflowError("Only a reviewer can raise a data query.")
    if patient.is_locked:
        raise WorkflowError("The case is verified; unlock it before raising a query.")
    query = DataQuery(patient=patient, question=question, raised_by=user, addressed_to=addressed_to)
    if record is not None:
        query.record = record
        query.record_label = str(record)[:200]
    query.save()
    return query


@transaction.atomic
def answer_query(query, user, text):
    if not user.has_perm("cases.answer_dataquery"):
        raise WorkflowError("You cannot answer data queries.")
    if query.status == QueryStatus.CLOSED:
        raise WorkflowError("This query is closed.")
    if not (text or "").strip():
        raise WorkflowError("Write an answer.")
    DataQueryMessage.objects.create(query=query, kind=QueryMessageKind.ANSWER, author=user, text=text)
    query.status = QueryStatus.ANSWERED
    query.save(update_fields=["status"])


@transaction.atomic
def close_query(query, user, note=""):
    if not user.has_perm("cases.close_dataquery"):
        raise WorkflowError("Only a reviewer can close a data query.")
    if query.status == QueryStatus.CLOSED:
        raise WorkflowError("This query is already closed.")
    DataQueryMessage.objects.create(query=query, kind=QueryMessageKind.CLOSE, author=user, text=note)
    query.status = QueryStatus.CLOSED
    query.save(update_fields=["status"])


@transaction.atomic
def reopen_query(query, user, note=""):
    if not user.has_perm("cases.close_dataquery"):
        raise WorkflowError("Only a reviewer can re-open a data query.")
    if query.status != QueryStatus.CLOSED:
        raise WorkflowError("Only a closed query can be re-opened.")
    if query.patient.is_locked:
        raise WorkflowError("The case is verified; unlock it before re-opening a query.")
    DataQueryMessage.objects.create(query=query, kind=QueryMessageKind.REOPEN, author=user, text=note)
    query.status = QueryStatus.OPEN
    query.save(update_fields=["status"])
