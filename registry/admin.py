"""The Django admin for the site-wide records: accounts, centres and who belongs to them, the
account history, the security policy, and the security records of django-axes (log-in attempts)
and django-otp (devices)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django_countries.filters import CountryFilter
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .accounts.changes import manageable_users, recording_account_changes
from .accounts.forms import AccountChangeForm, AccountCreationForm, AdminLoginForm
from .models import AccountChange, Centre, SecurityPolicy

# Every log-in entry point checks the user name's length before authenticating (registry.accounts.forms).
admin.site.login_form = AdminLoginForm


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "is_synthetic", "member_count", "case_count"]
    list_filter = [("country", CountryFilter), "is_synthetic"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]

    def get_readonly_fields(self, request, obj=None):
        # Membership decides whose accounts a registry admin manages: it is set on the account's
        # page, within the admin's own centres (AccountAdmin); only a superuser edits it here.
        if request.user.is_superuser:
            return []
        return ["members"]

    def changeform_view(self, request, *args, **kwargs):
        with recording_account_changes():
            return super().changeform_view(request, *args, **kwargs)

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


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Accounts. A superuser sees and edits everything, as in Django's UserAdmin. A registry admin
    sees only the accounts of their own centres (registry.accounts.changes.manageable_users), never a
    superuser's (so neither its page nor its password page opens), and edits only the name, e-mail,
    active flag, roles (the three registry roles) and centres (their own): superuser and staff
    status and individual permissions are not in their form, so a crafted POST cannot set them.
    Every change of access is kept in the account history (AccountChange)."""

    form = AccountChangeForm
    add_form = AccountCreationForm
    list_display = ["username", "first_name", "last_name", "email", "is_active", "roles", "centre_codes"]
    list_filter = ["is_active", "groups", "centres", "is_staff", "is_superuser"]
    readonly_fields = ["last_login", "date_joined", "account_history"]

    SUPERUSER_FIELDSETS = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "groups", "centres", "is_staff", "is_superuser", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined", "account_history")}),
    )
    REGISTRY_ADMIN_FIELDSETS = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "groups", "centres")}),
        ("Important dates", {"fields": ("last_login", "date_joined", "account_history")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "usable_password", "password1", "password2")}),
        ("Access", {"fields": ("groups", "centres")}),
    )

    def get_queryset(self, request):
        accounts = super().get_queryset(request).prefetch_related("groups", "centres")
        if request.user.is_superuser:
            return accounts
        return accounts.filter(pk__in=manageable_users(request.user).values("pk"))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return self.SUPERUSER_FIELDSETS if request.user.is_superuser else self.REGISTRY_ADMIN_FIELDSETS

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def _may_touch(self, request, obj):
        return obj is None or request.user.is_superuser or manageable_users(request.user).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_touch(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def changeform_view(self, request, *args, **kwargs):
        with recording_account_changes():
            return super().changeform_view(request, *args, **kwargs)

    @admin.display(description="roles")
    def roles(self, obj):
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    @admin.display(description="centres")
    def centre_codes(self, obj):
        return ", ".join(sorted(c.code for c in obj.centres.all()))

    @admin.display(description="account history")
    def account_history(self, obj):
        if obj is None or obj.pk is None:
            return ""
        url = reverse("admin:registry_accountchange_changelist") + "?" + urlencode({"account__id__exact": obj.pk})
        return format_html('<a href="{}">Changes of roles, centres and status</a>', url)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A history shown in the admin: read by those allowed, never added to, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountChange)
class AccountChangeAdmin(ReadOnlyAdmin):
    """The account history, read-only for everyone: who changed which account's access, when,
    from what to what. A registry admin sees the history of the accounts they manage."""

    list_display = ["at", "account_username", "field", "before", "after", "changed_by_username"]
    list_filter = ["field", "at"]
    search_fields = ["account_username", "changed_by_username"]
    date_hierarchy = "at"
    fields = list_display

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def lookup_allowed(self, lookup, value, request=None):
        # The link from an account's page filters by account.
        return lookup == "account__id__exact" or super().lookup_allowed(lookup, value, request)


# A registry admin unlocks a user by deleting their axes access attempt, and removes the TOTP
# device of someone who lost their phone: the Registry admin role holds those permissions
# (registry.roles.role_permissions()); axes registers its own admin pages. Devices are limited to
# the accounts the registry admin manages: removing a superuser's device would weaken that account.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AccountDeviceAdmin(TOTPDeviceAdmin):
    def get_queryset(self, request):
        devices = super().get_queryset(request)
        if request.user.is_superuser:
            return devices
        return devices.filter(user__in=manageable_users(request.user).values("pk"))
