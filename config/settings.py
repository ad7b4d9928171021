"""Settings, read from the environment (12-factor).

With nothing set beyond DEBUG=1 the app runs on an embedded default: a SQLite file next to manage.py and
Celery tasks executed in-process. With DATABASE_URL and REDIS_URL it uses PostgreSQL and real workers.
See README.md ("Configuration") for every variable.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Outside DEBUG it must be set: left empty, Django refuses every use of it, `check --deploy` says what to
# set, and the web server and workers refuse to start (core/checks.py). Commands about the schema
# alone (makemigrations --check) need no secret.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Personal data keys -----------------------------------------------------------------------------
# Field encryption (AES-256-GCM) keys as "id:base64", newest first; old ids stay to decrypt old rows.
# The blind-index key makes ID and account numbers findable by exact match without storing them in clear.
# The audit key seals the hash chain of the audit trail. In DEBUG and tests they are derived from
# SECRET_KEY; production refuses to start without them (core/checks.py).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
# The platform's own key for finding one pupil in two districts (audits/crossdistrict): a keyed hash
# of the ID number kept only in a platform table no district's session reads. Separate from the
# blind-index key, so that nothing a district holds (its rows, its blind indexes) gives these values.
PLATFORM_MATCH_KEY = env.str("PLATFORM_MATCH_KEY", default="")
# Where the signed checkpoints of the audit chains go (audits/checkpoints.py): the anchor outside the
# database that finds rows deleted from a chain's end. The default suits development only; in
# production it must be storage the database server and its superuser cannot write or delete in
# (another host's mount, a WORM/object-locked bucket), writable by the Celery worker.
AUDIT_CHECKPOINT_DIR = Path(env.str("AUDIT_CHECKPOINT_DIR", default=str(BASE_DIR / "var" / "audit-checkpoints")))

# --- Applications -----------------------------------------------------------------------------------
INSTALLED_APPS = [
    "config.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens, stored as digests (core.tokens)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "import_export",  # admin sheets of schools, classes, programs and standards (schools.resources)
    "django_celery_beat",  # beat's schedule and its last runs in the database, not one host's file
    "axes",  # failed sign-ins counted per account and per address; lockout (schools.door)
    "django_otp",  # the second factor (schools.door): TOTP devices and one-time recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",  # Content-Security-Policy without unsafe-inline
    # Ours, in import order: each app may import the ones before it, and none after it (.importlinter).
    # `core` is the kernel floor under them all; `demo` drives every app's services to seed the demo.
    "core",
    "schools",
    "students",
    "funding",
    "disbursements",
    "care",
    "audits",
    "oversight",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor passed
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # answers a locked-out sign-in with the lockout page
    "config.middleware.MenuCountsMiddleware",  # a POST forgets the side menu's counts kept for its user
    # Last: knows the user (session or API token), sets the tenant and actor for the request and runs
    # the view in one transaction with the tenant set in the database (row-level security).
    "core.tenancy.middleware.TenantMiddleware",
    # Inside the tenant's transaction (it reads the user's roles): idle and absolute session limits, the
    # second factor and a due password change before any page of the tenant; Permissions-Policy.
    "schools.door.middleware.DoorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "schools.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.i18n",
                "config.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
# DATABASE_URL is the connection the app uses. On PostgreSQL that is the app role, which neither owns
# the tables nor bypasses row-level security; migrations run as the owner (DATABASE_URL set to the
# owner's URL for `migrate`, see the Makefile and docker-compose.yml). DATABASE_APP_ROLE names the role
# that migrations grant table privileges to.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="funding_app")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writer waits for the lock instead of failing half-way ("database is locked").
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not memory: a Celery worker in another process must see the test database. One per test
    # process, so that two suites run side by side (a developer's and CI's) never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The tenant middleware opens the request transaction itself (it must set the tenant inside it).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.rediscache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Pages kept for the person who asked until anything they read changes (core.pagecache). Only
# with a cache every process shares (Redis): a per-process cache would not see another process's writes,
# so without Redis it is off unless asked for (one process: runserver, the tests).
PAGE_CACHE = env.bool("PAGE_CACHE", default=bool(REDIS_URL))
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None  # progress and results live in our own tables, not in the broker
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # no broker: tasks run in-process, after commit
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # at-least-once: a task is acknowledged only when it has finished...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and requeued if its worker dies; tasks are idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis gives a message nobody acknowledged back after this long. Jobs do not wait for it (the sweep
# below sends a lost job's task again within two minutes); it brings back the other tasks of a dead
# worker. A message of a job still running that comes back is harmless: its claim refuses, it is acked.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="funding")
CELERY_IMPORTS = ["schools.tasks", "students.identification.tasks"]
# Beat keeps its schedule and the time of each entry's last run in the database (django-celery-beat),
# so a beat restarted on another host carries on where the last one stopped, and no host's disk holds
# state. The entries below are written into it when beat starts. Run ONE beat process per deployment.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Write each run to the database as it is sent, not every few minutes: a beat killed (or moved to
# another host) loses no record of what it ran. One small UPDATE per sent task (two a minute here).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BEAT_SCHEDULE = {
    # Jobs whose worker died (silent heartbeat, or never claimed): their tasks are sent again.
    "sweep-jobs": {
        "task": "schools.sweep_jobs",
        "schedule": 30.0,
        "options": {"expires": 25},  # workers down for a while: no backlog of sweeps when they return
    },
    # Lists whose publicity period ended yesterday go to the district (公示期满): every night.
    "close-due-publicities": {
        "task": "students.close_due_publicities_everywhere",
        "schedule": crontab(hour=0, minute=30),
    },
    # Next year's official calendar is due from 1 November: warn (log) and record it while it is missing.
    "check-official-calendar": {
        "task": "schools.check_official_calendar",
        "schedule": crontab(hour=0, minute=45),
    },
    # A signed checkpoint of every tenant's audit chain head, outside the database: every hour.
    "write-audit-checkpoints": {
        "task": "audits.write_checkpoints_everywhere",
        "schedule": crontab(minute=5),
    },
    # 每周按时填报: schools late with a week's return get a reminder the school and the district see (and
    # the audit trail records); after midnight, so a deadline at the end of a day has passed.
    "remind-weekly-returns": {
        "task": "care.remind_weekly_returns_everywhere",
        "schedule": crontab(hour=0, minute=20),
    },
    # 月调度、季汇总、半年通报: each tenant's due report snapshots, on the first working day after a period.
    "oversight-reports-due": {
        "task": "oversight.reports_due_everywhere",
        "schedule": crontab(hour=1, minute=30),
    },
    # The money summary the dashboards read is kept in step by every change; each night it is also
    # recomputed whole (disbursements.summary), so that nothing written behind the services lasts.
    "money-summary-rebuild": {
        "task": "disbursements.money_summary_rebuild_everywhere",
        "schedule": crontab(hour=2, minute=10),
    },
    # 市/省: the figures per district, semester and program that region accounts read (oversight.region),
    # from the money summaries rebuilt just before; `manage.py district_figures_rebuild` at any time.
    "district-figures-rebuild": {
        "task": "oversight.district_figures_rebuild",
        "schedule": crontab(hour=2, minute=30),
    },
    # 跨区县重复资助: the platform's matching of pupils across districts (audits/crossdistrict), nightly;
    # the platform operator runs it at any time too (`manage.py crossdistrict_match`).
    "crossdistrict-match": {
        "task": "audits.crossdistrict_match",
        "schedule": crontab(hour=2, minute=40),
    },
    # Uploads are deleted when their job ends; what a job that never ended left goes after a day.
    "sweep-uploads": {
        "task": "core.sweep_uploads",
        "schedule": crontab(hour=1, minute=15),
    },
}

# --- Auth -------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before the password is even checked (axes).
    "schools.door.backends.LockoutBackend",
    # Django's password check, reading the signed-in user with their district. (A session signed in
    # before it replaced ModelBackend names that one, and signs in again once.)
    "schools.door.backends.PasswordBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保 level 3: at least three of upper case, lower case, digits and symbols.
    {"NAME": "schools.door.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]
# Lockout (django-axes): this many failed sign-ins of one account, or from one address, within the
# window lock it for the same period (axes counts failures until they are older than the cool-off).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # counted per account and, apart, per address
AXES_LOCKOUT_CALLABLE = "schools.door.views.locked_out_response"  # our page, same words for any username
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit trail; axes keeps only the failure counts
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # unlocking is the tenant administrator's page, audited (schools.door)
AXES_SENSITIVE_PARAMETERS = ["password", "otp"]
# The client's address: REMOTE_ADDR, or behind the TLS proxy the one it appended to X-Forwarded-For
# (else every failure would count against the proxy's address and lock everyone out).
AXES_CLIENT_IP_CALLABLE = "schools.door.backends.client_address"
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
# The second factor (django-otp): required for the roles in schools.permissions.TWO_FACTOR_ROLES and
# the platform operator. Off for the demo districts in DEBUG only, so the README's accounts sign in.
TWO_FACTOR_ENFORCED = env.bool("TWO_FACTOR_ENFORCED", default=True)
TWO_FACTOR_OFF_FOR_TENANTS = ["demo-a", "demo-b"] if DEBUG else []
# … and the demo's accounts outside every tenant: the platform operator and the region's (示例市).
TWO_FACTOR_OFF_FOR_OPERATORS = ["platform", "region"] if DEBUG else []
# The README's demo password signs the demo accounts in only in DEBUG; seeded elsewhere, it opens only
# the password change (demo.seed).
DEMO_PASSWORDS_ALLOWED = DEBUG
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="学生资助管理平台")
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes slow the next try down (django-otp's own throttle)
TWO_FACTOR_RECOVERY_CODES = 10
# Sessions: ended after this long without a request, and this long after sign-in whatever happens.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
# With Redis (production), sessions live there and not in PostgreSQL: a session key is a bearer
# credential, and the database's global session table would hand every one of them to any SQL the app
# role runs, or to a dump. Without Redis (the SQLite quick start), the database keeps them.
SESSION_ENGINE = "django.contrib.sessions.backends.cache" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- I18n -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Dates as 2026年12月7日 in Chinese and ISO in English: every `{{ date }}` and `|date` follows these.
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static -----------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
#: Hours an upload may outlive a job that never ended (core.sweep_uploads); a finished job deletes its own.
UPLOAD_RETENTION_HOURS = env.int("UPLOAD_RETENTION_HOURS", default=24)
#: Where files live: "local" (MEDIA_ROOT on this host's disk, the embedded default) or "s3" (an
#: S3-compatible bucket shared by every web host and worker: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
#: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_REGION_NAME). Either way files are encrypted by the
#: app before they are written (core.storage).
FILE_STORAGE = env.str("FILE_STORAGE", default="local")
if FILE_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_DEFAULT_ACL = None  # the bucket's own policy: private
    AWS_QUERYSTRING_AUTH = True  # never a public URL; files are served through the app anyway
    _FILES_BACKEND = "core.storage_s3.EncryptedS3Storage"
    # Evidence at the bucket's root (its names start with evidence/), uploads and reports under uploads/.
    _EVIDENCE_OPTIONS: dict = {"file_overwrite": False}
    _UPLOADS_OPTIONS: dict = {"location": "uploads", "file_overwrite": False}
elif FILE_STORAGE == "local":
    _FILES_BACKEND = "core.storage.EncryptedFileSystemStorage"
    _EVIDENCE_OPTIONS = _UPLOADS_OPTIONS = {}
else:
    raise ImproperlyConfigured(f"FILE_STORAGE must be 'local' or 's3', not {FILE_STORAGE!r}")
STORAGES = {
    # Evidence attached to applications, kept encrypted at rest (core.storage).
    "default": {"BACKEND": _FILES_BACKEND, "OPTIONS": _EVIDENCE_OPTIONS},
    # Uploads a job reads and the row reports it writes (core.storage.UPLOADS), encrypted too.
    "uploads": {"BACKEND": _FILES_BACKEND, "OPTIONS": _UPLOADS_OPTIONS},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Admin sheets (django-import-export) --------------------------------------------------------------
# All or nothing: each import runs in one transaction (a savepoint of the request's), rolled back on
# any row error; the admin mixin adds rollback on validation errors (schools.admin).
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The sheet kept between preview and confirmation stays inside the app, encrypted (core.storage).
IMPORT_EXPORT_TMP_STORAGE_CLASS = "core.storage.ImportSheetStorage"
# Cells starting with = + - @ are exported as text, not formulas (CSV/formula injection).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# --- API --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Per user (or, before sign-in, per address) on every endpoint; the token endpoint has its own,
    # much lower rate against password guessing (schools.api.views.TokenCreateView).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="120/minute"),
        "user": env.str("API_USER_RATE", default="1200/minute"),
        "token": env.str("API_TOKEN_RATE", default="10/minute"),
    },
    # The token scheme first: a call without valid credentials is then answered 401 with
    # `WWW-Authenticate: Token` (a bad or expired token is told so), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.tokens.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.ApiSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
# API tokens (core.tokens): hashed, named per device, and dead after this many days. Never refreshed by
# use: a leaked key works at most this long.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# knox's own table (a swappable model: schools.ApiToken points at it).
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {"TOKEN_TTL": dt.timedelta(days=API_TOKEN_TTL_DAYS), "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "Student aid API",
    "DESCRIPTION": "Tenant-scoped API of the student-aid platform. Every endpoint answers only with rows "
    "of the caller's district and role scope.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "UrbanRuralEnum": "schools.models.Area",  # Hukou has the same two values
        "TierEnum": "students.models.Tier",
        "ApplicationStatusEnum": "students.models.ApplicationStatus",
        "PublicityStatusEnum": "students.models.PublicityStatus",
        "ObjectionStatusEnum": "students.models.ObjectionStatus",
        "EnrollmentStatusEnum": "students.models.EnrollmentStatus",
        "BatchKindEnum": "disbursements.models.BatchKind",
        "CorrectionKindEnum": "disbursements.models.CorrectionKind",
        "AttachmentKindEnum": "students.models.AttachmentKind",
        # A reviewer's decision, in the single form and in each row of the bulk one.
        "ReviewDecisionEnum": "students.api.identification.DECISIONS",
        # A dropout case's states (its status, and a step's from and to).
        "CaseStatusEnum": "care.models.CaseStatus",
        # Three choice sets named "kind": a case step's, a risk flag's and a report snapshot's.
        "StepKindEnum": "care.models.StepKind",
        "RiskKindEnum": "care.models.RiskKind",
        "ReportKindEnum": "oversight.models.ReportKind",
    },
}

# --- Security (production) --------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers on <body>), not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style: behaviour lives in static/js/app.js, looks in static/css (django-csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Features no page of the product uses (schools.door.middleware sends it).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging ----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Product settings -------------------------------------------------------------------------------
# Uploads larger than this are refused before they are read (spreadsheets of a county fit easily).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A roster of this many rows or more is read and prepared by reader processes while the import writes
# (students.roster.pipeline); 0 turns that off. Readers take the chunks in turn: preparing a row costs
# more than writing it, so two keep a 2-core machine busy (docs/benchmarks.md, "Roster import").
ROSTER_PARALLEL_ROWS = env.int("ROSTER_PARALLEL_ROWS", default=20_000)
ROSTER_READERS = env.int("ROSTER_READERS", default=2)

ADMIN_SITE_HEADER = _("Student aid administration")
