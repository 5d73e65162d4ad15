"""``{% load formats %}``: money and dates written one way on every page.

- ``{{ amount|yuan }}`` → ``1,200.00 元`` (plain text: safe in attributes, confirmations, notices)
- ``{{ day|ymd }}`` → ``2026-12-31`` that never breaks across lines (a ``text-nowrap`` span);
  ``{{ moment|ymd_hm }}`` the same with the time, ``2026-12-31 14:05``
- ``{{ day|ymd_text }}`` / ``{{ moment|ymd_hm_text }}`` → the same text without markup, for
  attributes, plain-text emails and SMS.
"""

import datetime

from django import template
from django.utils.html import format_html

from conac import formats

register = template.Library()


@register.filter
def yuan(value):
    if value is None or value == "" or not formats.is_amount(value):
        return ""
    return formats.yuan_text(value)


@register.filter
def amount(value):
    """The figure alone, ``1,200.00``, for a column whose header already says （元）."""
    if value is None or value == "" or not formats.is_amount(value):
        return ""
    return formats.amount_text(value)


def _is_date(value):
    return isinstance(value, datetime.date)


@register.filter
def ymd_text(value):
    return formats.date_text(value) if _is_date(value) else ""


@register.filter
def ymd_hm_text(value):
    if isinstance(value, datetime.datetime):
        return formats.datetime_text(value)
    return ymd_text(value)


@register.filter
def ymd(value):
    text = ymd_text(value)
    return format_html('<span class="text-nowrap">{}</span>', text) if text else ""


@register.filter
def ymd_hm(value):
    text = ymd_hm_text(value)
    return format_html('<span class="text-nowrap">{}</span>', text) if text else ""
