"""Production must hold its own secrets: the SECRET_KEY and the personal-data keys.

They are deploy checks (`manage.py check --deploy`), so that commands about the schema alone
(`makemigrations --check`, `sqlmigrate`) run on a bare checkout; what serves or works refuses to
start without them (`refuse_to_start_without_secrets`: the WSGI and ASGI apps, the Celery worker
and beat), and the crypto module refuses to use a missing key."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

KEYS = ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY", "PLATFORM_MATCH_KEY")
SETUP_HINT = "Set SECRET_KEY (production) or DEBUG=1 (local development)."


def missing_secrets() -> list[str]:
    """The secrets production lacks (none in DEBUG, where development keys are derived)."""
    if settings.DEBUG:
        return []
    missing = []
    try:
        settings.SECRET_KEY  # noqa: B018  Django refuses an empty one on access
    except ImproperlyConfigured:
        missing.append("SECRET_KEY")
    return missing + [name for name in KEYS if not getattr(settings, name)]


@register(deploy=True)
def production_secrets(app_configs, **kwargs):
    """Outside DEBUG the SECRET_KEY and the encryption, blind-index, audit and platform-match keys are set
    explicitly (the keys never derived from SECRET_KEY, whose rotation would otherwise make the
    register unreadable)."""
    errors = []
    for name in missing_secrets():
        if name == "SECRET_KEY":
            errors.append(Error("SECRET_KEY is not set.", hint=SETUP_HINT, id="funding.E002"))
        else:
            errors.append(
                Error(
                    f"{name} is not set.",
                    hint=(
                        'Generate one with: python -c "import base64,os;'
                        "print(base64.b64encode(os.urandom(32)).decode())\" (FIELD_ENCRYPTION_KEYS takes 'k1:<key>')."
                    ),
                    id="funding.E001",
                )
            )
    return errors


def refuse_to_start_without_secrets() -> None:
    """Called where the app starts to serve or work; raises, naming every missing secret."""
    missing = missing_secrets()
    if missing:
        raise ImproperlyConfigured(f"Not set: {', '.join(missing)}. {SETUP_HINT} See README.md (Configuration).")
