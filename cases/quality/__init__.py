"""What makes a case complete and consistent: the safety-reporting checklist (`checklist`) and the
data-quality rules (`rules`) with the discrepancies they find and their acknowledgements
(`discrepancies`)."""
