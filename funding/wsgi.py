import os

from django.core.wsgi import get_wsgi_application

from funding.checks import refuse_to_start_without_secrets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funding.settings")
application = get_wsgi_application()
refuse_to_start_without_secrets()
