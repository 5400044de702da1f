"""The Django admin for the clinical records: a whole case reviewable on its patient's page.

Administrations hang off products, so they are an inline of the product page (and have their own
list); everything else that belongs to a case is an inline of the patient page.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django_countries.filters import CountryFilter
from import_export.admin import ExportActionMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, JSON, XLSX
from simple_history.admin import SimpleHistoryAdmin

from registry.admin import ReadOnlyAdmin

from .models import (
    AdverseEvent,
    Assessment,
    DataQuery,
    DataQueryMessage,
    ExportLog,
    ExportVariant,
    FundingSource,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    ReviewEvent,
    VisitDefinition,
)
from .spreadsheets import can_export_identifiable, resource_class

# ---- Audited records ------------------------------------------------------------------------------


class SpreadsheetAdmin(ImportExportMixin, ExportActionMixin):
    """Export with the registry's resources (readable headers, labels, natural keys), logged, for
    identifiable-export users only (the admin's export carries dates and free text); import goes
    to the registry's import page, which previews, refuses formula cells and saves all or nothing."""

    formats = [XLSX, CSV, JSON]

    def get_resource_classes(self, request):
        return [resource_class(self.model)]

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {"user": request.user}

    def has_export_permission(self, request):
        return request.user.has_perm("cases.export_registry") and can_export_identifiable(request.user)

    def has_import_permission(self, request):
        return request.user.has_perm("cases.import_registry")

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return redirect("cases:import")

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        fmt = {"xlsx": "xlsx", "csv": "csv", "json": "json"}.get(file_format.get_extension(), "csv")
        ExportLog.objects.record(
            request.user,
            "admin",
            fmt,
            ExportVariant.IDENTIFIABLE,
            filters={"model": self.model._meta.label, "records": queryset.count()},
            row_counts={resource_class(self.model).sheet.name: queryset.count()},
        )
        return data


class ClinicalAdmin(SimpleHistoryAdmin):
    """An audited record in the admin: its history is readable (never revertible, see
    SIMPLE_HISTORY_REVERT_DISABLED), withdrawn records are shown, and only a draft's records can be
    deleted; a submitted record is withdrawn from the application instead."""

    def get_queryset(self, request):
        manager = getattr(self.model, "all_objects", None)
        if manager is None:
            return super().get_queryset(request)
        queryset = manager.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # SIMPLE_HISTORY_REVERT_DISABLED only hides the button; a POST would still revert.
        if request.method == "POST":
            raise PermissionDenied("The audit history is read-only: reverting is disabled.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a queryset delete bypasses the per-record rules
        return actions

    def has_delete_permission(self, request, obj=None):
        case = getattr(obj, "case", None)
        if case is not None and not case.is_draft:
            return False
        return super().has_delete_permission(request, obj)


class DraftOnlyDeleteInline:
    """Inline rows of a submitted case cannot be deleted from the admin either."""

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.case.is_draft:
            return False
        return super().has_delete_permission(request, obj)


# ---- Inlines -------------------------------------------------------------------------------------


class PreviousDiagnosisInline(DraftOnlyDeleteInline, admin.TabularInline):
    model = PreviousDiagnosis
    extra = 0
    fields = ["diagnosis", "diagnosis_detail", "age_years", "date", "timing_precision", "note"]


class MedicationCourseInline(DraftOnlyDeleteInline, admin.StackedInline):
    model = MedicationCourse
    extra = 0
    classes = ["collapse"]


class MscProductInline(DraftOnlyDeleteInline, admin.StackedInline):
    model = MscProduct
    extra = 0
    classes = ["collapse"]
    autocomplete_fields = ["provider"]
    show_change_link = True  # administrations are edited on the product's page


class AdverseEventInline(DraftOnlyDeleteInline, admin.StackedInline):
    model = AdverseEvent
    extra = 0
    classes = ["collapse"]
    autocomplete_fields = ["administration", "preceding_withdrawals"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("preceding_withdrawals")


class AssessmentInline(DraftOnlyDeleteInline, admin.StackedInline):
    model = Assessment
    extra = 0
    classes = ["collapse"]


class ReviewEventInline(admin.TabularInline):
    """The signatures and status changes of a case, shown and never edited here."""

    model = ReviewEvent
    fk_name = "patient"
    extra = 0
    fields = ["action", "user", "at", "meaning", "reason", "voided_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DataQueryMessageInline(admin.TabularInline):
    model = DataQueryMessage
    extra = 0
    autocomplete_fields = ["author"]


class MscAdministrationInline(DraftOnlyDeleteInline, admin.StackedInline):
    model = MscAdministration
    extra = 0
    classes = ["collapse"]
    readonly_fields = ["computed_dose_millions_per_kg"]


# ---- Cases ---------------------------------------------------------------------------------------


@admin.register(Patient)
class PatientAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = [
        "study_id",
        "centre",
        "diagnosis",
        "sex",
        "age_at_onset_years",
        "msc_decision",
        "review_status",
        "abstracted_from",
    ]
    list_filter = [
        "centre",
        "review_status",
        "diagnosis",
        "sex",
        "msc_decision",
        "paid_out_of_pocket",
        "abstracted_from",
    ]
    search_fields = ["study_id", "centre__code"]
    list_select_related = ["centre"]
    autocomplete_fields = ["centre", "created_by"]
    filter_horizontal = ["funding_sources"]
    # Status changes go through the review workflow, which records who signed and why.
    readonly_fields = ["review_status"]
    inlines = [
        PreviousDiagnosisInline,
        MedicationCourseInline,
        MscProductInline,
        AdverseEventInline,
        AssessmentInline,
        ReviewEventInline,
    ]


@admin.register(PreviousDiagnosis)
class PreviousDiagnosisAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = ["__str__", "patient", "age_years", "date", "timing_precision"]
    list_filter = ["diagnosis", "patient__centre"]
    search_fields = ["patient__study_id", "diagnosis_detail"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient"]


@admin.register(MedicationCourse)
class MedicationCourseAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = [
        "__str__",
        "patient",
        "drug_class",
        "relation_to_msc",
        "start_age_years",
        "stop_age_years",
        "is_ongoing",
        "reason_stopped",
        "stop_decided_by",
        "team_knew_before_stop",
        "team_learned_after_stop",
    ]
    list_filter = [
        "drug_class",
        "relation_to_msc",
        "is_ongoing",
        "reason_stopped",
        "stop_decided_by",
        "patient__centre",
    ]
    search_fields = ["patient__study_id", "drug", "drug_detail"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient"]


@admin.register(MscProvider)
class MscProviderAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = ["name", "country", "kind", "created_by"]
    list_filter = ["kind", ("country", CountryFilter)]
    search_fields = ["name"]
    readonly_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs, request):
        """A provider named only in the history of products (deleted, or given another provider) is
        kept too: the delete page lists those products as what protects it (MscProvider.delete)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        live = set(MscProduct.all_objects.filter(provider__in=objs).values_list("pk", flat=True))
        for provider in objs:
            for row in provider.products_in_history():
                if row.id not in live:
                    protected.append(f"MSC product: {row.label} (#{row.id}), which names it in its audit history")
        return deleted, counts, perms_needed, protected


@admin.register(MscProduct)
class MscProductAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = ["label", "patient", "tissue_source", "donor_type", "provider", "regulatory_status"]
    list_filter = ["tissue_source", "donor_type", "storage", "regulatory_status", "patient__centre"]
    search_fields = ["patient__study_id", "label", "provider__name"]
    list_select_related = ["patient", "provider"]
    autocomplete_fields = ["patient", "provider"]
    inlines = [MscAdministrationInline]


@admin.register(MscAdministration)
class MscAdministrationAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = [
        "__str__",
        "study_id",
        "product",
        "route",
        "cells_millions",
        "weight_kg",
        "computed_dose_millions_per_kg",
        "reported_dose_millions_per_kg",
        "dose_disagrees",
        "cost_amount",
        "cost_currency",
    ]
    list_filter = ["route", "paid_by", "team_informed_before", "product__patient__centre"]
    search_fields = ["product__patient__study_id", "clinic_name", "product__label"]
    list_select_related = ["product__patient"]
    autocomplete_fields = ["product"]
    readonly_fields = ["computed_dose_millions_per_kg"]

    @admin.display(description="study ID", ordering="product__patient__study_id")
    def study_id(self, obj):
        return obj.product.patient.study_id

    @admin.display(description="dose disagrees (>10 %)", boolean=True)
    def dose_disagrees(self, obj):
        return obj.dose_disagrees


@admin.register(AdverseEvent)
class AdverseEventAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = [
        "description",
        "patient",
        "category",
        "ctcae_grade",
        "serious",
        "attribution",
        "attributed_by",
        "outcome",
        "reported_by",
    ]
    list_filter = ["category", "ctcae_grade", "attribution", "attributed_by", "outcome", "patient__centre"]
    search_fields = ["patient__study_id", "description"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient", "administration", "preceding_withdrawals"]

    @admin.display(description="serious", boolean=True)
    def serious(self, obj):
        return obj.is_serious


@admin.register(Assessment)
class AssessmentAdmin(SpreadsheetAdmin, ClinicalAdmin):
    list_display = [
        "__str__",
        "patient",
        "timepoint",
        "age_years",
        "days_from_first_msc",
        "patient_global",
        "physician_global",
        "sledai2k",
        "jadas",
    ]
    list_filter = ["timepoint", "patient__centre"]
    search_fields = ["patient__study_id"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient"]


# ---- Review ------------------------------------------------------------------------------------


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyAdmin, ClinicalAdmin):
    """The audit trail of signatures: readable, never edited or deleted from the admin."""

    list_display = ["patient", "action", "user", "at"]
    list_filter = ["action", "patient__centre"]
    search_fields = ["patient__study_id", "user__username"]
    list_select_related = ["patient", "user"]
    date_hierarchy = "at"


@admin.register(DataQuery)
class DataQueryAdmin(ClinicalAdmin):
    list_display = ["__str__", "patient", "record_label", "status", "raised_by", "raised_at", "addressed_to"]
    list_filter = ["status", "patient__centre"]
    search_fields = ["patient__study_id", "question", "record_label"]
    list_select_related = ["patient", "raised_by", "addressed_to"]
    autocomplete_fields = ["patient", "raised_by", "addressed_to"]
    inlines = [DataQueryMessageInline]


@admin.register(FundingSource)
class FundingSourceAdmin(admin.ModelAdmin):
    """A seeded vocabulary (migration 0002): labels may be reworded, codes never change or go."""

    list_display = ["label", "code"]
    search_fields = ["label"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VisitDefinition)
class VisitDefinitionAdmin(admin.ModelAdmin):
    """The follow-up schedule, kept by registry admins; a definition with visits recorded cannot go."""

    list_display = ["order", "code", "label", "target_months", "window_before_days", "window_after_days"]
    list_display_links = ["code"]
