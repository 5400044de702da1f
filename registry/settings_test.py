"""Settings for the test suite: the normal settings with a throw-away key and a fast hasher.

The fast hasher only saves time; tests/test_security.py checks that registry.settings puts Argon2
first. Everything else (lock-out, sessions, two-factor, CSP) is as in production.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files from the app folders (no collectstatic in tests), as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
