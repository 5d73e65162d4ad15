"""Post/Redirect/Get for forms that fail: the address after a refused POST is never the POST URL.

A view whose form does not validate (or whose service refuses it) calls ``redirect_with_form``:
the data as typed and the errors are kept in the session under a one-time key carried in the
redirect's query (``?form=<key>``), and the GET page calls ``restore`` to show the same form
again, bound and with the same errors at the same fields. A reload of that page re-sends
nothing; a second reload shows the form fresh (the state is gone once shown). Passwords and
other secret fields are never written to the session: the user types them again.

Views answering htmx keep rendering their partial: the browser's address does not change there.
"""

import secrets

from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.http import urlencode

SESSION_KEY = "form_states"
QUERY_PARAM = "form"
MAX_KEPT = 8  # states not yet shown (other tabs); the oldest go first
NEVER_KEPT = {"csrfmiddlewaretoken", "confirmed"}


def _secret_fields(form):
    from django.forms import PasswordInput

    return {name for name, field in form.fields.items() if isinstance(field.widget, PasswordInput)}


def remember(request, form=None, *, name, data=None, secret=(), extra=None):
    """Keep ``form``'s typed data (secrets left out) and its errors; return the one-time key.

    Without a form, ``data`` (a QueryDict) is kept as it is, less the ``secret`` fields.
    """
    secret = set(secret) | NEVER_KEPT | (_secret_fields(form) if form is not None else set())
    source = form.data if form is not None else data
    # A field named for a password is never kept either, whatever its widget.
    kept = {key: source.getlist(key) for key in source if key not in secret and "password" not in key}
    errors = {}
    if form is not None:
        errors = {field: [str(message) for message in messages] for field, messages in form.errors.items()}
    states = request.session.get(SESSION_KEY, {})
    while len(states) >= MAX_KEPT:
        states.pop(next(iter(states)))
    key = secrets.token_urlsafe(9)
    states[key] = {"name": name, "data": kept, "errors": errors, "extra": extra or {}}
    request.session[SESSION_KEY] = states
    return key


def redirect_with_form(request, form, to, *, name, extra=None):
    """The redirect after a refused POST: back to ``to`` (a URL) with the form's state."""
    key = remember(request, form, name=name, extra=extra)
    return redirect(with_key(to, key))


def with_key(to, key):
    """``to`` with the one-time key of a kept state in its query."""
    separator = "&" if "?" in to else "?"
    return f"{to}{separator}{urlencode({QUERY_PARAM: key})}"


def pop_state(request, *, name):
    """The kept state named ``name`` that this GET's key points to, removed from the session; or None."""
    key = request.GET.get(QUERY_PARAM)
    states = request.session.get(SESSION_KEY)
    if not key or not states or key not in states or states[key].get("name") != name:
        return None
    state = states.pop(key)
    request.session[SESSION_KEY] = states
    return state


def restore(request, form_class, *, name, **kwargs):
    """``form_class`` (or any callable taking the data first) bound to the kept data and carrying the kept errors, or None.

    The errors are those the POST found, service refusals included: they are not recomputed,
    so the form shows what the user was told, even where the check needs the database.
    """
    state = pop_state(request, name=name)
    if state is None:
        return None
    return bind(form_class, state, **kwargs)


def bind(form_class, state, **kwargs):
    data = QueryDict(mutable=True)
    for key, values in state["data"].items():
        data.setlist(key, values)
    form = form_class(data, **kwargs)
    errors = ErrorDict()
    for field, messages in state["errors"].items():
        css = "nonfield" if field == "__all__" else None
        errors[field] = form.error_class(messages, error_class=css, renderer=form.renderer)
    form._errors = errors  # what the POST found; ``form.errors`` does not validate again
    form.cleaned_data = {}
    return form


def kept_data(request, *, name):
    """The typed data alone (a QueryDict) of a kept state, for views that rebuild more than a form."""
    state = pop_state(request, name=name)
    if state is None:
        return None, None
    data = QueryDict(mutable=True)
    for key, values in state["data"].items():
        data.setlist(key, values)
    return data, state


__all__ = ["bind", "kept_data", "pop_state", "redirect_with_form", "remember", "restore"]
