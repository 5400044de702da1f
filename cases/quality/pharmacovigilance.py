"""The data-quality rule a pharmacovigilance reviewer asks first: is each event's seriousness known?

Seriousness is an explicit answer on each event (serious, not serious or unknown). An event whose
answer is 'unknown', or that has none (recorded before the question was asked), cannot be counted
as serious or as not serious, so the safety summary of the case is incomplete until it is settled.
"""

from ..models import Seriousness
from .rules import rule


@rule(
    "seriousness_unknown",
    "Adverse event of unknown seriousness",
    "An adverse event or flare answers its ICH E2A seriousness 'unknown', or has no answer (recorded "
    "before each event was asked): it counts neither as serious nor as not serious. Find out from the "
    "source, or acknowledge when the source cannot say. Events answered serious or not serious are not "
    "checked here; whether their criteria fit the grade is grade_contradicts_seriousness.",
)
def seriousness_unknown(case):
    for e in case.events:
        if e.seriousness == Seriousness.UNKNOWN:
            yield e, f"'{e.description[:60]}': seriousness unknown"
        elif not e.seriousness:
            yield e, f"'{e.description[:60]}': seriousness not answered"
