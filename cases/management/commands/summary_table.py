"""Print the paper's Summary Table regenerated from the records (cases.reports.summary.summary_table)."""

import csv

from django.core.management.base import BaseCommand, CommandError

from cases.models import Patient
from cases.reports import safety, summary


class Command(BaseCommand):
    help = "Print the Summary Table (Wong et al. 2021) of the registry's cases as CSV or Markdown."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "md"], default="csv")
        parser.add_argument("--centre", help="Only the cases of this centre code.")
        parser.add_argument(
            "--cohort",
            action="store_true",
            help="Print the cohort's safety rates per 100 patient-years (with exact 95%% CIs) instead.",
        )

    def handle(self, *args, format="csv", centre=None, cohort=False, **options):
        cases = Patient.objects.all()
        if centre:
            cases = cases.filter(centre__code=centre)
            if not cases.exists():
                raise CommandError(f"No case in centre {centre}.")
        if cohort:
            headers, rows = safety.RATE_HEADERS, list(safety.rate_rows(safety.safety_rates(cases)))
        else:
            headers, rows = summary.HEADERS, summary.summary_table_rows(cases)
        if format == "md":
            self.stdout.write(summary.as_markdown(headers, rows), ending="")
        else:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows(rows)
