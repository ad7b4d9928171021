"""The project's own middleware. LanguageMiddleware: Simplified Chinese unless the user chose otherwise;
MenuCountsMiddleware: a user's POST forgets the side menu's counts kept for them (config/menu.py).

Django's LocaleMiddleware would follow the browser's Accept-Language; district staff share machines
and browsers set up in English, so the product speaks Chinese until someone picks English with the
switch in the menu (stored in the language cookie).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .menu import forget_counts


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class MenuCountsMiddleware:
    """A POST of a signed-in user (their own work done: a decision, an import) forgets the side menu's
    counts kept for them (config/menu.py), so their next page shows the work that is left."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "POST":
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                forget_counts(user)
        return response
