"""Where a form sends the user back to after it is done."""

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def back_url(request, default_name):
    """The ``next`` path the form carried, if it is a page of this site; else ``default_name``'s URL.

    Only a local path is accepted: "//host/…" or "https://…" would be an open redirect, and a
    bare word would be taken by ``redirect()`` for a URL name.
    """
    back = request.POST.get("next") or request.GET.get("next") or ""
    if (
        back.startswith("/")
        and not back.startswith("//")
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False)
    ):
        return back
    return reverse(default_name)
