"""Run every data-quality rule over every case and print the discrepancies, one per line.

Exits with status 1 while any discrepancy is unacknowledged, so CI or a cron job can alert.
"""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Patient
from cases.quality import discrepancies


class Command(BaseCommand):
    help = "Print every data-quality discrepancy ('STUDY-ID  rule  record  message  [acknowledged: reason]')."

    def add_arguments(self, parser):
        parser.add_argument("--centre", help="Only the cases of this centre code.")

    def handle(self, *args, centre=None, **options):
        cases = Patient.objects.order_by("centre__code", "study_id")
        if centre:
            cases = cases.filter(centre__code=centre)
        open_count = total = 0
        for found in discrepancies.run(cases).values():
            for d in found:
                total += 1
                open_count += not d.is_acknowledged
                self.stdout.write(d.line())
        self.stderr.write(f"{total} discrepancies, {open_count} unacknowledged.")
        if open_count:
            raise CommandError(f"{open_count} unacknowledged data-quality discrepancies.", returncode=1)
