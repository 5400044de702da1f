"""Forms of the log-in pages (ours and the admin's), of the two-factor pages (a six-digit token
from an authenticator app, django-otp TOTP), and of accounts in the admin."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth.forms import AdminUserCreationForm, AuthenticationForm, UserChangeForm
from django.core.validators import MaxLengthValidator, RegexValidator


class TokenForm(forms.Form):
    """A six-digit token, checked against one of the user's TOTP devices.

    django-otp's TOTPDevice.verify_token does the checking: it accepts the current time step (with
    one step of clock drift), refuses a token already used (replay) and slows down guessing
    (throttling); this form only asks for the digits.
    """

    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", "Enter the six digits shown by your authenticator app.")],
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"\d{6}", "autofocus": True}
        ),
    )

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = list(devices)
        self.device = None

    def clean_token(self):
        token = self.cleaned_data["token"]
        throttled = False
        for device in self.devices:
            allowed, _ = device.verify_is_allowed()
            throttled = throttled or not allowed
            if device.verify_token(token):
                self.device = device
                return token
        if throttled:
            # django-otp's throttling: each wrong code doubles the wait before the next try.
            raise forms.ValidationError("Too many wrong codes: wait a few seconds, then enter the newest code.")
        raise forms.ValidationError("That code is not right, or has already been used. Wait for the next one.")


class UserNameLengthMixin:
    """Django's AuthenticationForm sets the username's max_length after building the field, so the
    length is never checked and an over-long name reaches authenticate() and django-axes'
    varchar(255) column (a DataError, hence a 500, on PostgreSQL). Check it like any other field:
    a refused field leaves no user name in cleaned_data, so authenticate() is never called."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(UserNameLengthMixin, AuthenticationForm):
    """The log-in form of /accounts/login/."""


class AdminLoginForm(UserNameLengthMixin, AdminAuthenticationForm):
    """The admin's log-in form (staff accounts only), with the same checks (set in registry/admin.py)."""


class AccountAccessMixin:
    """Roles and centres of an account, limited to what the admin who edits it may give.

    `acting_user` is set by the admin (registry.admin.AccountAdmin.get_form). Roles and centres the
    acting user may not give are neither offered nor accepted (a crafted POST gets "not one of the
    available choices"), and those the account already has are kept as they are.
    """

    acting_user = None

    def __init__(self, *args, **kwargs):
        from .changes import assignable_roles, own_centres

        super().__init__(*args, **kwargs)
        self.allowed_roles = assignable_roles(self.acting_user)
        self.allowed_centres = own_centres(self.acting_user)
        if "groups" in self.fields:
            self.fields["groups"].queryset = self.allowed_roles
            self.fields["groups"].label = "Roles"
            self.fields["groups"].help_text = "What the account may do: Clinician, Reviewer or Registry admin."
        if "centres" in self.fields:
            field = self.fields["centres"]
            field.queryset = self.allowed_centres
            # Without a centre of the registry admin's, the account would leave their care.
            field.required = not self.acting_user.is_superuser
            if self.instance.pk:
                field.initial = list(self.instance.centres.values_list("pk", flat=True))

    def _kept(self, current, allowed):
        allowed = set(allowed)
        return [obj for obj in current if obj not in allowed]

    def clean_groups(self):
        chosen = list(self.cleaned_data["groups"])
        if not self.instance.pk:
            return chosen
        return chosen + self._kept(self.instance.groups.all(), self.allowed_roles)

    def clean_centres(self):
        chosen = list(self.cleaned_data["centres"])
        if not self.instance.pk:
            return chosen
        return chosen + self._kept(self.instance.centres.all(), self.allowed_centres)

    def _save_m2m(self):
        super()._save_m2m()
        if "centres" in self.cleaned_data:
            self.instance.centres.set(self.cleaned_data["centres"])


def _centres_field():
    from ..models import Centre

    return forms.ModelMultipleChoiceField(
        queryset=Centre.objects.none(),
        required=False,
        widget=FilteredSelectMultiple("centres", is_stacked=False),
        help_text="Whose cases the account sees.",
    )


class AccountChangeForm(AccountAccessMixin, UserChangeForm):
    centres = _centres_field()


class AccountCreationForm(AccountAccessMixin, AdminUserCreationForm):
    centres = _centres_field()
