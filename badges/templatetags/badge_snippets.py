"""The two snippets of 标识管理, for templates: ``{% load badge_snippets %}``."""

from django import template

from badges import queries

register = template.Library()


@register.simple_tag
def static_badge_snippet(badge):
    """The no-JavaScript snippet (a plain string: autoescaped where it is shown)."""
    return queries.badge_static_snippet(badge)


@register.simple_tag
def certificate_url(badge):
    return queries.certificate_url(badge)
