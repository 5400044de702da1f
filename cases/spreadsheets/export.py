"""The export of the audit workbook: who may take which variant, and the log of every export.

De-identified by default: no date columns, no free-text (TextField) columns, and every time shown
as the recorded age / offset plus the age and days / months from the first MSC administration
derived by cases.timing. The identifiable variant (dates, free text) is for registry admins only.
django-import-export's own `Resource.export()` builds the whole file in memory and queries per
row; here each sheet is one `.values_list()` query iterated in chunks and written as it goes.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ..models import Consent, ExportFormat, ExportLog, ExportVariant, Patient
from .writers import WRITERS


def can_export_identifiable(user):
    """Identifiable exports (dates, free text) are for registry admins only (their role's permission)."""
    return user.is_active and user.has_perm("cases.export_identifiable")


@dataclass
class ExportOptions:
    user: object
    patients: object = None  # a Patient queryset (already filtered); None = all visible cases
    identifiable: bool = False
    include_free_text: bool = False
    filters: dict = field(default_factory=dict)
    channel: str = "web"

    def __post_init__(self):
        if self.patients is None:
            self.patients = Patient.objects.visible_to(self.user)
        # A case whose consent to sharing was withdrawn stays out of every export from the withdrawal on;
        # its records and audit history stay in the registry. About says how many were left out.
        withdrawn = self.patients.filter(pk__in=Consent.objects.stopping_exports().values("patient_id"))
        self.consent_withdrawn_count = withdrawn.count()
        self.patients = self.patients.exclude(pk__in=withdrawn.values("pk"))

    @property
    def variant(self):
        return ExportVariant.IDENTIFIABLE if self.identifiable else ExportVariant.DEIDENTIFIED


class ExportRefused(PermissionError):
    """An export the user may not take (message for the user)."""


def export_registry(target, fmt, options):
    """Write the export to `target` (a path or a binary file) and log it. Returns the ExportLog."""
    user = options.user
    if not user.has_perm("cases.export_registry"):
        raise ExportRefused("You may not export registry data.")
    if (options.identifiable or options.include_free_text) and not can_export_identifiable(user):
        raise ExportRefused("Only registry admins may export identifiable data (dates or free text).")
    fmt = ExportFormat(fmt)
    if isinstance(target, str | Path) and fmt != ExportFormat.XLSX:
        with open(target, "wb") as f:
            WRITERS[fmt](f, options)
    else:
        WRITERS[fmt](target if not isinstance(target, Path) else str(target), options)
    filters = dict(options.filters)
    if options.include_free_text:
        filters["include_free_text"] = True
    return ExportLog.objects.record(user, options.channel, fmt, options.variant, filters, options.row_counts)
