"""The web side of spreadsheets: export the case list's current filters, and import with a preview.

Between the preview and the confirmation the uploaded file is kept in the session (the database),
never on disk, and only up to SESSION_FILE_LIMIT; a larger file is imported from the command line.
The confirmation imports the very bytes that were previewed (checked by their SHA-256).
"""

import base64
import hashlib
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..filters import PatientFilter
from ..models import ExportFormat, Patient
from ..spreadsheets import (
    CONTENT_TYPES,
    EXTENSIONS,
    IMPORT_ORDER,
    ExportOptions,
    ExportRefused,
    ImportRefused,
    can_export_identifiable,
    export_registry,
    import_file,
    limits,
    read_uploaded_file,
)

SESSION_KEY = "cases_import_upload"
SESSION_FILE_LIMIT = 5 * 1024 * 1024
FILTER_FIELDS = set(PatientFilter.base_filters) - {"ordering"}


@login_required
@permission_required("cases.export_registry", raise_exception=True)
def export(request):
    """Without a format: the choices. With one: the file, from the case list's current filters."""
    filters = {k: v for k, v in request.GET.items() if k in FILTER_FIELDS and v}
    fmt = request.GET.get("format")
    if fmt not in ExportFormat.values:
        context = {
            "filters": filters,
            "querystring": request.GET.urlencode(),
            "formats": ExportFormat.choices,
            "may_identify": can_export_identifiable(request.user),
        }
        return render(request, "cases/export_form.html", context)
    identifiable = request.GET.get("variant") == "identifiable"
    free_text = request.GET.get("include_free_text") in ("1", "on", "true")
    if (identifiable or free_text) and not can_export_identifiable(request.user):
        raise PermissionDenied("Only registry admins may export identifiable data.")
    patients = PatientFilter(request.GET, queryset=Patient.objects.visible_to(request.user), request=request).qs
    options = ExportOptions(
        user=request.user,
        patients=patients,
        identifiable=identifiable,
        include_free_text=free_text,
        filters=filters,
        channel="web",
    )
    # Written to a self-deleting temporary file (constant memory), then streamed.
    target = tempfile.TemporaryFile()
    try:
        export_registry(target, fmt, options)
    except ExportRefused as refusal:
        target.close()
        raise PermissionDenied(str(refusal)) from None
    target.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"msc-registry-{options.variant}-{stamp}.{EXTENSIONS[fmt]}"
    return FileResponse(target, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt])


@login_required
@permission_required("cases.import_registry", raise_exception=True)
def import_upload(request):
    """Upload, then a dry run: the preview of what would change, or every problem."""
    context = {"sheets": IMPORT_ORDER, "limits": limits()}
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        request.session.pop(SESSION_KEY, None)
        try:
            data = read_uploaded_file(upload)
            report = import_file(upload.name, data, request.user, dry_run=True, sheet=request.POST.get("sheet") or None)
        except ImportRefused as refusal:
            context["refusal"] = str(refusal)
            return render(request, "cases/import_form.html", context, status=400)
        context["report"] = report
        if report.ok:
            if len(data) > SESSION_FILE_LIMIT:
                context["too_large_for_web"] = True
            else:
                request.session[SESSION_KEY] = {
                    "name": upload.name,
                    "sheet": request.POST.get("sheet") or "",
                    "data": base64.b64encode(data).decode("ascii"),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
        return render(request, "cases/import_preview.html", context)
    if request.method == "POST":
        context["refusal"] = "Choose a file to upload."
    return render(request, "cases/import_form.html", context)


@require_POST
@login_required
@permission_required("cases.import_registry", raise_exception=True)
def import_confirm(request):
    """Save the previewed file, all rows in one transaction, or nothing."""
    stored = request.session.pop(SESSION_KEY, None)
    if not stored or request.POST.get("sha256") != stored["sha256"]:
        messages.error(request, "Nothing to confirm: upload the file again.")
        return redirect("cases:import")
    data = base64.b64decode(stored["data"])
    try:
        report = import_file(stored["name"], data, request.user, dry_run=False, sheet=stored["sheet"] or None)
    except ImportRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("cases:import")
    if not report.saved:
        return render(request, "cases/import_preview.html", {"report": report}, status=400)
    messages.success(request, f"Imported {stored['name']}: {report.summary()}.")
    return redirect("cases:patient-list")
