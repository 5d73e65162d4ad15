"""Markup rendered once per process for each set of values it shows, and kept.

``{% kept_fields "partial.html" form %}``: a list page's filter fields. ``kept_render``: any
fragment whose markup is a function of a key holding every value it shows (域名查询's rows).

A filter form's markup depends only on the values it shows, and staff page through the same few
filters all day; crispy-forms takes about 2 ms of CPU for 域名查询's five fields, a fifth of the
page. So a form without errors is rendered once per process for each set of field values (the
page number and other parameters aside) and kept, at most ``MAX_ENTRIES`` of them, the oldest
dropped first. A form with errors is rendered each time: its messages are the user's own.
"""

import threading
from collections import OrderedDict

from django import template
from django.template.loader import render_to_string

register = template.Library()

MAX_ENTRIES = 5_000  # a few KB each at most
_kept = OrderedDict()
_lock = threading.Lock()


@register.simple_tag
def kept_fields(template_name, form):
    """``template_name`` rendered with ``form`` (as ``form``), kept while the form has no errors."""
    if form.is_bound and form.errors:
        return render_to_string(template_name, {"form": form})
    return kept_render(template_name, {"form": form}, key=(type(form), form.prefix, _values(form)))


def kept_render(template_name, context, *, key):
    """``render_to_string(template_name, context)``, kept under ``key``, which must hold every
    value the markup shows (the markup is a function of the key): nothing to invalidate."""
    key = (template_name, key)
    with _lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
            return html
    html = render_to_string(template_name, context)
    with _lock:
        _kept[key] = html
        while len(_kept) > MAX_ENTRIES:
            _kept.popitem(last=False)
    return html


def _values(form):
    if not form.is_bound:
        return None
    data = form.data
    return tuple(
        (name, tuple(data.getlist(key)) if hasattr(data, "getlist") else (data.get(key),))
        for name in form.fields
        for key in (form.add_prefix(name),)
    )
