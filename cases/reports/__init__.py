"""What the registry reports of its cases: the paper's Summary Table (`summary`), the cohort
numbers (`cohort`) and the SVG figures (`figures`)."""
