"""Session expiry by inactivity without writing the session on every page view.

``SESSION_COOKIE_AGE`` is an idle timeout: a session not used for that long ends. Django's
``SESSION_SAVE_EVERY_REQUEST`` keeps it so by saving the session (an UPDATE of
``django_session``) on every request. ``RefreshSessionMiddleware`` saves it at most once
every ``SESSION_REFRESH_SECONDS`` instead: a request that finds the session's last refresh
older than that marks the session modified, and ``SessionMiddleware`` then saves it with a
new expiry. A session therefore ends between ``SESSION_COOKIE_AGE − SESSION_REFRESH_SECONDS``
and ``SESSION_COOKIE_AGE`` seconds after its last use, and is written at most once a minute
(by default) however busy its user is.

Sits right after ``SessionMiddleware`` in ``MIDDLEWARE`` (its response side runs first).
"""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

REFRESHED_KEY = "_refreshed_at"


@receiver(user_logged_in, dispatch_uid="conac.sessions.logged_in")
def _logged_in(sender, request, user, **kwargs):
    """Logging in saves a new session: that is its first refresh."""
    session = getattr(request, "session", None)
    if session is not None:
        session[REFRESHED_KEY] = int(time.time())


class RefreshSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.modified or not session.accessed or session.is_empty():
            return response  # saved anyway, or nothing to keep alive
        if response.status_code >= 500:
            return response  # SessionMiddleware does not save on a server error either
        now = int(time.time())
        try:
            last = int(session.get(REFRESHED_KEY, 0))
        except (TypeError, ValueError):
            last = 0
        if now - last >= settings.SESSION_REFRESH_SECONDS:
            session[REFRESHED_KEY] = now  # modified: SessionMiddleware saves it with a new expiry
        return response
