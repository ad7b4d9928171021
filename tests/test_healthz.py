from django.test import Client


def test_healthz_reports_database_and_broker(db, settings):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    if settings.REDIS_URL:
        assert body["broker"]["ok"] is True
    else:
        assert body["broker"]["ok"] is None
        assert "in-process" in body["broker"]["detail"]


def test_healthz_says_degraded_when_the_broker_does_not_answer(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = settings.REDIS_URL
    try:
        response = Client().get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
