"""The review workflow's pages: submit, verify and unlock a case, and its data queries."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_POST

from .. import workflow
from ..forms.review import AnswerForm, QueryForm, QueryNoteForm, SubmitForm, UnlockForm, VerifyForm
from ..models import DataQuery
from ..quality import discrepancies
from .mixins import CaseMixin


class WorkflowStepView(CaseMixin, View):
    """A POST that moves the case on (submit, verify, unlock), with an optional confirmation form."""

    form_class = None
    template_name = None
    shows_open_discrepancies = False  # the page lists the case's unacknowledged discrepancies
    errors_shown_on_page = (workflow.WorkflowError,)  # others go back to the case page as a message

    def render(self, form, status=200):
        context = {"patient": self.patient, "form": form}
        if self.shows_open_discrepancies:
            context["discrepancies"] = discrepancies.open_discrepancies(self.patient)
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
