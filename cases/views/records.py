"""A case's records: adding, editing and removing one of any kind (`cases.kinds`), and the withdrawn
records a registry admin may restore."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.generic import CreateView, DeleteView, UpdateView

from .. import workflow
from ..forms.review import RestoreForm
from ..kinds import CASE_MODELS
from ..quality import discrepancies
from .mixins import AuditedFormMixin, CaseMixin, RemovalMixin


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
        before = discrepancies.keys_of(self.patient)
        response = super().form_valid(form)
        if form.errors:  # an edit conflict
            return response
        messages.success(self.request, f"{self.kind.label.capitalize()} saved.")
        new = discrepancies.new_discrepancies(self.patient, before)
        if new:
            messages.warning(self.request, discrepancies.new_discrepancies_text(new))
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
            self.require(workflow.can_edit(self.patient, request.user), "This case is verified and locked.")
        return super().dispatch(request, *args, **kwargs)


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
