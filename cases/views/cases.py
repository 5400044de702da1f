"""The case pages: the dashboard, the case list, the case page, creating, editing and deleting a case,
and its history. Views stay thin: querysets scope and fetch, forms validate, `cases.workflow` decides
what a state and a role allow."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import CreateView, DeleteView, UpdateView
from django_filters.views import FilterView

from .. import case_records, workflow
from ..filters import PatientFilter
from ..forms import PatientForm
from ..history import case_history
from ..models import (
    AdverseEvent,
    DataQuery,
    DataQueryMessage,
    Patient,
    ReviewEvent,
    ReviewStatus,
    VisitDefinition,
)
from ..quality import discrepancies
from ..quality.checklist import checklist, checklists
from ..quality.consent import consent_at_majority_due, consent_basis_missing
from ..reports import figures
from ..reports.follow_up import overdue_by_centre
from ..reports.visits import due_by_centre, followed_cases, schedule
from .mixins import AuditedFormMixin, CaseMixin, RemovalMixin


@login_required
def dashboard(request):
    user = request.user
    cases = Patient.objects.for_case_list(user).with_record_counts()
    my_cases = list(cases.order_by("-id")[:10])
    awaiting_review = list(cases.filter(review_status=ReviewStatus.SUBMITTED).order_by("study_id")[:20])
    # Checklist completeness of the cases shown, in a fixed number of queries.
    completeness = checklists(Patient.objects.filter(pk__in={p.pk for p in my_cases + awaiting_review}))
    for p in my_cases + awaiting_review:
        p.checklist = completeness.get(p.pk)
    majority_due, majority_age_unknown = consent_at_majority_due(Patient.objects.visible_to(user))
    today, followed = timezone.localdate(), followed_cases(Patient.objects.visible_to(user))
    context = {
        "majority_due": majority_due[:20],
        "majority_due_count": len(majority_due),
        "majority_age_unknown": majority_age_unknown,
        "my_cases": my_cases,
        "case_count": cases.count(),
        "awaiting_review": awaiting_review,
        "my_queries": DataQuery.objects.visible_to(user)
        .open()
        .addressed_to(user)
        .select_related("patient")
        .order_by("-raised_at")[:20],
        "overdue_follow_up": overdue_by_centre(followed, today),
        "visits_due": due_by_centre(followed, today),
        "recent_events": AdverseEvent.objects.visible_to(user).select_related("patient").order_by("-id")[:10],
    }
    return render(request, "cases/dashboard.html", context)


class PatientListView(LoginRequiredMixin, FilterView):
    filterset_class = PatientFilter
    template_name = "cases/patient_list.html"
    paginate_by = 25

    def get_queryset(self):
        return (
            Patient.objects.for_case_list(self.request.user).with_record_counts().order_by("study_id", "centre__code")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["querystring"] = query.urlencode()
        # The filter form costs a third of the page to render (each option of each select is a
        # template); it depends only on the query and on the centres offered, so it is cached
        # under exactly those (templates/cases/patient_list.html).
        centres = [(centre.pk, str(centre)) for centre in self.filterset.form.fields["centre"].queryset]
        context["filter_form_key"] = f"{context['querystring']}|{centres}"
        return context


@login_required
def patient_detail(request, patient_pk):
    """The whole case on one page, in a fixed number of queries."""
    patient = get_object_or_404(
        Patient.objects.visible_to(request.user)
        .select_related("centre", "created_by")
        .prefetch_related(
            # The records, as the checklist, data-quality rules and timeline read them.
            *case_records.record_prefetches(),
            "consents",
            Prefetch(
                "data_queries",
                queryset=DataQuery.objects.select_related("raised_by", "addressed_to").prefetch_related(
                    Prefetch("messages", queryset=DataQueryMessage.objects.select_related("author"))
                ),
            ),
            Prefetch("review_events", queryset=ReviewEvent.objects.select_related("user")),
        ),
        pk=patient_pk,
    )
    user = request.user
    records = case_records.CaseRecords(patient)
    found = discrepancies.case_discrepancies(records)
    context = {
        "patient": patient,
        "administrations": records.administrations,
        "signature": workflow.current_signature(patient),
        "can_edit": workflow.can_edit(patient, user),
        "removal_word": "Delete" if patient.is_draft else "Withdraw",
        "can_see_history": user.has_perm("cases.view_history"),
        "can_submit": workflow.can_submit(patient, user),
        "can_verify": workflow.can_verify(patient, user),
        "can_unlock": workflow.can_unlock(patient, user),
        "can_raise_query": user.has_perm("cases.add_dataquery") and not patient.is_locked,
        "can_answer": user.has_perm("cases.answer_dataquery"),
        "can_close": user.has_perm("cases.close_dataquery"),
        "open_queries": [q for q in patient.data_queries.all() if q.status != "closed"],
        "checklist": checklist(records),
        "consent_basis_missing": consent_basis_missing(patient),
        "discrepancies": found,
        "open_discrepancies": [d for d in found if not d.is_acknowledged],
        "timeline": figures.case_timeline(records),
        "follow_up": records,
        "visit_schedule": schedule(records, VisitDefinition.objects.all(), timezone.localdate()),
        "can_acknowledge": user.has_perm("cases.verify_patient"),
    }
    return render(request, "cases/patient_detail.html", context)


class PatientCreateView(LoginRequiredMixin, PermissionRequiredMixin, CreateView):
    model = Patient
    form_class = PatientForm
    permission_required = "cases.add_patient"
    template_name = "cases/patient_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        response = super().form_valid(form)
        messages.success(self.request, f"Case {self.object.study_id} created.")
        return response

    def get_success_url(self):
        return reverse("cases:patient-detail", args=[self.object.pk])


class PatientUpdateView(CaseMixin, AuditedFormMixin, PermissionRequiredMixin, UpdateView):
    form_class = PatientForm
    permission_required = "cases.change_patient"
    template_name = "cases/patient_form.html"

    def get_object(self, queryset=None):
        self.require(workflow.can_edit(self.patient, self.request.user), "This case is verified and locked.")
        return self.patient

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        before = discrepancies.keys_of(self.patient)
        response = super().form_valid(form)
        new = [] if form.errors else discrepancies.new_discrepancies(self.patient, before)
        if new:
            messages.warning(self.request, discrepancies.new_discrepancies_text(new))
        return response

    def get_success_url(self):
        messages.success(self.request, "Case saved.")
        return reverse("cases:patient-detail", args=[self.object.pk])


class PatientDeleteView(CaseMixin, RemovalMixin, PermissionRequiredMixin, DeleteView):
    permission_required = "cases.delete_patient"

    def get_object(self, queryset=None):
        self.require(workflow.can_edit(self.patient, self.request.user), "This case is verified and locked.")
        return self.patient

    def get_success_url(self):
        return reverse("cases:patient-list")


@login_required
@permission_required("cases.view_history", raise_exception=True)
def patient_history(request, patient_pk):
    """Who changed which field from what to what, newest first. Read-only for every role."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    return render(request, "cases/patient_history.html", {"patient": patient, "entries": case_history(patient)})
