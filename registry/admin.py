"""The Django admin for the site-wide records: centres and who belongs to them, the security
policy, and the security records of django-axes (log-in attempts) and django-otp (devices)."""

from django.contrib import admin
from django.db.models import Count
from django_countries.filters import CountryFilter

from .models import Centre, SecurityPolicy


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "is_synthetic", "member_count", "case_count"]
    list_filter = [("country", CountryFilter), "is_synthetic"]
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


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(admin.ModelAdmin):
    """The one row of site-wide security switches (require two-factor for every account)."""

    list_display = ["__str__", "require_two_factor"]

    def has_add_permission(self, request):
        # Asked for every model on every admin page (the sidebar): look the row up once per request.
        if not hasattr(request, "_security_policy_exists"):
            request._security_policy_exists = SecurityPolicy.objects.exists()
        if request._security_policy_exists:
            return False
        return super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


# A registry admin unlocks a user by deleting their axes access attempt, and removes the TOTP
# device of someone who lost their phone: the Registry admin role holds those permissions
# (registry.roles.ROLE_PERMISSIONS); axes and django-otp register their own admin pages.
