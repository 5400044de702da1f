"""Protections around log-in and sessions ("Trustworthy records").

Libraries, and why each:

- django-axes counts failed log-ins in the database (AccessAttempt, and every log-in in AccessLog)
  and refuses a user name from an address after 5 failures for 15 minutes: a maintained, audited
  implementation of lock-out that hooks into Django's own authentication, so the admin's log-in
  and ours are both covered (settings: AXES_*). RegistryAxesHandler adds a ceiling per user name
  across addresses.
- django-otp provides TOTP devices (RFC 6238), token verification with replay protection and
  throttling, and request.user.is_verified(); we only add the pages and the rule of when the
  second factor is required (TwoFactorMiddleware, registry/security/two_factor.py).
- Django itself: Argon2 via argon2-cffi, session expiry, never-cache headers.

This module holds what the libraries do not: the session's idle and 12-hour absolute limits, `no-store` on
every authenticated response, sending users to the second factor, and the security log
(logger "registry.security") of every log-in, log-out and failed log-in.
"""

import ipaddress
import logging
import time

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef, Sum
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

logger = logging.getLogger("registry.security")

LOGIN_TIME_SESSION_KEY = "registry_login_time"
RENEWED_AT_SESSION_KEY = "registry_renewed_at"

# Views a user who still owes the second factor may reach.
VERIFY_VIEWS = {"two_factor_verify", "logout"}
ENROL_VIEWS = {"two_factor_setup", "logout"}


def client_address(request):
    """The address django-axes counts (behind a proxy, the client's), for the security log."""
    if request is None:
        return ""
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")


def _is_trusted_proxy(remote_addr):
    """Is the direct peer one of REGISTRY_TRUSTED_PROXIES (addresses or networks)?

    A connection without an IP address (gunicorn on a Unix socket) can only come from this host,
    so it is trusted, as gunicorn itself treats it for X-Forwarded-Proto.
    """
    try:
        peer = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr == ""
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.REGISTRY_TRUSTED_PROXIES)


def client_ip_behind_proxy(request):
    """The client address when the site runs behind REGISTRY_TRUSTED_PROXY_COUNT reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the client
    is the entry that many places from the right; entries further left are whatever the client
    sent and cannot be trusted (otherwise an attacker could pick a new "address" per attempt and
    never be locked out). The header is read only when the request comes from a trusted proxy
    (REGISTRY_TRUSTED_PROXIES): if gunicorn is reached directly, the client is REMOTE_ADDR whatever
    the header claims. Used as AXES_CLIENT_IP_CALLABLE by settings_production.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = int(getattr(settings, "REGISTRY_TRUSTED_PROXY_COUNT", 0) or 0)
    if not count or not _is_trusted_proxy(remote_addr):
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= count:
        return forwarded[-count]
    return remote_addr


class RegistryAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler plus a ceiling per user name across all addresses.

    Locking by (user name, address) means nobody can lock a clinician out from elsewhere, but it
    lets guessing spread over many addresses go on for ever. So a user name also locks, from every
    address, after REGISTRY_USER_NAME_FAILURE_LIMIT failures within REGISTRY_USER_NAME_COOLOFF_TIME
    (OWASP ASVS 2.2.1: anti-automation), a higher count and a shorter time than the per-address
    lock. Attempts refused during a lock are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_
    LOCKOUT off), so a stranger cannot stretch the lock: it lifts a cool-off after the failure that
    set it. The count is the AccessAttempt rows of the user name: deleting them in the admin unlocks.
    """

    def user_name_failures(self, request, credentials=None):
        username = get_client_username(request, credentials)
        if not username:
            return 0
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        recent = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=now - settings.REGISTRY_USER_NAME_COOLOFF_TIME
        )
        return recent.aggregate(failures=Sum("failures_since_start"))["failures"] or 0

    def user_name_locked(self, request, credentials=None):
        return self.user_name_failures(request, credentials) >= settings.REGISTRY_USER_NAME_FAILURE_LIMIT

    def is_locked(self, request, credentials=None):
        return super().is_locked(request, credentials) or self.user_name_locked(request, credentials)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or request.axes_locked_out or not self.user_name_locked(request, credentials):
            return
        username = get_client_username(request, credentials)
        logger.warning("user name locked after failures from several addresses: user=%s", username)
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)


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

    from ..models import SecurityPolicy

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
