"""Export the registry: `python manage.py export_registry --output FILE.xlsx [--centre CODE]
[--format xlsx|csv|json] [--identifiable] [--include-free-text] [--user USERNAME]`.

De-identified by default; the identifiable variant and free text need --user to be a registry admin.
Every export is logged (ExportLog, channel "cli").
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases.models import ExportFormat, Patient
from cases.spreadsheets import ExportOptions, ExportRefused, export_registry


class Command(BaseCommand):
    help = "Export the registry as an audit workbook (XLSX), zipped CSV files or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="File to write.")
        parser.add_argument("--format", choices=[f.value for f in ExportFormat], help="Default: from the file name.")
        parser.add_argument("--centre", action="append", default=[], help="Centre code (repeatable).")
        parser.add_argument("--identifiable", action="store_true", help="Dates included (registry admins only).")
        parser.add_argument("--include-free-text", action="store_true", help="Free text (registry admins only).")
        parser.add_argument("--user", required=True, help="Who exports: their rights and centres apply.")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get(username=options["user"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user {options['user']!r}.") from None
        output = options["output"]
        fmt = options["format"] or {"zip": "csv", "csv": "csv", "json": "json"}.get(output.rsplit(".", 1)[-1], "xlsx")
        patients = Patient.objects.visible_to(user)
        filters = {}
        if options["centre"]:
            patients = patients.filter(centre__code__in=options["centre"])
            filters["centre"] = options["centre"]
        export_options = ExportOptions(
            user=user,
            patients=patients,
            identifiable=options["identifiable"],
            include_free_text=options["include_free_text"],
            filters=filters,
            channel="cli",
        )
        try:
            log = export_registry(output, fmt, export_options)
        except ExportRefused as refusal:
            raise CommandError(str(refusal)) from None
        counts = ", ".join(f"{name} {count}" for name, count in log.row_counts.items())
        self.stdout.write(f"Wrote {output} ({log.get_variant_display()}, {fmt}): {counts}.")
