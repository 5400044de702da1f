"""Print the paper's Summary Table regenerated from the records (cases.reports.summary.summary_table)."""

import csv

from django.core.management.base import BaseCommand, CommandError

from cases.models import Patient
from cases.reports import summary


class Command(BaseCommand):
    help = "Print the Summary Table (Wong et al. 2021) of the registry's cases as CSV or Markdown."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "md"], default="csv")
        parser.add_argument("--centre", help="Only the cases of this centre code.")

    def handle(self, *args, format="csv", centre=None, **options):
        cases = Patient.objects.all()
        if centre:
            cases = cases.filter(centre__code=centre)
            if not cases.exists():
                raise CommandError(f"No case in centre {centre}.")
        headers, rows = summary.HEADERS, summary.summary_table_rows(cases)
        if format == "md":
            self.stdout.write(summary.as_markdown(headers, rows), ending="")
        else:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows(rows)
