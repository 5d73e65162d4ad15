"""The zone publisher: one zone file per suffix, written, checked, then swapped in atomically.

``publish(zone)`` streams the effective records of every domain in the zone from the
database in chunks (constant memory at any size), writes ``<zone>.zone.new`` beside the
live file, checks it (``nsd-checkzone`` when installed, and a parse with dnspython),
and only then renames it over the live file and asks NSD to reload. A file that fails
the check never replaces the last good one: the error is recorded, an alert goes to
CONAC, and the zone stays dirty so the next publish tries again.
"""

import fcntl
import logging
import os
import shutil
import subprocess  # nosec B404: fixed argument lists, no shell
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zonefile
from conac import notices
from registry.domains.names import SUFFIXES
from registry.models import DomainStatus, User

from .models import DnsRecord, RecordType, ZoneState
from .values import txt_strings

log = logging.getLogger(__name__)
T = RecordType
CHUNK = 5000


class PublishError(Exception):
    """A zone that could not be published; the last good file is still in service."""


@dataclass
class Result:
    zone: str
    serial: int
    records: int
    path: Path
    reloaded: bool


def zone_dir():
    path = Path(settings.DNS_ZONE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def zone_path(zone):
    return zone_dir() / f"{zone}.zone"


def next_serial(previous, today):
    """YYYYMMDDnn, always above the last one: bumped within a day, never reused."""
    return max(previous + 1, int(today.strftime("%Y%m%d")) * 100)


def in_zone_domains(suffix, today):
    """Domains whose records are published: 注册成功, or 已过期 within the grace period."""
    grace_start = today - timedelta(days=settings.DNS_EXPIRY_GRACE_DAYS)
    return Q(domain__suffix=suffix) & (
        Q(domain__status=DomainStatus.ACTIVE)
        | Q(domain__status=DomainStatus.EXPIRED, domain__expires_on__gte=grace_start)
    )


# --- Writing ---------------------------------------------------------------------------


def _quote(data):
    """One character-string in zone-file syntax: quotes, backslashes and non-ASCII escaped."""
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _rdata(rtype, value, priority, caa_flags, caa_tag):
    if rtype in (T.A, T.AAAA):
        return value
    if rtype in (T.CNAME, T.NS):
        return value + "."
    if rtype == T.MX:
        return f"{priority} {value}."
    if rtype == T.TXT:
        return " ".join(_quote(chunk) for chunk in txt_strings(value))
    if rtype == T.CAA:
        return f"{caa_flags} {caa_tag} {_quote(value.encode('ascii'))}"
    raise ValueError(rtype)


def _owner(host, alabel):
    return alabel if host == "@" else f"{host}.{alabel}"


def _domain_lines(alabel, rows, forwarding_addresses):
    """The zone lines of one domain from its effective records (host, rtype, value, ttl, …)."""
    ns = [r for r in rows if r[1] == T.NS]
    if len(ns) >= settings.DNS_MIN_DELEGATION_NS:
        # Delegated: only the NS set, and the glue of name servers that lie inside the name.
        suffix = "." + alabel + "."
        inside = {r[2][: -len(alabel) - 1] for r in ns if (r[2] + ".").endswith(suffix)}
        rows = ns + [r for r in rows if r[1] in (T.A, T.AAAA) and r[0] in inside]
    else:
        rows = [r for r in rows if r[1] != T.NS]
    # One TTL per RRset (RFC 2181 §5.2): the smallest asked for.
    ttls = {}
    for host, rtype, _value, ttl, *_ in rows:
        key = (host, rtype)
        ttls[key] = min(ttl, ttls.get(key, ttl))
    lines = []
    for host, rtype, value, _ttl, priority, caa_flags, caa_tag in rows:
        owner = _owner(host, alabel)
        ttl = ttls[(host, rtype)]
        if rtype == T.URL:
            for address in forwarding_addresses:
                kind = "AAAA" if ":" in address else "A"
                lines.append(f"{owner} {ttl} IN {kind} {address}\n")
            continue
        lines.append(f"{owner} {ttl} IN {rtype} {_rdata(rtype, value, priority, caa_flags, caa_tag)}\n")
    return lines


def _header(zone, serial):
    ns_names = [name for name, _ in settings.DNS_NAMESERVERS]
    soa = settings.DNS_SOA
    lines = [
        f"$ORIGIN {zone}.\n",
        f"$TTL {soa['ttl']}\n",
        f"@ {soa['ttl']} IN SOA {ns_names[0]}. {soa['rname']}. "
        f"{serial} {soa['refresh']} {soa['retry']} {soa['expire']} {soa['minimum']}\n",
    ]
    lines += [f"@ {soa['ttl']} IN NS {name}.\n" for name in ns_names]
    for name, addresses in settings.DNS_NAMESERVERS:
        if name == zone or name.endswith("." + zone):
            for address in addresses:
                kind = "AAAA" if ":" in address else "A"
                lines.append(f"{name}. {soa['ttl']} IN {kind} {address}\n")
    return lines


def write_zone(handle, zone, suffix, serial, today):
    """Stream the zone into ``handle``; returns the number of records written from the database."""
    handle.writelines(_header(zone, serial))
    rows = (
        DnsRecord.objects.effective()
        .filter(in_zone_domains(suffix, today))
        .order_by("domain_id", "id")
        .values_list("domain_id", "domain__alabel", "host", "rtype", "value", "ttl", "priority", "caa_flags", "caa_tag")
        .iterator(chunk_size=CHUNK)
    )
    forwarding_addresses = settings.DNS_FORWARDING_ADDRESSES
    count = 0
    current, alabel, batch = None, None, []
    for domain_id, domain_alabel, *record in rows:
        if domain_id != current:
            if batch:
                handle.writelines(_domain_lines(alabel, batch, forwarding_addresses))
            current, alabel, batch = domain_id, domain_alabel, []
        batch.append(tuple(record))
        count += 1
    if batch:
        handle.writelines(_domain_lines(alabel, batch, forwarding_addresses))
    return count


# --- Checking ----------------------------------------------------------------------------


def check_zone_file(zone, path):
    """``nsd-checkzone`` when installed, then a full parse with dnspython; raises PublishError."""
    checkzone = settings.DNS_CHECKZONE or shutil.which("nsd-checkzone")
    if checkzone:
        done = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
            [checkzone, zone + ".", str(path)], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            raise PublishError(f"nsd-checkzone 检查未通过：{(done.stderr or done.stdout).strip()[:2000]}")
    origin = dns.name.from_text(zone + ".")
    try:
        with open(path, encoding="ascii") as handle:
            # read_rrsets checks every line's syntax and rdata without building the zone in memory.
            seen_soa = False
            for rrset in dns.zonefile.read_rrsets(handle, origin=origin, relativize=False):
                seen_soa = seen_soa or rrset.rdtype == dns.rdatatype.SOA
    except (dns.exception.DNSException, UnicodeDecodeError, ValueError) as exc:
        raise PublishError(f"区域文件解析失败：{exc}") from None
    if not seen_soa:
        raise PublishError("区域文件缺少SOA记录。")


# --- Publishing --------------------------------------------------------------------------


@contextmanager
def _publish_lock(zone):
    """One publisher per zone at a time on this machine (the files live beside the server)."""
    with open(zone_dir() / f".{zone}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def nsd_reload(zone):
    """Tell NSD to load the new file; False when no name server is configured here."""
    control = settings.DNS_NSD_CONTROL
    if not control:
        return False
    argv = [control]
    if settings.DNS_NSD_CONFIG:
        argv += ["-c", str(settings.DNS_NSD_CONFIG)]
    done = subprocess.run(  # noqa: S603  # nosec B603: fixed argv, no shell
        argv + ["reload", zone + "."], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise PublishError(f"nsd-control reload 失败：{(done.stderr or done.stdout).strip()[:1000]}")
    return True


def publish(suffix, *, today=None, now=None):
    """Write, check and install the zone of ``suffix``; raises PublishError (last good zone kept)."""
    zone = SUFFIXES[suffix]
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    state, _ = ZoneState.objects.get_or_create(zone=zone)
    wanted = state.requested
    with _publish_lock(zone):
        state.refresh_from_db()
        serial = next_serial(state.serial, today)
        final = zone_path(zone)
        temporary = final.with_name(f"{final.name}.new")
        try:
            with open(temporary, "w", encoding="ascii", newline="\n") as handle:
                with transaction.atomic():  # one consistent snapshot of the records
                    count = write_zone(handle, zone, suffix, serial, today)
            check_zone_file(zone, temporary)
            os.replace(temporary, final)
            reloaded = nsd_reload(zone)
        except (PublishError, OSError, subprocess.SubprocessError) as exc:
            temporary.unlink(missing_ok=True)
            _failed(state, serial, exc, now)
            raise PublishError(str(exc)) from exc
        ZoneState.objects.filter(pk=state.pk).update(
            serial=serial,
            published=wanted,
            published_at=now,
            record_count=count,
            last_error="",
            failed_at=None,
        )
    log.info("published zone %s serial %s (%s records)", zone, serial, count)
    return Result(zone=zone, serial=serial, records=count, path=final, reloaded=reloaded)


def _failed(state, serial, exc, now):
    message = str(exc)
    log.error("zone %s serial %s not published: %s", state.zone, serial, message)
    ZoneState.objects.filter(pk=state.pk).update(last_error=message[:4000], failed_at=now)
    emails = sorted(
        set(User.objects.filter(role="conac", is_active=True).exclude(email="").values_list("email", flat=True))
        | set(settings.DNS_ALERT_EMAILS)
    )
    with transaction.atomic():
        for email in emails:
            notices.queue(
                "zone_publish_failed",
                key=f"zone:{state.zone}:failed:{serial}",
                context={"zone": state.zone, "serial": serial, "error": message[:2000], "at": now},
                email_to=email,
            )


def publish_dirty(*, today=None):
    """Publish every zone with changes not yet published (and any never published)."""
    results, errors = [], []
    for suffix, zone in SUFFIXES.items():
        state, _ = ZoneState.objects.get_or_create(zone=zone)
        if state.published_at is not None and state.requested <= state.published and zone_path(zone).exists():
            continue
        try:
            results.append(publish(suffix, today=today))
        except PublishError as exc:
            errors.append(f"{zone}: {exc}")
    if errors:
        raise PublishError("；".join(errors))
    return results
