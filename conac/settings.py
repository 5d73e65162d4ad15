"""Settings for the CONAC registry, driven by the environment (django-environ).

With no environment at all the project runs on its embedded default: SQLite in
the project folder, Celery tasks run eagerly in-process, email and SMS written
to files under ``var/``.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "conac",
    "review",
    "registry",
    "billing",
    "badges",
    "rdap",
]

MIDDLEWARE = [
    # Public hot path first: URL转发 hosts are answered from process memory, before the
    # session, authentication and the staff site; other unknown hosts get a bare 404.
    "registry.dns.forwarding.HostRoutingMiddleware",
    # The badge script, image and 标识证书 page, also from process memory (badges/hotpath/).
    "badges.hotpath.middleware.BadgePublicMiddleware",
    # RDAP (/rdap/…), also from process memory (rdap/hotpath.py).
    "rdap.hotpath.RdapMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "conac.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Keeps the idle timeout without an UPDATE of django_session on every view (conac/sessions.py).
    "conac.sessions.RefreshSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the second sign-in step (双重验证) was passed in this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "conac.access.AccessRuleMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "conac.urls"
WSGI_APPLICATION = "conac.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "conac.access.menu",
            ],
            # |yuan, |ymd, |ymd_hm on every template without a {% load %}: one way to write money and dates.
            "builtins": ["conac.templatetags.formats"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections are kept between requests in production (a new one costs about 8 ms of CPU per
# page) and checked before reuse; DATABASE_POOL=True uses psycopg's pool instead (PostgreSQL).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0 if DEBUG else 600))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if env.bool("DATABASE_POOL", default=False) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared cache: Redis in production (the forwarding table's version is read from it, so every
# web process sees a change within a second); process memory on the embedded default.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Rate limits (login, 新用户注册, 获取验证码): in that cache when it is shared (CACHE_URL), else the database.
RATELIMIT_BACKEND = env.str("RATELIMIT_BACKEND", default="cache" if env.str("CACHE_URL", default="") else "database")

AUTH_USER_MODEL = "registry.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading the user's office and unit with the user (registry/organisations/backends.py).
    "registry.organisations.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "registry.organisations.validators.ManualPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions expire after a working stretch of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=2 * 60 * 60)
# Inactivity, not login time, counts: RefreshSessionMiddleware renews the expiry at most once
# every SESSION_REFRESH_SECONDS, instead of saving the session on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Read from the shared cache when there is one (written to the database as well): no query for
# the session on each page view. Per-process memory would let one process read a session another
# has changed, so without CACHE_URL the database alone holds them.
SESSION_ENGINE = env.str(
    "SESSION_ENGINE",
    default="django.contrib.sessions.backends.cached_db"
    if env.str("CACHE_URL", default="")
    else "django.contrib.sessions.backends.db",
)

# Repeated failed logins lock the account (username) for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# The account from one address: a stranger elsewhere cannot lock 编办 staff out by name.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "conac.views.locked_out"
# One address failing this often across accounts is held off for the same cool-off time.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# 双重验证 (TOTP + recovery codes) for office and CONAC staff and administrators: enrolled staff
# are always asked for a code; with this on, staff who have not enrolled must enrol first.
# Wrong codes count like failed passwords (AXES_FAILURE_LIMIT per AXES_COOLOFF_HOURS).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
# The name the authenticator app shows; short, so the QR code stays coarse enough to scan easily.
OTP_TOTP_ISSUER = "CONAC"
# The admin never shows a device's secret or recovery codes; it can only remove (reset) them.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SILENCED_SYSTEM_CHECKS = []

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # 申请函 / 申请表 PDFs: never under a public URL; served by a view that checks who asks.
    "documents": {
        "BACKEND": env.str("DOCUMENTS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": env.str("DOCUMENTS_ROOT", default=str(BASE_DIR / "var" / "documents"))},
    },
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# Development serves static files from the app folders; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email and SMS -----------------------------------------------------------
VAR_DIR = BASE_DIR / "var"
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="政务和公益机构域名注册管理中心 <noreply@conac.cn>")

SMS_BACKEND = env.str("SMS_BACKEND", default="conac.sms.FileBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_SECRET = env.str("SMS_GATEWAY_SECRET", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
# conac.notices skips the recipients this function names (a 联系人邮箱 not yet confirmed).
NOTICE_UNVERIFIED_RECIPIENTS = "registry.organisations.verification.unverified_recipients"

# --- 新用户注册: the 联系人手机's 验证码, the 联系人邮箱's link, limits per client address ---
REGISTRATION_CODE_TTL = env.int("REGISTRATION_CODE_TTL", default=300)  # seconds a 验证码 is valid
REGISTRATION_CODE_MAX_TRIES = env.int("REGISTRATION_CODE_MAX_TRIES", default=5)  # wrong entries, then void
REGISTRATION_CODE_RESEND_SECONDS = env.int("REGISTRATION_CODE_RESEND_SECONDS", default=60)  # per number
REGISTRATION_CODE_DAILY_PER_MOBILE = env.int("REGISTRATION_CODE_DAILY_PER_MOBILE", default=10)
REGISTRATION_CODE_DAILY_PER_ADDRESS = env.int("REGISTRATION_CODE_DAILY_PER_ADDRESS", default=20)
# 新用户注册 submissions from one client address per window (seconds); more get a 429 page.
REGISTRATION_POSTS_PER_ADDRESS = env.int("REGISTRATION_POSTS_PER_ADDRESS", default=30)
REGISTRATION_POSTS_WINDOW = env.int("REGISTRATION_POSTS_WINDOW", default=3600)
REGISTRATION_EMAIL_CONFIRM_DAYS = env.int("REGISTRATION_EMAIL_CONFIRM_DAYS", default=3)

# --- Celery --------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL:
    # Embedded default: no broker, every task runs in-process at once.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
else:
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    # The daily jobs shortly after midnight, China time (activation, renewals, expiry, reminders).
    "daily-jobs": {"task": "billing.tasks.run_daily_jobs", "schedule": crontab(hour=0, minute=30)},
    # Notices left 待发送 (e.g. the broker was down when their change committed).
    "resend-queued-notices": {"task": "conac.tasks.resend_queued_notices", "schedule": 600.0},
    # Finished windows of the database rate-limit counter.
    "remove-expired-rate-counters": {"task": "conac.tasks.remove_expired_rate_counters", "schedule": crontab(hour=3)},
    # Zones left dirty (a failed check, a lost trigger) are published again.
    "publish-dirty-zones": {"task": "registry.tasks.publish_zones", "schedule": 60.0},
    # 已发放 badges past their 挂标期限 become 逾期未挂标 (after the daily jobs, China time).
    "mark-overdue-badges": {"task": "badges.tasks.mark_overdue_badges", "schedule": crontab(hour=0, minute=45)},
    # The hang check: each run queues the badges that are due (see BADGE_CHECK_INTERVAL_HOURS).
    "check-due-badges": {"task": "badges.tasks.check_due_badges", "schedule": 3600.0},
    # 导出Excel files past EXPORT_KEEP_HOURS are deleted, file and job.
    "remove-expired-exports": {"task": "conac.tasks.remove_expired_exports", "schedule": 900.0},
}

# --- 导出Excel (conac/exports.py) -------------------------------------------------------
# Exports larger than one page are written by a task; the file is kept this long for its owner
# (in the "documents" storage, never under a public URL), then removed by the beat job above.
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
# The job's progress is saved every this many rows; the page polls it every this many seconds.
EXPORT_PROGRESS_EVERY = env.int("EXPORT_PROGRESS_EVERY", default=10_000)
EXPORT_POLL_SECONDS = env.int("EXPORT_POLL_SECONDS", default=1)

# The top-level domains this registry runs (their A-labels are computed with IDNA 2008).
DOMAIN_SUFFIXES = env.list("DOMAIN_SUFFIXES", default=[".政务", ".公益"])

# The yearly fee used when CONAC has not entered a fee schedule for a suffix.
DEFAULT_FEE_PER_YEAR = env.str("DEFAULT_FEE_PER_YEAR", default="200.00")


# --- DNS: records, zones, URL forwarding ---------------------------------------------
def _nameservers(entries):
    """``name=addr|addr`` entries → [(A-label name, [addresses])]."""
    import idna

    out = []
    for entry in entries:
        name, _, addresses = entry.partition("=")
        name = idna.encode(name.strip().rstrip("."), uts46=True).decode("ascii")
        out.append((name, [a.strip() for a in addresses.split("|") if a.strip()]))
    return out


DNS_TTL_MIN = env.int("DNS_TTL_MIN", default=600)
DNS_TTL_MAX = env.int("DNS_TTL_MAX", default=86400)
DNS_MAX_RECORDS_PER_DOMAIN = env.int("DNS_MAX_RECORDS_PER_DOMAIN", default=100)
# A delegation is published once this many NS records at @ are effective.
DNS_MIN_DELEGATION_NS = env.int("DNS_MIN_DELEGATION_NS", default=2)
# Days a domain past its 到期时间 stays in the zone (and keeps forwarding) before it drops out.
DNS_EXPIRY_GRACE_DAYS = env.int("DNS_EXPIRY_GRACE_DAYS", default=30)
# Where zone files are written; the name server reads them from here.
DNS_ZONE_DIR = env.str("DNS_ZONE_DIR", default=str(VAR_DIR / "zones"))
# The registry's name servers (NS of each zone); addresses are published when a name lies in the zone.
DNS_NAMESERVERS = _nameservers(env.list("DNS_NAMESERVERS", default=["ns1.conac.cn", "ns2.conac.cn"]))
DNS_SOA = {
    "rname": env.str("DNS_SOA_RNAME", default="hostmaster.conac.cn"),
    "ttl": env.int("DNS_SOA_TTL", default=3600),
    "refresh": env.int("DNS_SOA_REFRESH", default=1800),
    "retry": env.int("DNS_SOA_RETRY", default=600),
    "expire": env.int("DNS_SOA_EXPIRE", default=1209600),
    "minimum": env.int("DNS_SOA_MINIMUM", default=600),
}
# The addresses of the URL转发 service (this application's public addresses): URL转发 hosts get A/AAAA to them.
DNS_FORWARDING_ADDRESSES = env.list("DNS_FORWARDING_ADDRESSES", default=[])
# nsd-checkzone (found on PATH when empty), nsd-control and the NSD configuration it uses
# (``manage.py nsd_config`` writes that configuration and prints the values to set here).
DNS_CHECKZONE = env.str("DNS_CHECKZONE", default="")
# The dnspython parse of each new zone: "auto" = when nsd-checkzone is not installed (it takes
# ~52 s per 1,000,000 records against nsd-checkzone's 0.9 s), or "always".
DNS_PARSE_CHECK = env.str("DNS_PARSE_CHECK", default="auto")
DNS_NSD_CONTROL = env.str("DNS_NSD_CONTROL", default="")
DNS_NSD_CONFIG = env.str("DNS_NSD_CONFIG", default="")
# Secondaries (NSD, Knot, BIND, PowerDNS…) allowed to transfer the zones and notified of changes.
DNS_SECONDARIES = env.list("DNS_SECONDARIES", default=[])
# Approvals within this many seconds are published together.
DNS_PUBLISH_DELAY = env.float("DNS_PUBLISH_DELAY", default=5.0)
# Besides CONAC's staff accounts, who is told when a zone fails its check.
DNS_ALERT_EMAILS = env.list("DNS_ALERT_EMAILS", default=[])
# The staff site answers only on these host names; other hosts are URL转发 (or a bare 404).
SITE_HOSTS = env.list("SITE_HOSTS", default=ALLOWED_HOSTS)
# How often (seconds) a web process checks the shared forwarding-table version.
FORWARDING_CHECK_INTERVAL = env.float("FORWARDING_CHECK_INTERVAL", default=1.0)

# --- Badges (网站标识) -----------------------------------------------------------
# Where the public badge scripts and certificate pages are served (the snippet's https URL).
BADGE_BASE_URL = env.str("BADGE_BASE_URL", default="https://bszs.conac.cn")
# Each badge's data script as a file the front server (nginx) serves directly; "" switches it off.
BADGE_PUBLIC_DIR = env.str("BADGE_PUBLIC_DIR", default=str(VAR_DIR / "badges-public"))
# How often (seconds) a web process checks the shared version of its public badge table.
BADGE_PUBLIC_CHECK_INTERVAL = env.float("BADGE_PUBLIC_CHECK_INTERVAL", default=1.0)
# 挂标检查: 已发放/逾期未挂标 badges are fetched every this many hours, 已挂标 ones every this many days.
BADGE_CHECK_INTERVAL_HOURS = env.float("BADGE_CHECK_INTERVAL_HOURS", default=4.0)
BADGE_RECHECK_DAYS = env.float("BADGE_RECHECK_DAYS", default=7.0)
# The fetcher's caps: bytes read per page (the rest is cut), seconds to connect, seconds in all.
HANG_CHECK_MAX_BYTES = env.int("HANG_CHECK_MAX_BYTES", default=2 * 1024 * 1024)
HANG_CHECK_CONNECT_TIMEOUT = env.float("HANG_CHECK_CONNECT_TIMEOUT", default=5.0)
HANG_CHECK_TIMEOUT = env.float("HANG_CHECK_TIMEOUT", default=15.0)
# CA bundle for the sites' HTTPS certificates (empty: certifi's).
HANG_CHECK_CA_BUNDLE = env.str("HANG_CHECK_CA_BUNDLE", default="")
# Networks the fetcher may reach although they are private (the tests' 127.0.0.1/32). Keep empty
# in production: the unit types the address, and private ones would let it probe our network.
HANG_CHECK_ALLOWED_NETWORKS = env.list("HANG_CHECK_ALLOWED_NETWORKS", default=[])

# --- RDAP and 域名信息查询 (rdap/) ----------------------------------------------------
# The base URL published in the IANA RDAP bootstrap file for both TLDs; self links use it. Its host,
# when it is not one of SITE_HOSTS, answers /rdap/… only.
RDAP_BASE_URL = env.str("RDAP_BASE_URL", default="https://rdap.conac.cn/rdap/")
# How often (seconds) a web process checks the versions of its RDAP answers; the oldest an answer may get.
RDAP_CHECK_INTERVAL = env.float("RDAP_CHECK_INTERVAL", default=1.0)
RDAP_MAX_ENTRY_AGE = env.float("RDAP_MAX_ENTRY_AGE", default=300.0)
# Cache-Control max-age (seconds) of lookups and errors sent to clients.
RDAP_HTTP_MAX_AGE = env.int("RDAP_HTTP_MAX_AGE", default=60)
# Per client address: searches, lookups that reach the database and 域名信息查询 queries per window (seconds).
RDAP_RATE_LIMIT = env.int("RDAP_RATE_LIMIT", default=60)
RDAP_RATE_WINDOW = env.int("RDAP_RATE_WINDOW", default=60)
RDAP_SEARCH_PAGE_SIZE = env.int("RDAP_SEARCH_PAGE_SIZE", default=20)
RDAP_SEARCH_MAX_RESULTS = env.int("RDAP_SEARCH_MAX_RESULTS", default=100)
# Where inaccurate registration data and abuse are reported (a role address, never a person's).
RDAP_REPORT_EMAIL = env.str("RDAP_REPORT_EMAIL", default="rdap@conac.cn")
RDAP_ABUSE_PHONE = env.str("RDAP_ABUSE_PHONE", default="")

# --- Security (production values come from the environment) ---------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# The regions loaded by ``manage.py load_regions``.
REGIONS_FILE = BASE_DIR / "registry" / "data" / "gbt2260-divisions-2024.txt"
