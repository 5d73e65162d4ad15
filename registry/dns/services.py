"""Writes to DNS records: 添加记录 / 修改 / 删除 requests, the www twin, and 解析审核's effects.

A unit's request is one transaction that locks the domain row (so two requests for
the same domain are checked one after the other), checks every rule against the
records as they will be, and writes the change and its audit entry. CONAC decides
through the review engine (``review.services``, one tier: CONAC); an approval applies
the change to the effective record in the same transaction and marks the zone dirty.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from conac import audit, notices
from registry.models import Domain, DomainStatus
from review.services import ReviewError

from . import publishing
from .models import ChangeAction, ChangeStatus, DnsChange, DnsRecord, RecordType
from .values import clean_record, url_host

T = RecordType
ADDRESS_TYPES = (T.A, T.AAAA)


class DnsError(Exception):
    """A request the rules refuse as a whole (not one field); the message is shown to the user."""


def _lock_domain_for(domain, actor):
    locked = Domain.objects.select_for_update().select_related("unit").get(pk=domain.pk)
    if getattr(actor, "role", None) != "unit" or locked.unit_id != actor.unit_id:
        raise DnsError("只能管理本单位域名的解析记录。")
    if locked.status != DomainStatus.ACTIVE:
        raise DnsError(f"域名“{locked.full_name}”当前状态为“{locked.get_status_display()}”，注册成功后才能设置解析。")
    return locked


def _same_rdata(a, b):
    keys = ("host", "rtype", "value", "priority", "caa_flags", "caa_tag")
    return all(a[k] == b[k] for k in keys)


def check_against(candidate, others, *, domain):
    """The rules that depend on the domain's other records; ``others`` are field dicts."""
    host, rtype = candidate["host"], candidate["rtype"]
    same_host = [o for o in others if o["host"] == host]
    if any(_same_rdata(candidate, o) for o in same_host):
        raise ValidationError({"value": "已有完全相同的解析记录，无需重复添加。"})
    if rtype == T.CNAME and same_host:
        raise ValidationError({"rtype": f"主机记录“{_shown(host)}”已有其他记录，CNAME记录不能与其他记录并存。"})
    if rtype != T.CNAME and any(o["rtype"] == T.CNAME for o in same_host):
        raise ValidationError({"rtype": f"主机记录“{_shown(host)}”已有CNAME记录，不能再添加其他记录。"})
    if rtype == T.URL and any(o["rtype"] in ADDRESS_TYPES for o in same_host):
        raise ValidationError(
            {"rtype": f"主机记录“{_shown(host)}”已有A/AAAA记录；同一主机记录只能设置URL转发或地址记录之一。"}
        )
    if rtype in ADDRESS_TYPES and any(o["rtype"] == T.URL for o in same_host):
        raise ValidationError(
            {"rtype": f"主机记录“{_shown(host)}”已设置URL转发；同一主机记录只能设置URL转发或地址记录之一。"}
        )
    if rtype == T.URL and any(o["rtype"] == T.URL for o in same_host):
        raise ValidationError({"rtype": f"主机记录“{_shown(host)}”已有URL转发记录，请修改原记录。"})
    if rtype == T.URL:
        target = url_host(candidate["value"])
        if target in fqdns_of(domain, host):
            raise ValidationError({"value": "转发目标不能是本域名自身，否则会无限循环。"})


def fqdns_of(domain, host):
    """The host's absolute names (A-label and Unicode) without the trailing dot."""
    from registry.domains.names import SUFFIXES

    zone = SUFFIXES.get(domain.suffix, "")
    base_a, base_u = f"{domain.alabel}.{zone}", f"{domain.label}.{domain.suffix.lstrip('.')}"
    if host == "@":
        return {base_a, base_u}
    from .values import host_to_unicode

    return {f"{host}.{base_a}", f"{host_to_unicode(host)}.{base_u}"}


def _shown(host):
    from .values import host_to_unicode

    return host_to_unicode(host)


def planned_records(domain, *, exclude_record=None):
    """The records as they will be if every pending request passes: what a new request must fit."""
    records = DnsRecord.objects.effective().filter(domain=domain)
    if exclude_record is not None:
        records = records.exclude(pk=exclude_record.pk)
    pending_modify = {
        c.record_id: c
        for c in DnsChange.objects.filter(domain=domain, status=ChangeStatus.PENDING, action=ChangeAction.MODIFY)
    }
    planned = [(pending_modify.get(r.pk) or r).data() for r in records]
    adds = DnsChange.objects.filter(domain=domain, status=ChangeStatus.PENDING, action=ChangeAction.ADD)
    planned += [c.data() for c in adds]
    return planned


def _check_limit(domain):
    live = DnsRecord.objects.effective().filter(domain=domain).count()
    live += DnsChange.objects.filter(domain=domain, status=ChangeStatus.PENDING, action=ChangeAction.ADD).count()
    limit = settings.DNS_MAX_RECORDS_PER_DOMAIN
    if live >= limit:
        raise ValidationError({"host": f"每个域名最多{limit}条解析记录（含待审核的），请先删除不用的记录。"})


def _glue_needed(domain, ns_target):
    """A name server inside the delegated name needs its address (glue) among the records."""
    for name in fqdns_of(domain, "@"):
        if ns_target.endswith("." + name):
            return ns_target[: -len(name) - 1]
    return None


def _check_ns_glue(domain, candidate, others):
    if candidate["rtype"] != T.NS:
        return
    glue_host = _glue_needed(domain, candidate["value"])
    if glue_host and not any(o["host"] == glue_host and o["rtype"] in ADDRESS_TYPES for o in others):
        raise ValidationError(
            {"value": f"名称服务器位于本域名之内，请先为主机记录“{_shown(glue_host)}”添加A或AAAA记录（胶水记录）。"}
        )


def _submit(domain, *, action, data, actor, record=None, now=None, old=""):
    change = DnsChange(
        domain=domain,
        unit_id=domain.unit_id,
        record=record,
        action=action,
        status=ChangeStatus.PENDING,
        old_value=old,
        submitted_at=now or timezone.now(),
        **data,
    )
    change.save()
    audit.record(
        change,
        f"{change.get_action_display()}申请",
        actor=actor,
        to_state=change.get_status_display(),
        data={
            "domain": domain.full_name,
            "old": old,
            "new": "" if action == ChangeAction.DELETE else _describe(change),
        },
    )
    return change


def _describe(rec):
    return f"{rec.host_display} {rec.get_rtype_display()} {rec.value_display} TTL {rec.ttl}"


def request_add(domain, *, actor, now=None, **fields):
    """添加记录: a new record waiting for 解析审核."""
    data = clean_record(**fields)
    with transaction.atomic():
        domain = _lock_domain_for(domain, actor)
        _check_limit(domain)
        others = planned_records(domain)
        check_against(data, others, domain=domain)
        _check_ns_glue(domain, data, others)
        return _submit(domain, action=ChangeAction.ADD, data=data, actor=actor, now=now)


def request_modify(record, *, actor, now=None, **fields):
    """修改: new values for an effective record; the old values stay in service until approved."""
    data = clean_record(**fields)
    with transaction.atomic():
        domain = _lock_domain_for(record.domain, actor)
        record = DnsRecord.objects.select_for_update().get(pk=record.pk, domain=domain)
        _check_open(record)
        if record.same_data(data):
            raise ValidationError({"value": "记录没有变化。"})
        others = planned_records(domain, exclude_record=record)
        check_against(data, others, domain=domain)
        _check_ns_glue(domain, data, others)
        return _submit(
            domain, action=ChangeAction.MODIFY, data=data, actor=actor, record=record, now=now, old=_describe(record)
        )


def request_delete(record, *, actor, now=None):
    """删除: the record stays in service (shown 待删除) until the deletion is approved."""
    with transaction.atomic():
        domain = _lock_domain_for(record.domain, actor)
        record = DnsRecord.objects.select_for_update().get(pk=record.pk, domain=domain)
        _check_open(record)
        if record.rtype in ADDRESS_TYPES:
            remaining = [r.data() for r in DnsRecord.objects.effective().filter(domain=domain).exclude(pk=record.pk)]
            for ns in (r for r in remaining if r["rtype"] == T.NS):
                if _glue_needed(domain, ns["value"]) == record.host and not any(
                    r["host"] == record.host and r["rtype"] in ADDRESS_TYPES for r in remaining
                ):
                    raise DnsError("该地址是名称服务器的胶水记录，请先删除对应的NS记录。")
        return _submit(
            domain,
            action=ChangeAction.DELETE,
            data=record.data(),
            actor=actor,
            record=record,
            now=now,
            old=_describe(record),
        )


def _check_open(record):
    if record.removed_at is not None:
        raise DnsError("该解析记录已删除。")
    if DnsChange.objects.filter(record=record, status=ChangeStatus.PENDING).exists():
        raise DnsError("该记录已有待审核的修改或删除申请，请等待审核后再操作。")


def add_www_twin(change, *, actor, now=None):
    """确定 on 是否允许系统自动添加相同的www转发记录: the same record for ``www``.

    Returns the new change, or None when ``www`` already has a record of that type.
    """
    if change.host != "@" or change.rtype == T.NS:
        raise DnsError("只有主机记录为@的记录可以自动添加www记录。")
    fields = {k: v for k, v in change.data().items() if k != "host"}
    with transaction.atomic():
        domain = _lock_domain_for(change.domain, actor)
        others = planned_records(domain)
        if any(o["host"] == "www" and o["rtype"] == change.rtype for o in others):
            return None
        data = clean_record(host="www", **fields)
        _check_limit(domain)
        check_against(data, others, domain=domain)
        return _submit(domain, action=ChangeAction.ADD, data=data, actor=actor, now=now)


# --- 解析审核 hooks (inside the review engine's transaction) ------------------------------


def change_approved(change, actor):
    """Apply an approved change to the effective record, then mark the zone for publishing."""
    domain = Domain.objects.select_for_update().get(pk=change.domain_id)
    now = timezone.now()
    data = change.data()
    if change.action == ChangeAction.ADD:
        others = [r.data() for r in DnsRecord.objects.effective().filter(domain=domain)]
        _recheck(data, others, domain)
        record = DnsRecord.objects.create(domain=domain, **data)
        change.record = record
        change.save(update_fields=["record"])
        audit.record(record, "解析记录生效", actor=actor, to_state="已生效", data={"new": _describe(record)})
    else:
        record = DnsRecord.objects.select_for_update().get(pk=change.record_id)
        if record.removed_at is not None:
            raise ReviewError("该解析记录已删除，不能再审核此申请。")
        old = _describe(record)
        if change.action == ChangeAction.MODIFY:
            others = [r.data() for r in DnsRecord.objects.effective().filter(domain=domain).exclude(pk=record.pk)]
            _recheck(data, others, domain)
            for field, value in data.items():
                setattr(record, field, value)
            record.save()
            audit.record(record, "解析记录修改生效", actor=actor, data={"old": old, "new": _describe(record)})
        else:
            record.removed_at = now
            record.save(update_fields=["removed_at", "updated_at"])
            audit.record(
                record, "解析记录删除生效", actor=actor, from_state="已生效", to_state="已删除", data={"old": old}
            )
    publishing.zone_changed(domain.suffix, forwarding=True)


def _recheck(data, others, domain):
    try:
        check_against(data, others, domain=domain)
        _check_ns_glue(domain, data, others)
    except ValidationError as exc:
        raise ReviewError("；".join(exc.messages)) from None


def change_rejected(change, actor, opinion):
    """The unit learns which change was refused and why."""
    unit = change.domain.unit
    notices.queue(
        "dns_change_rejected",
        key=f"dns:{change.public_id}:rejected",
        context={"unit": unit, "domain": change.domain, "change": change, "reason": opinion},
        sms_to=unit.contact_mobile,
        email_to=unit.contact_email,
    )


def domain_left_service(domain, *args, **kwargs):
    """Hook: a deleted domain leaves the zone and the forwarding table at the next publish."""
    publishing.zone_changed(domain.suffix, forwarding=True)


def refresh_after_daily_jobs():
    """Expiry and the grace period move with the date: republish every zone once a day."""
    with transaction.atomic():
        for suffix in publishing.zone_suffixes():
            publishing.zone_changed(suffix, forwarding=True)
