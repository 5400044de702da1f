"""The Django admin for the site-wide records: centres and who belongs to them."""

from django.contrib import admin
from django.db.models import Count

from .models import Centre


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "is_synthetic", "member_count", "case_count"]
    list_filter = ["country", "is_synthetic"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        # Counted in the list query, not once per row.
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("members", distinct=True), case_count=Count("patients", distinct=True))
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, obj):
        return obj.case_count
