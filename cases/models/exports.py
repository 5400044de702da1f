"""The log of every export: who took which data out of the registry, when, and how much."""

from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel workbook"
    CSV = "csv", "CSV files (zipped)"
    JSON = "json", "JSON"


class ExportVariant(models.TextChoices):
    DEIDENTIFIED = "deidentified", "De-identified"
    IDENTIFIABLE = "identifiable", "Identifiable (registry admins only)"


class ExportLogQuerySet(models.QuerySet):
    def record(self, user, channel, fmt, variant, filters, row_counts):
        """Log an export as it leaves the registry, whichever way it was taken (web, admin or command line)."""
        return self.create(
            user=user, channel=channel, format=fmt, variant=variant, filters=filters, row_counts=row_counts
        )


class ExportLog(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=16, help_text="web, admin or command line")
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    variant = models.CharField(max_length=16, choices=ExportVariant.choices, default=ExportVariant.DEIDENTIFIED)
    filters = models.JSONField(default=dict, blank=True)
    row_counts = models.JSONField(default=dict, blank=True, help_text="Rows per sheet.")

    objects = ExportLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.get_format_display()} export by {self.user} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def total_rows(self):
        return sum(self.row_counts.values())
