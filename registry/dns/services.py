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
        if _forwards_back(candidate, others, domain):
            raise ValidationError({"value": "转发目标又转发回本主机记录，会形成无限循环，请修改转发目标。"})
    if rtype == T.CNAME and candidate["value"] in fqdns_of(domain, host):
        raise ValidationError({"value": "CNAME记录不能指向自身。"})
    if rtype == T.NS and candidate["value"] in fqdns_of(domain, "@"):
        raise ValidationError({"value": "名称服务器不能是本域名自身，请填写名称服务器的主机名，如 ns1.example.com。"})


def _relative_host(domain, name):
    """The host (relative, A-labels) of an absolute name inside the domain, or None outside it."""
    base = _base_alabel(domain)
    if name == base:
        return "@"
    if name.endswith("." + base):
        return name[: -len(base) - 1]
    return None


def _forward_answering(host, records):
    """The URL转发 record the forwarding service answers ``host`` with (as ``forwarding.load_entry``)."""
    urls = {r["host"]: r for r in records if r["rtype"] == T.URL}
    if host in urls:
        return urls[host]
    if any(r["host"] == host for r in records):
        return None  # the name has records of its own: the wildcard does not answer for it
    below = [] if host == "@" else host.split(".")
    for i in range(1, len(below) + 1):
        wildcard = "*." + ".".join(below[i:]) if below[i:] else "*"
        if wildcard in urls:
            return urls[wildcard]
    return None


def _forwards_back(candidate, others, domain):
    """Whether following the forwarding chain from ``candidate``'s target comes back to it."""
    records = [*others, candidate]
    seen = set()
    target = _relative_host(domain, url_host(candidate["value"]))
    while target is not None and target not in seen:
        seen.add(target)
        answering = _forward_answering(target, records)
        if answering is None:
            return False
        if answering is candidate:
            return True
        target = _relative_host(domain, url_host(answering["value"]))
    return False


def _base_alabel(domain):
    from registry.domains.names import SUFFIXES

    return f"{domain.alabel}.{SUFFIXES.get(domain.suffix, '')}"


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
    """What a new request must fit: the effective records and every pending request's new values.

    A record with a pending 修改 counts with both its values (the old one stays in service
    until the decision, and stays for good if the change is refused); a record with a
    pending 删除 still counts. Any order of decisions then keeps the rules, and the
    re-check at approval is only a safety net.
    """
    records = DnsRecord.objects.effective().filter(domain=domain)
    if exclude_record is not None:
        records = records.exclude(pk=exclude_record.pk)
    planned = [r.data() for r in records]
    pending = DnsChange.objects.filter(
        domain=domain, status=ChangeStatus.PENDING, action__in=[ChangeAction.ADD, ChangeAction.MODIFY]
    )
    if exclude_record is not None:
        pending = pending.exclude(record=exclude_record)
    planned += [c.data() for c in pending]
    return planned


def _check_limit(domain):
    live = DnsRecord.objects.effective().filter(domain=domain).count()
    live += DnsChange.objects.filter(domain=domain, status=ChangeStatus.PENDING, action=ChangeAction.ADD).count()
    limit = settings.DNS_MAX_RECORDS_PER_DOMAIN
    if live >= limit:
        raise DnsError(f"每个域名最多{limit}条解析记录（含待审核的），请先删除不用的记录。")


def _glue_needed(domain, ns_target):
    """A name server inside the delegated name needs its address (glue) among the records."""
    host = _relative_host(domain, ns_target)
    return None if host == "@" else host


def _has_address(records, host):
    return any(r["host"] == host and r["rtype"] in ADDRESS_TYPES for r in records)


GLUE_KEPT = (
    "该地址是名称服务器“{ns}”的胶水记录（名称服务器位于本域名之内，需要主机记录“{host}”的A或AAAA记录），"
    "请先删除或修改对应的NS记录。"
)


def _glue_lost(domain, old, remaining):
    """The message when taking the record ``old`` away leaves an NS of ``remaining`` without glue, else None."""
    if old["rtype"] not in ADDRESS_TYPES or _has_address(remaining, old["host"]):
        return None
    for ns in remaining:
        if ns["rtype"] == T.NS and _glue_needed(domain, ns["value"]) == old["host"]:
            return GLUE_KEPT.format(ns=_shown(ns["value"]), host=_shown(old["host"]))
    return None


def _check_ns_glue(domain, candidate, others):
    if candidate["rtype"] != T.NS:
        return
    glue_host = _glue_needed(domain, candidate["value"])
    if glue_host and not _has_address(others, glue_host):
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
    with transaction.atomic():
        domain = _lock_domain_for(domain, actor)
        data = clean_record(**fields)
        _check_limit(domain)
        others = planned_records(domain)
        check_against(data, others, domain=domain)
        _check_ns_glue(domain, data, others)
        return _submit(domain, action=ChangeAction.ADD, data=data, actor=actor, now=now)


def request_modify(record, *, actor, now=None, **fields):
    """修改: new values for an effective record; the old values stay in service until approved."""
    with transaction.atomic():
        domain = _lock_domain_for(record.domain, actor)
        record = DnsRecord.objects.select_for_update().get(pk=record.pk, domain=domain)
        _check_open(record)
        data = clean_record(**fields)
        if record.same_data(data):
            raise ValidationError({"value": "记录没有变化。"})
        others = planned_records(domain, exclude_record=record)
        check_against(data, others, domain=domain)
        _check_ns_glue(domain, data, others)
        lost = _glue_lost(domain, record.data(), [*others, data])
        if lost:
            raise ValidationError({"host": lost})
        return _submit(
            domain, action=ChangeAction.MODIFY, data=data, actor=actor, record=record, now=now, old=_describe(record)
        )


def request_delete(record, *, actor, now=None):
    """删除: the record stays in service (shown 待删除) until the deletion is approved."""
    with transaction.atomic():
        domain = _lock_domain_for(record.domain, actor)
        record = DnsRecord.objects.select_for_update().get(pk=record.pk, domain=domain)
        _check_open(record)
        lost = _glue_lost(domain, record.data(), planned_records(domain, exclude_record=record))
        if lost:
            raise DnsError(lost)
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
    if change.action == ChangeAction.DELETE or change.status == ChangeStatus.REJECTED:
        raise DnsError("只有添加或修改记录的申请可以自动添加相同的www记录。")
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
    if domain.status != DomainStatus.ACTIVE:
        raise ReviewError(
            f"域名“{domain.full_name}”当前状态为“{domain.get_status_display()}”，解析申请只能审核不通过。"
        )
    now = timezone.now()
    data = change.data()
    if change.action == ChangeAction.ADD:
        others = [r.data() for r in DnsRecord.objects.effective().filter(domain=domain)]
        limit = settings.DNS_MAX_RECORDS_PER_DOMAIN
        if len(others) >= limit:
            raise ReviewError(f"该域名已有{limit}条解析记录，达到上限，不能再添加。")
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
            _recheck_glue(domain, record.data(), [*others, data])
            for field, value in data.items():
                setattr(record, field, value)
            record.save()
            audit.record(record, "解析记录修改生效", actor=actor, data={"old": old, "new": _describe(record)})
        else:
            others = [r.data() for r in DnsRecord.objects.effective().filter(domain=domain).exclude(pk=record.pk)]
            _recheck_glue(domain, record.data(), others)
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


def _recheck_glue(domain, old, remaining):
    lost = _glue_lost(domain, old, remaining)
    if lost:
        raise ReviewError(lost)


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
