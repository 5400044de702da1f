"""Import a spreadsheet: `python manage.py import_registry --file F --user U [--dry-run] [--sheet NAME]`.

All or nothing: every problem is printed as "Sheet, row N, Column: reason", one per line, and the
command exits non-zero without saving anything if there is any.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases.spreadsheets import MAX_BYTES, ImportRefused, import_file


class Command(BaseCommand):
    help = "Import patients, medications, MSC records, adverse events or assessments from XLSX/CSV."

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True)
        parser.add_argument("--user", required=True, help="The importing user: the audit trail names them.")
        parser.add_argument("--dry-run", action="store_true", help="Check and preview; save nothing.")
        parser.add_argument("--sheet", help="For a CSV file: which sheet it holds (e.g. 'MSC administrations').")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get(username=options["user"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user {options['user']!r}.") from None
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ImportRefused(f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
            data = path.read_bytes()
            report = import_file(path.name, data, user, dry_run=options["dry_run"], sheet=options["sheet"])
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except ImportRefused as refusal:
            raise CommandError(str(refusal)) from None
        for problem in report.problems:
            self.stderr.write(problem)
        if report.problems:
            raise CommandError(f"{len(report.problems)} problem(s): nothing was saved.")
        verb = "Saved" if report.saved else "Dry run, nothing saved"
        self.stdout.write(f"{verb}: {report.summary()}.")
