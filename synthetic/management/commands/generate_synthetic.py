"""Fill a synthetic centre with generated cases: `manage.py generate_synthetic --patients N --seed S`.

The logic lives in synthetic.generator; this command only parses, reports counts and the time taken.
"""

from django.core.management.base import BaseCommand, CommandError

from synthetic.generator import DEFAULT_CENTRE, SyntheticError, generate


class Command(BaseCommand):
    help = (
        "Generate N clinically plausible synthetic cases (reproducible for a seed) into a centre marked "
        "synthetic, which is created when missing. A real centre is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, required=True, help="Number of cases to generate.")
        parser.add_argument("--seed", type=int, default=0, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--centre", default=DEFAULT_CENTRE, help=f"Code of the synthetic centre (default {DEFAULT_CENTRE})."
        )
        parser.add_argument("--chunk-size", type=int, default=1000, help="Cases written per batch.")

    def handle(self, *args, patients, seed, centre, chunk_size, **options):
        try:
            result = generate(patients, seed, centre_code=centre, chunk_size=chunk_size)
        except SyntheticError as error:
            raise CommandError(str(error)) from error
        details = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.records.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {result.patients} synthetic cases in centre {result.centre.code} (seed {seed}) "
                f"in {result.seconds:.1f} s: {result.total_records} records ({details})."
            )
        )
