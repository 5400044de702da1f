"""The clinician's pages. Views stay thin: querysets scope and fetch, forms validate,
`cases.workflow` decides what a state and a role allow."""

from concurrency.exceptions import RecordModifiedError
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Prefetch, ProtectedError, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DeleteView, UpdateView
from django_filters.views import FilterView

from .. import case_records, figures, quality, workflow
from ..checklist import checklist, checklists
from ..filters import PatientFilter
from ..forms import PatientForm
from ..forms.review import (
    AnswerForm,
    QueryForm,
    QueryNoteForm,
    RemovalForm,
    RestoreForm,
    SubmitForm,
    UnlockForm,
    VerifyForm,
)
from ..history import case_history, edit_conflict
from ..kinds import CASE_MODELS
from ..models import (
    AdverseEvent,
    DataQuery,
    DataQueryMessage,
    MscAdministration,
    Patient,
    ReviewEvent,
    ReviewStatus,
)


def case_list_queryset(user):
    """The cases a user may see, as the list and the dashboard show them."""
    return Patient.objects.visible_to(user).select_related("centre")


def records_per_case(records, patient_path):
    """The number of a case's records in `records` (a queryset), as a subquery on the case."""
    per_case = records.filter(**{patient_path: OuterRef("pk")}).order_by().values(patient_path)
    return Coalesce(Subquery(per_case.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def with_record_counts(cases):
    """Each case with its (not withdrawn) administrations, adverse events and open data queries.

    Subqueries in the SELECT list, which PostgreSQL evaluates after the sort and the LIMIT, for the
    page's 25 rows only; sorting by a count computes it for every matching case, still less than a
    Count() over joins, which groups by every column of the case. This needs current planner statistics: on tables it
    believed empty, PostgreSQL ran such subqueries by sequential scan (see docs/deploy.md)."""
    return cases.annotate(
        administration_count=records_per_case(MscAdministration.objects.all(), "product__patient"),
        event_count=records_per_case(AdverseEvent.objects.all(), "patient"),
        open_query_count=records_per_case(DataQuery.objects.exclude(status="closed"), "patient"),
    )


@login_required
def dashboard(request):
    user = request.user
    cases = with_record_counts(case_list_queryset(user))
    my_cases = list(cases.order_by("-id")[:10])
    awaiting_review = list(cases.filter(review_status=ReviewStatus.SUBMITTED).order_by("study_id")[:20])
    # Checklist completeness of the cases shown, in a fixed number of queries.
    completeness = checklists(Patient.objects.filter(pk__in={p.pk for p in my_cases + awaiting_review}))
    for p in my_cases + awaiting_review:
        p.checklist = completeness.get(p.pk)
    context = {
        "my_cases": my_cases,
        "case_count": cases.count(),
        "awaiting_review": awaiting_review,
        "my_queries": DataQuery.objects.visible_to(user)
        .open()
        .addressed_to(user)
        .select_related("patient")
        .order_by("-raised_at")[:20],
        "recent_events": AdverseEvent.objects.visible_to(user).select_related("patient").order_by("-id")[:10],
    }
    return render(request, "cases/dashboard.html", context)


class PatientListView(LoginRequiredMixin, FilterView):
    filterset_class = PatientFilter
    template_name = "cases/patient_list.html"
    paginate_by = 25

    def get_queryset(self):
        return with_record_counts(case_list_queryset(self.request.user)).order_by("study_id", "centre__code")

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


class CaseMixin(LoginRequiredMixin):
    """Finds the case named in the URL among the cases the user may see (404 otherwise)."""

    patient_url_kwarg = "patient_pk"

    @cached_property
    def patient(self):
        return get_object_or_404(
            Patient.objects.visible_to(self.request.user).select_related("centre"),
            pk=self.kwargs[self.patient_url_kwarg],
        )

    def dispatch(self, request, *args, **kwargs):
        # Another centre's case is a 404 before any permission check, so its existence never shows.
        if request.user.is_authenticated:
            self.patient  # noqa: B018
        return super().dispatch(request, *args, **kwargs)

    def require(self, allowed, message):
        if not allowed:
            raise PermissionDenied(message)

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)


@login_required
def patient_detail(request, patient_pk):
    """The whole case on one page, in a fixed number of queries."""
    patient = get_object_or_404(
        Patient.objects.visible_to(request.user)
        .select_related("centre", "created_by")
        .prefetch_related(
            # The records, as the checklist, data-quality rules and timeline read them.
            *case_records.record_prefetches(),
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
    discrepancies = quality.case_discrepancies(patient)
    context = {
        "patient": patient,
        "administrations": case_records.administrations(patient),
        "signature": workflow.current_signature(patient),
        "can_edit": workflow.can_edit(patient, user),
        "can_delete": workflow.can_remove_records(patient, user),
        "removal_word": "Delete" if patient.is_draft else "Withdraw",
        "can_see_history": user.has_perm("cases.view_history"),
        "can_submit": workflow.can_submit(patient, user),
        "can_verify": workflow.can_verify(patient, user),
        "can_unlock": workflow.can_unlock(patient, user),
        "can_raise_query": user.has_perm("cases.add_dataquery") and not patient.is_locked,
        "can_answer": user.has_perm("cases.answer_dataquery"),
        "can_close": user.has_perm("cases.close_dataquery"),
        "open_queries": [q for q in patient.data_queries.all() if q.status != "closed"],
        "checklist": checklist(patient),
        "discrepancies": discrepancies,
        "open_discrepancies": [d for d in discrepancies if not d.is_acknowledged],
        "timeline": figures.case_timeline(patient),
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


class AuditedFormMixin:
    """Edits of a submitted case ask for a reason; a save from a stale copy is refused, not merged."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "require_reason": not self.patient.is_draft}

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except RecordModifiedError:  # saved by someone else between clean() and save()
            form.add_error(None, edit_conflict(form.instance, form.cleaned_data["version"]))
            return self.form_invalid(form)


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
        before = quality.keys_of(self.patient)
        response = super().form_valid(form)
        if not form.errors:
            quality.report_new(self.request, self.patient, before)
        return response

    def get_success_url(self):
        messages.success(self.request, "Case saved.")
        return reverse("cases:patient-detail", args=[self.object.pk])


class RemovalMixin:
    """Deleting: a draft's record is deleted; once the case is submitted it is withdrawn instead,
    with a reason, and stays in the database for the audit (an admin can restore it)."""

    form_class = RemovalForm
    template_name = "cases/record_confirm_delete.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "withdrawal": not self.patient.is_draft}

    def form_valid(self, form):
        label = self.object._meta.verbose_name.capitalize()
        if self.patient.is_draft:
            try:
                self.object.delete()
            except ProtectedError:
                messages.error(self.request, f"{label} is still referred to by other records; change those first.")
                return HttpResponseRedirect(reverse("cases:patient-detail", args=[self.patient.pk]))
            messages.success(self.request, f"{label} deleted.")
        else:
            self.object.withdraw(self.request.user, form.cleaned_data["reason"])
            messages.success(self.request, f"{label} withdrawn; a registry admin can restore it.")
        return HttpResponseRedirect(self.get_success_url())


class PatientDeleteView(CaseMixin, RemovalMixin, PermissionRequiredMixin, DeleteView):
    permission_required = "cases.delete_patient"

    def get_object(self, queryset=None):
        self.require(workflow.can_remove_records(self.patient, self.request.user), "This case is verified and locked.")
        return self.patient

    def get_success_url(self):
        return reverse("cases:patient-list")


class RecordMixin(CaseMixin):
    kind = None  # a RecordKind, set in urls.py

    def get_permission_required(self):
        return [f"cases.{self.permission_action}_{self.kind.model._meta.model_name}"]

    def get_queryset(self):
        return self.kind.records_of(self.patient, self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(kind=self.kind, **kwargs)

    def get_success_url(self):
        return reverse("cases:patient-detail", args=[self.patient.pk]) + f"#{self.kind.slug}"


class RecordFormMixin(AuditedFormMixin, RecordMixin):
    """Create and update: the kind's form, limited to the case's own records."""

    template_name = "cases/record_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require(workflow.can_edit(self.patient, request.user), "This case is verified and locked.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return self.kind.form_class

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient, "user": self.request.user}

    def form_valid(self, form):
        before = quality.keys_of(self.patient)
        response = super().form_valid(form)
        if form.errors:  # an edit conflict
            return response
        messages.success(self.request, f"{self.kind.label.capitalize()} saved.")
        quality.report_new(self.request, self.patient, before)
        return response


class RecordCreateView(RecordFormMixin, PermissionRequiredMixin, CreateView):
    permission_action = "add"


class RecordUpdateView(RecordFormMixin, PermissionRequiredMixin, UpdateView):
    permission_action = "change"
    pk_url_kwarg = "record_pk"


class RecordDeleteView(RecordMixin, RemovalMixin, PermissionRequiredMixin, DeleteView):
    permission_action = "delete"
    pk_url_kwarg = "record_pk"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require(workflow.can_remove_records(self.patient, request.user), "This case is verified and locked.")
        return super().dispatch(request, *args, **kwargs)


class WorkflowStepView(CaseMixin, View):
    """A POST that moves the case on (submit, verify, unlock), with an optional confirmation form."""

    form_class = None
    template_name = None
    shows_open_discrepancies = False  # the page lists the case's unacknowledged discrepancies
    errors_shown_on_page = (workflow.WorkflowError,)  # others go back to the case page as a message

    def render(self, form, status=200):
        context = {"patient": self.patient, "form": form}
        if self.shows_open_discrepancies:
            context["discrepancies"] = quality.open_discrepancies(self.patient)
            context["can_acknowledge"] = self.request.user.has_perm("cases.verify_patient")
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, patient_pk):
        return self.render(self.form_class())

    def post(self, request, patient_pk):
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            return self.render(form, status=400)
        try:
            self.step(form.cleaned_data if form else {})
        except workflow.WorkflowError as error:
            if form is None or not isinstance(error, self.errors_shown_on_page):
                messages.error(request, str(error))
                return HttpResponseRedirect(reverse("cases:patient-detail", args=[self.patient.pk]))
            form.add_error(None, str(error))
            return self.render(form, status=400)
        messages.success(request, self.success_message)
        return HttpResponseRedirect(reverse("cases:patient-detail", args=[self.patient.pk]))


class SubmitView(WorkflowStepView, PermissionRequiredMixin):
    """Submitting is one button on the case page; this page answers when the case has open
    data-quality discrepancies that the person submitting has not confirmed."""

    permission_required = "cases.submit_patient"
    form_class = SubmitForm
    template_name = "cases/submit.html"
    success_message = "Case submitted for review."
    shows_open_discrepancies = True
    errors_shown_on_page = (workflow.UnconfirmedDiscrepancies,)

    def step(self, data):
        workflow.submit(
            self.patient, self.request.user, open_discrepancies_confirmed=data["open_discrepancies_confirmed"]
        )


class VerifyView(WorkflowStepView, PermissionRequiredMixin):
    permission_required = "cases.verify_patient"
    form_class = VerifyForm
    template_name = "cases/verify.html"
    success_message = "Case verified and signed."
    shows_open_discrepancies = True

    def step(self, data):
        workflow.verify(self.patient, self.request.user, data["password"])


class UnlockView(WorkflowStepView, PermissionRequiredMixin):
    permission_required = "cases.unlock_patient"
    form_class = UnlockForm
    template_name = "cases/unlock.html"
    success_message = "Case unlocked; the signature is void."

    def step(self, data):
        workflow.unlock(self.patient, self.request.user, data["reason"])


class QueryCreateView(CaseMixin, PermissionRequiredMixin, View):
    permission_required = "cases.add_dataquery"

    def get(self, request, patient_pk):
        return self.render(QueryForm(patient=self.patient, initial={"record": request.GET.get("record", "")}))

    def post(self, request, patient_pk):
        form = QueryForm(request.POST, patient=self.patient)
        if form.is_valid():
            try:
                workflow.raise_query(
                    self.patient, request.user, form.cleaned_data["question"], record=form.cleaned_data["record"]
                )
            except workflow.WorkflowError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Data query raised.")
                return HttpResponseRedirect(reverse("cases:patient-detail", args=[self.patient.pk]) + "#queries")
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(self.request, "cases/query_form.html", {"patient": self.patient, "form": form}, status=status)


QUERY_ACTION_PERMISSION = {
    "answer": "cases.answer_dataquery",
    "close": "cases.close_dataquery",
    "reopen": "cases.close_dataquery",
}


@login_required
@require_POST
def query_action(request, patient_pk, query_pk, action):
    """Answer, close or re-open a data query."""
    query = get_object_or_404(
        DataQuery.objects.visible_to(request.user).select_related("patient"), pk=query_pk, patient_id=patient_pk
    )
    if not request.user.has_perm(QUERY_ACTION_PERMISSION[action]):
        raise PermissionDenied("Your role cannot do this to a data query.")
    form_class = AnswerForm if action == "answer" else QueryNoteForm
    form = form_class(request.POST)
    steps = {"answer": workflow.answer_query, "close": workflow.close_query, "reopen": workflow.reopen_query}
    try:
        if not form.is_valid():
            raise workflow.WorkflowError(" ".join(e for errors in form.errors.values() for e in errors))
        steps[action](query, request.user, form.cleaned_data["text"])
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, {"answer": "Answer sent.", "close": "Query closed.", "reopen": "Query re-opened."}[action]
        )
    return HttpResponseRedirect(reverse("cases:patient-detail", args=[patient_pk]) + "#queries")


@login_required
@permission_required("cases.view_history", raise_exception=True)
def patient_history(request, patient_pk):
    """Who changed which field from what to what, newest first. Read-only for every role."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    return render(request, "cases/patient_history.html", {"patient": patient, "entries": case_history(patient)})


@login_required
@permission_required("cases.restore_withdrawn", raise_exception=True)
def withdrawn_list(request):
    """Withdrawn cases and records, for registry admins, who may restore them."""
    groups = []
    for model in CASE_MODELS:
        records = model.all_objects.filter(withdrawn_at__isnull=False).select_related("withdrawn_by")
        if case_path := records.case_path:
            records = records.select_related(case_path)
        groups.append((model._meta, list(records.order_by("-withdrawn_at"))))
    return render(request, "cases/withdrawn_list.html", {"groups": groups})


@login_required
@permission_required("cases.restore_withdrawn", raise_exception=True)
def withdrawn_restore(request, model_name, pk):
    model = next((m for m in CASE_MODELS if m._meta.model_name == model_name), None)
    if model is None:
        raise Http404("No such kind of record.")
    record = get_object_or_404(model.all_objects.filter(withdrawn_at__isnull=False), pk=pk)
    form = RestoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record.restore(request.user, form.cleaned_data["reason"])
        messages.success(request, f"{model._meta.verbose_name.capitalize()} restored.")
        return redirect("cases:withdrawn-list")
    return render(request, "cases/withdrawn_restore.html", {"record": record, "form": form})
