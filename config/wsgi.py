import os

from django.core.wsgi import get_wsgi_application

from core.checks import refuse_to_start_without_secrets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
refuse_to_start_without_secrets()
