"""Events of the school structure that other apps act on (they connect in their AppConfig.ready)."""

from django.dispatch import Signal

#: Sent inside the new tenant's transaction, with `tenant`: apps seed their per-tenant defaults
#: (hardship categories, funding programs …).
tenant_created = Signal()
