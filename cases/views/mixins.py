"""What the case's pages share: finding the case in the URL, audited edits and removing a record."""

from concurrency.exceptions import RecordModifiedError
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property

from ..forms.review import RemovalForm
from ..history import edit_conflict
from ..models import Patient


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
