# The application image: web (gunicorn, the default command), Celery worker and beat, and the one-off
# migrate step all run from it; docker-compose.yml says which.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock changes. Every package is pinned
# with its hashes (psycopg-binary brings its own libpq, so no system packages are needed). The lock also
# holds the dev tools (pytest, ruff, playwright's Python package); they are unused here.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# Static files are collected into the image and served by WhiteNoise (hashed, compressed names under
# DEBUG=0). The secret key here exists only for this command and is not kept in the image.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput

# Run as an unprivileged user. The code stays owned by root (read-only to the app); only media/ and the
# audit checkpoints' directory (volumes in docker-compose.yml) are writable. Celery beat keeps its
# schedule file in /tmp (see docker-compose.yml).
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/media /app/var/audit-checkpoints \
    && chown app:app /app/media /app/var/audit-checkpoints \
    && chmod 700 /app/var/audit-checkpoints
USER app

EXPOSE 8000

# Worker processes: WEB_CONCURRENCY (gunicorn's own variable), 1 if unset. No control socket: gunicorn
# would put it in $HOME (/app, not writable) and log an error at every start; nothing here uses it.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
