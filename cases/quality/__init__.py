"""What makes a case complete and consistent: the safety-reporting checklist (`checklist`) and the
data-quality rules (`rules`) with the discrepancies they find and their acknowledgements
(`discrepancies`).

Rules kept in their own modules register on import, here, so that RULES always holds them all."""

from . import follow_up, pharmacovigilance, visits  # noqa: F401
