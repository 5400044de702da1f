"""Protections around log-in and sessions ("Trustworthy records").

Libraries, and why each:

- django-axes counts failed log-ins in the database (AccessAttempt, and every log-in in AccessLog)
  and refuses a user name from an address after 5 failures for 15 minutes: a maintained, audited
  implementation of lock-out that hooks into Django's own authentication, so the admin's log-in
  and ours are both covered (settings: AXES_*).
- django-otp provides TOTP devices (RFC 6238), token verification with replay protection and
  throttling, and request.user.is_verified(); we only add the pages and the rule of when the
  second factor is required (TwoFactorMiddleware, registry/views.py).
- Django itself: Argon2 via argon2-cffi, session expiry, never-cache headers.

This module holds what the libraries do not: the session's idle and 12-hour absolute limits, `no-store` on
every authenticated response, sending users to the second factor, and the security log
(logger "registry.security") of every log-in, log-out and failed log-in.
"""

import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

logger = logging.getLogger("registry.security")

LOGIN_TIME_SESSION_KEY = "registry_login_time"
RENEWED_AT_SESSION_KEY = "registry_renewed_at"

# Views a user who still owes the second factor may reach.
VERIFY_VIEWS = {"two_factor_verify", "logout"}
ENROL_VIEWS = {"two_factor_setup", "logout"}


def client_address(request):
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def client_ip_behind_proxy(request):
    """The client address when the site runs behind REGISTRY_TRUSTED_PROXY_COUNT reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the client
    is the entry that many places from the right; entries further left are whatever the client
    sent and cannot be trusted (otherwise an attacker could pick a new "address" per attempt and
    never be locked out). Used as AXES_CLIENT_IP_CALLABLE by settings_production.
    """
    count = int(getattr(settings, "REGISTRY_TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


# --- The security log --------------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="registry.security.logged_in")
def on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        # Start of the absolute session limit (SessionTimeLimitsMiddleware).
        request.session[LOGIN_TIME_SESSION_KEY] = time.time()
    logger.info("log-in succeeded: user=%s address=%s", user.get_username(), client_address(request))


@receiver(user_logged_out, dispatch_uid="registry.security.logged_out")
def on_logged_out(sender, request, user, **kwargs):
    username = user.get_username() if user is not None else "-"
    logger.info("log-out: user=%s address=%s", username, client_address(request))


@receiver(user_login_failed, dispatch_uid="registry.security.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Only the user name: the password (which Django has already masked) is never logged.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "-"
    logger.warning("log-in failed: user=%s address=%s", username, client_address(request))


# --- Middleware --------------------------------------------------------------------------------


def _is_authenticated(request):
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class NoStoreMiddleware:
    """Nothing shown to a logged-in user is kept by the browser or a proxy cache.

    Clinical records must not be readable from a shared computer's cache after log-out, so every
    response to an authenticated request gets Cache-Control: no-store (and no-cache, private...).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        was_authenticated = _is_authenticated(request)
        response = self.get_response(request)
        if was_authenticated or _is_authenticated(request):
            add_never_cache_headers(response)
        return response


class SessionTimeLimitsMiddleware:
    """The two time limits of a logged-in session: 30 idle minutes, and 12 hours however active.

    Idle time is Django's own expiry (SESSION_COOKIE_AGE from the session's last save). Saving the
    session on every request (SESSION_SAVE_EVERY_REQUEST) would cost a database write per page
    view, measured as the largest share of a case-list request's queries; so the expiry is renewed
    at most once per REGISTRY_SESSION_RENEW_EVERY (a minute): a session then ends between 29 and 30
    minutes after the last request, never later.

    The absolute limit (REGISTRY_SESSION_ABSOLUTE_MAX_AGE) caps a session kept alive by constant
    use, e.g. a stolen cookie or a shared workstation. The log-in time is written by the
    user_logged_in handler above.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_authenticated(request):
            session = request.session
            started = session.get(LOGIN_TIME_SESSION_KEY)
            now = time.time()
            if started is None:
                # A session from before this protection existed: the limit starts now.
                session[LOGIN_TIME_SESSION_KEY] = now
            elif now - started > settings.REGISTRY_SESSION_ABSOLUTE_MAX_AGE.total_seconds():
                username = request.user.get_username()
                logout(request)  # flushes the session on the server
                logger.info("session ended after the absolute limit: user=%s", username)
                return redirect_to_login(request.get_full_path())
            if now - session.get(RENEWED_AT_SESSION_KEY, 0) >= settings.REGISTRY_SESSION_RENEW_EVERY.total_seconds():
                session[RENEWED_AT_SESSION_KEY] = now  # modified: saved, so expiring SESSION_COOKIE_AGE from now
        return self.get_response(request)


def two_factor_state(user):
    """(has a confirmed device, policy requires two-factor) for `user`, in one query."""
    from django_otp import device_classes

    from .models import SecurityPolicy

    annotations = {
        f"has_{model._meta.model_name}": Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))
        for model in device_classes()
    }
    annotations["policy_requires"] = Exists(SecurityPolicy.objects.filter(require_two_factor=True))
    row = get_user_model().objects.filter(pk=user.pk).values(**annotations).first() or {}
    required = bool(row.pop("policy_requires", False))
    return any(row.values()), required


class TwoFactorMiddleware:
    """Hold a logged-in user at the second factor until it is done.

    After the password, a user with a confirmed device (django-otp) must enter a token at
    two_factor_verify before any other page; if the SecurityPolicy requires two-factor, a user
    without a device is sent to two_factor_setup. Only log-out is allowed besides.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not _is_authenticated(request) or request.user.is_verified():
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        has_device, required = two_factor_state(request.user)
        if has_device:
            if view_name in VERIFY_VIEWS:
                return None
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
        if required and view_name not in ENROL_VIEWS:
            return redirect("two_factor_setup")
        return None
