"""Forms of the log-in pages (ours and the admin's) and of the two-factor pages: a six-digit token
from an authenticator app (django-otp TOTP)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
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
