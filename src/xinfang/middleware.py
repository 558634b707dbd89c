"""Request middleware of our own."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChosenLanguageMiddleware:
    """Chinese first: the interface is zh-hans unless the user chose another language with the
    switch in the top bar (Django's language cookie, set by the set_language view).

    Unlike Django's LocaleMiddleware, the browser's Accept-Language is not consulted: office
    machines often ship browsers set to English, and staff who never asked for English must still
    get the Chinese interface.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
