"""域名信息查询: the public page that shows what RDAP shows, in Chinese."""

import math

from django.core.exceptions import ValidationError
from django.shortcuts import render

from conac.access import PUBLIC, allow
from registry.domains import names as registry_names
from registry.models import Domain, ReservedName

from . import documents, hotpath, records
from .forms import LookupForm


def availability(name):
    """For a name nobody holds: why it still cannot be applied for, or '' when it can (two queries at most)."""
    try:
        checked = registry_names.validate_label(name.label, suffix=name.suffix)
    except ValidationError as exc:
        return f"该名称不符合注册规则：{exc.messages[0]}"
    candidates = {checked.label, *checked.variants}
    reserved = ReservedName.objects.filter(label__in=candidates, suffix__in=[name.suffix, ""]).first()
    if reserved is not None:
        return f"“{reserved.label}{name.suffix}”为保留名称，不能申请。"
    variant = (
        Domain.objects.filter(label__in=checked.variants, suffix=name.suffix, status__in=records.PUBLIC_STATES)
        .values_list("label", flat=True)
        .first()
    )
    if variant is not None:
        return f"其简繁体变体“{variant}{name.suffix}”已被注册或正在申请中，不能再申请。"
    return ""


@allow(PUBLIC)
def lookup(request):
    """域名信息查询 (no login): the public facts of one name, or how to apply for a free one."""
    form = LookupForm(request.GET if "name" in request.GET else None)
    context = {"form": form, "rdap_base": documents.base_url()}
    if form.is_bound and form.is_valid():
        # The same per-address limit as RDAP searches and lookups that reach the database.
        wait = hotpath.over_limit(request)
        if wait:
            response = render(
                request, "rdap/lookup.html", {**context, "wait_minutes": max(1, math.ceil(wait / 60))}, status=429
            )
            response["Retry-After"] = str(wait)
            return response
        name = form.cleaned_data["name"]
        public = hotpath.domain_answer(name).public
        context.update({"name": name, "public": public})
        if public is None:
            context["blocked"] = availability(name)
            context["organ_suffix"] = name.suffix == registry_names.ORGAN_SUFFIX
    return render(request, "rdap/lookup.html", context)
