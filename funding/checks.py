"""System checks: production must hold its own personal-data keys."""

from django.conf import settings
from django.core.checks import Error, register

KEYS = ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY")


@register()
def personal_data_keys(app_configs, **kwargs):
    """Outside DEBUG the encryption, blind-index and audit keys are set explicitly (never derived from
    SECRET_KEY, whose rotation would otherwise make the register unreadable)."""
    if settings.DEBUG:
        return []
    return [
        Error(
            f"{name} is not set.",
            hint=(
                'Generate one with: python -c "import base64,os;'
                "print(base64.b64encode(os.urandom(32)).decode())\" (FIELD_ENCRYPTION_KEYS takes 'k1:<key>')."
            ),
            id="funding.E001",
        )
        for name in KEYS
        if not getattr(settings, name)
    ]
