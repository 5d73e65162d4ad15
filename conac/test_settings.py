"""Settings for the test suite: the real settings, made fast and quiet."""

from .settings import *  # noqa: F401,F403
from .settings import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "conac.sms.LocmemBackend"
# Tasks run in-process in tests; the real worker that tests/conac/test_celery_worker.py
# starts with these settings sets CELERY_TASK_ALWAYS_EAGER=False in its environment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
AXES_FAILURE_LIMIT = 5
STAFF_2FA_REQUIRED = False  # whatever a local .env says; tests that need it turn it on
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# No front-server badge files from the tests (the tests that check them set their own folder).
BADGE_PUBLIC_DIR = ""
# The tests count in the (per-test, cleared) cache; tests/conac/test_ratelimit.py covers the database.
RATELIMIT_BACKEND = "cache"
