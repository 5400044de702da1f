"""Pages of the safety-reporting checklist and of the data-quality rules."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from .. import workflow
from ..case_records import CaseRecords, with_records
from ..forms.quality import AcknowledgementForm, ChecklistStatementForm
from ..models import ChecklistItem, ChecklistStatement, DiscrepancyAcknowledgement, Patient
from ..quality import discrepancies
from ..quality.checklist import checklist
from ..quality.rules import RULES


def visible_case(user, patient_pk):
    return get_object_or_404(with_records(Patient.objects.visible_to(user)), pk=patient_pk)


@login_required
def checklist_statement(request, patient_pk):
    """Record an explicit 'none' or 'unknown' for one checklist item of a case."""
    patient = visible_case(request.user, patient_pk)
    if not workflow.can_edit(patient, request.user):
        raise PermissionDenied("This case is verified and locked, or your role cannot edit it.")
    item = request.POST.get("item") or request.GET.get("item") or ""
    existing = ChecklistStatement.objects.filter(patient=patient, item=item).first() if item else None
    initial = {"item": item} if item in ChecklistItem.values else {}
    form = ChecklistStatementForm(request.POST or None, instance=existing, initial=initial)
    if request.method == "POST" and form.is_valid():
        statement = form.save(commit=False)
        statement.patient, statement.stated_by = patient, request.user
        with transaction.atomic():
            statement.save()
        messages.success(request, f"Checklist: '{statement}' recorded.")
        return HttpResponseRedirect(reverse("cases:patient-detail", args=[patient.pk]) + "#checklist")
    result = checklist(CaseRecords(patient))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "cases/checklist_statement.html",
        {"patient": patient, "form": form, "checklist": result, "item": initial.get("item")},
        status=status,
    )


@login_required
def case_data_quality(request, patient_pk):
    """Every discrepancy of one case, computed now, with its explanation and a link to the record."""
    patient = visible_case(request.user, patient_pk)
    context = {
        "patient": patient,
        "discrepancies": discrepancies.case_discrepancies(CaseRecords(patient)),
        "rules": RULES,
        "can_acknowledge": request.user.has_perm("cases.verify_patient"),
    }
    return render(request, "cases/data_quality.html", context)


@login_required
@permission_required("cases.verify_patient", raise_exception=True)
def data_quality_all(request):
    """The reviewer's worklist: every discrepancy of every case they may see."""
    results = discrepancies.run(Patient.objects.visible_to(request.user).order_by("centre__code", "study_id"))
    rows = [d for found in results.values() for d in found]
    show_all = request.GET.get("show") == "all"
    context = {
        "discrepancies": rows if show_all else [d for d in rows if not d.is_acknowledged],
        "open_count": sum(not d.is_acknowledged for d in rows),
        "total": len(rows),
        "show_all": show_all,
        "case_count": len(results),
    }
    return render(request, "cases/data_quality_all.html", context)


@login_required
def acknowledge(request, patient_pk):
    """A reviewer accepts a discrepancy with a reason (audited by simple-history)."""
    patient = visible_case(request.user, patient_pk)
    if not request.user.has_perm("cases.verify_patient"):
        raise PermissionDenied("Only a reviewer can acknowledge a discrepancy.")
    source = request.POST if request.method == "POST" else request.GET
    rule_code, key = source.get("rule", ""), source.get("record", "")
    discrepancy = next(
        (
            d
            for d in discrepancies.case_discrepancies(CaseRecords(patient))
            if d.rule.code == rule_code and d.record_key == key
        ),
        None,
    )
    if discrepancy is None:
        raise Http404("No such discrepancy in this case (it may have been corrected).")
    existing = discrepancy.acknowledgement
    form = AcknowledgementForm(
        request.POST or None,
        initial={"rule": rule_code, "record": key, "reason": existing.reason if existing else ""},
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            ack = existing or DiscrepancyAcknowledgement(patient=patient, rule=rule_code, record_key=key)
            ack.reason, ack.acknowledged_by = form.cleaned_data["reason"], request.user
            ack._change_reason = f"Acknowledged by {request.user.get_username()}"
            ack.save()
        messages.success(request, "Discrepancy acknowledged.")
        return HttpResponseRedirect(reverse("cases:case-data-quality", args=[patient.pk]))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "cases/acknowledge.html",
        {"patient": patient, "form": form, "discrepancy": discrepancy},
        status=status,
    )
