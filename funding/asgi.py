import os

from django.core.asgi import get_asgi_application

from funding.checks import refuse_to_start_without_secrets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funding.settings")
application = get_asgi_application()
refuse_to_start_without_secrets()
