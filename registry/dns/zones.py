"""The zone publisher: one zone file per suffix, written, checked, then swapped in atomically.

``publish(suffix)`` streams the effective records of every domain in the zone from the
database in chunks (constant memory at any size), writes ``<zone>.zone.new`` beside the
live file, checks it (``nsd-checkzone``, the server's own parser; a full dnspython parse
when nsd-checkzone is missing or ``DNS_PARSE_CHECK = "always"``), and only then renames it over the live file and
asks NSD to reload the zone. A file that fails the check never replaces the last good
one: the error is recorded on the :class:`ZoneState`, an alert goes to CONAC, and the
zone stays dirty so the next publish tries again.
"""

import fcntl
import logging
import os
import re
import subprocess  # nosec B404: fixed argument lists, no shell
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
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
import dns.tokenizer
import dns.transaction
import dns.zonefile
from conac import notices
from registry.domains import hooks
from registry.domains.names import SUFFIXES
from registry.models import Domain, DomainStatus, User

from .models import DnsRecord, RecordType, ZoneState
from .nsd import find_program
from .values import TXT_STRING_OCTETS, txt_strings

log = logging.getLogger(__name__)
T = RecordType
CHUNK = 20_000
WRITE_BUFFER = 1 << 20


class PublishError(Exception):
    """A zone that could not be published; the last good file is still in service."""


@dataclass
class Result:
    zone: str
    serial: int
    records: int
    path: Path
    reloaded: bool
    seconds: float = 0.0
    # Seconds per phase: write, checkzone, parse, check (both checks, run side by side), reload.
    timings: dict = field(default_factory=dict)


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

# A byte that cannot stand as it is inside a quoted character-string.
_ESCAPE = re.compile(rb"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _escape(match):
    byte = match.group()[0]
    return b"\\" + (bytes([byte]) if byte in (0x22, 0x5C) else b"%03d" % byte)


def _quote(data):
    """One character-string in zone-file syntax: quotes, backslashes and non-ASCII escaped."""
    return '"' + _ESCAPE.sub(_escape, data).decode("ascii") + '"'


def _rdata(rtype, value, priority, caa_flags, caa_tag):
    if rtype == T.A or rtype == T.AAAA:
        return value
    if rtype == T.CNAME or rtype == T.NS:
        return value + "."
    if rtype == T.MX:
        return f"{priority} {value}."
    if rtype == T.TXT:
        data = value.encode("utf-8")
        if len(data) <= TXT_STRING_OCTETS:
            return _quote(data)
        return " ".join([_quote(chunk) for chunk in txt_strings(value)])
    if rtype == T.CAA:
        return f"{caa_flags} {caa_tag} {_quote(value.encode('ascii'))}"
    raise ValueError(f"未知的记录类型：{rtype}")


def _domain_lines(alabel, zone, rows, forwarding_addresses):
    """The zone lines of one domain from its effective records (host, rtype, value, ttl, …).

    Owners are relative to ``$ORIGIN <zone>.``; record values are absolute names.
    """
    ns = [r for r in rows if r[1] == T.NS and r[0] == "@"]
    if len(ns) >= settings.DNS_MIN_DELEGATION_NS:
        # Delegated: only the NS set, and the glue of name servers that lie inside the name.
        suffix = f".{alabel}.{zone}"
        inside = {r[2][: -len(suffix)] for r in ns if r[2].endswith(suffix)}
        rows = ns + [r for r in rows if r[1] in (T.A, T.AAAA) and r[0] in inside]
    elif any(r[1] == T.NS for r in rows):
        rows = [r for r in rows if r[1] != T.NS]
    # One TTL per RRset (RFC 2181 §5.2): the smallest asked for.
    ttls = {}
    for host, rtype, _value, ttl, *_ in rows:
        key = (host, rtype)
        if ttl < ttls.get(key, ttl + 1):
            ttls[key] = ttl
    lines = []
    for host, rtype, value, _ttl, priority, caa_flags, caa_tag in rows:
        owner = alabel if host == "@" else f"{host}.{alabel}"
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


def _record_rows(suffix, today):
    """Effective records of the zone's domains, domain by domain, as plain tuples, streamed.

    On PostgreSQL the iterator reads through a server-side cursor, ``CHUNK`` rows at a time.
    """
    return (
        DnsRecord.objects.effective()
        .filter(in_zone_domains(suffix, today))
        .order_by("domain_id", "id")
        .values_list("domain_id", "domain__alabel", "host", "rtype", "value", "ttl", "priority", "caa_flags", "caa_tag")
        .iterator(chunk_size=CHUNK)
    )


HOSTED_HOSTS = ("@", "www")
WEB_TYPES = (T.A, T.AAAA, T.CNAME, T.URL)


def _hosted_rows(batch):
    """A hosted site's @ and www, as URL转发-like rows (→ the service's addresses), where the
    unit has no address, alias or forwarding of its own there."""
    taken = {record[0] for record in batch if record[1] in WEB_TYPES}
    return [[host, T.URL, "", settings.DNS_TTL_MIN, None, None, ""] for host in HOSTED_HOSTS if host not in taken]


def hosted_domains(suffix, today):
    """{domain id: A-label} of in-zone domains whose site (a 网络红页) this system serves."""
    ids = set()
    for provider in hooks.hosted_domain_ids:
        ids.update(provider(suffix))
    if not ids:
        return {}
    in_zone = Domain.objects.filter(pk__in=ids, suffix=suffix).filter(
        Q(status=DomainStatus.ACTIVE)
        | Q(status=DomainStatus.EXPIRED, expires_on__gte=today - timedelta(days=settings.DNS_EXPIRY_GRACE_DAYS))
    )
    return dict(in_zone.values_list("pk", "alabel"))


def write_zone(handle, zone, suffix, serial, today):
    """Stream the zone into ``handle`` (inside a transaction); returns the number of records written."""
    header = _header(zone, serial)
    handle.writelines(header)
    count = sum(1 for line in header if not line.startswith("$"))
    forwarding_addresses = list(settings.DNS_FORWARDING_ADDRESSES)
    hosted = hosted_domains(suffix, today)
    current, alabel, batch = None, None, []
    out = []

    def flush():
        if current in hosted:
            batch.extend(_hosted_rows(batch))
            del hosted[current]
        return _domain_lines(alabel, zone, batch, forwarding_addresses)

    for domain_id, domain_alabel, *record in _record_rows(suffix, today):
        if domain_id != current:
            if batch:
                out += flush()
                if len(out) >= CHUNK:
                    handle.writelines(out)
                    count += len(out)
                    out = []
            current, alabel, batch = domain_id, domain_alabel, []
        batch.append(record)
    if batch:
        out += flush()
    # Hosted domains with no records of their own.
    for domain_alabel in hosted.values():
        out += _domain_lines(domain_alabel, zone, _hosted_rows([]), forwarding_addresses)
    handle.writelines(out)
    return count + len(out)


# --- Checking ----------------------------------------------------------------------------


class _CheckManager(dns.transaction.TransactionManager):
    """Receives a parsed zone file and keeps nothing but counts: memory stays flat."""

    def __init__(self, origin):
        self.origin = origin
        self.records = 0
        self.soa = 0

    def reader(self):  # pragma: no cover - never read back
        raise NotImplementedError

    def writer(self, replacement=False):
        return _CheckTransaction(self, replacement, False)

    def get_class(self):
        return dns.rdataclass.IN

    def origin_information(self):
        return (self.origin, False, self.origin)


class _CheckTransaction(dns.transaction.Transaction):
    def _get_rdataset(self, name, rdtype, covers):
        return None

    def _put_rdataset(self, name, rdataset):
        self.manager.records += len(rdataset)
        if rdataset.rdtype == dns.rdatatype.SOA:
            self.manager.soa += 1

    def _delete_name(self, name):
        pass

    def _delete_rdataset(self, name, rdtype, covers):
        pass

    def _name_exists(self, name):
        return False

    def _changed(self):
        return True

    def _end_transaction(self, commit):
        pass

    def _set_origin(self, origin):
        pass

    def _iterate_rdatasets(self):
        return iter(())

    def _iterate_names(self):
        return iter(())

    def _get_node(self, name):
        return None


def parse_zone_file(zone, path):
    """Parse every line and rdata of the file with dnspython, keeping nothing; returns the record count."""
    origin = dns.name.from_text(zone + ".")
    manager = _CheckManager(origin)
    try:
        with open(path, encoding="ascii") as handle, manager.writer(True) as txn:
            tokenizer = dns.tokenizer.Tokenizer(handle, str(path))
            dns.zonefile.Reader(tokenizer, dns.rdataclass.IN, txn, allow_include=False).read()
    except (dns.exception.DNSException, UnicodeDecodeError, ValueError) as exc:
        raise PublishError(f"区域文件解析失败：{exc}") from None
    if manager.soa != 1:
        raise PublishError("区域文件缺少SOA记录。" if not manager.soa else "区域文件有多条SOA记录。")
    return manager.records


def parse_check_wanted(checkzone):
    """Whether dnspython parses the file too: always without nsd-checkzone, and when configured.

    ``DNS_PARSE_CHECK = "auto"`` (the default) parses only when nsd-checkzone is missing:
    nsd-checkzone is the server's own parser and reads a million records in about a
    second, where dnspython needs about 75 µs a record (over a minute). ``"always"``
    runs both, side by side.
    """
    return not checkzone or getattr(settings, "DNS_PARSE_CHECK", "auto") == "always"


def check_zone_file(zone, path, timings=None):
    """``nsd-checkzone`` (when installed) and/or a dnspython parse, side by side; raises PublishError."""
    timings = {} if timings is None else timings
    started = time.perf_counter()
    checkzone = settings.DNS_CHECKZONE or find_program("nsd-checkzone")
    process, outcome = None, {}
    if checkzone:
        try:
            process = subprocess.Popen(  # noqa: S603  # nosec B603: fixed argv, no shell
                [checkzone, zone + ".", str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise PublishError(f"无法运行 nsd-checkzone（{checkzone}）：{exc}") from None

        def wait():
            try:
                outcome["output"], _ = process.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                process.kill()
                outcome["output"], _ = process.communicate()
                outcome["timeout"] = True
            outcome["seconds"] = time.perf_counter() - started

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
    parse_error = None
    if parse_check_wanted(checkzone):
        try:
            parse_zone_file(zone, path)
        except PublishError as exc:
            parse_error = exc
        timings["parse"] = time.perf_counter() - started
    if process is not None:
        waiter.join()
        timings["checkzone"] = outcome["seconds"]
        if outcome.get("timeout"):
            raise PublishError("nsd-checkzone 检查超时。")
        if process.returncode != 0:
            raise PublishError(f"nsd-checkzone 检查未通过：{outcome['output'].strip()[:2000]}")
    timings["check"] = time.perf_counter() - started
    if parse_error is not None:
        raise parse_error


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
    output = (done.stderr or done.stdout).strip()
    # nsd-control exits 0 but says "error …" when NSD refuses (an unknown zone, for one).
    if done.returncode != 0 or output.startswith("error"):
        raise PublishError(f"nsd-control reload 失败：{output[:1000]}")
    return True


def publish(suffix, *, today=None, now=None):
    """Write, check and install the zone of ``suffix``; raises PublishError (last good zone kept)."""
    zone = SUFFIXES[suffix]
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    started = time.perf_counter()
    timings = {}
    state, _ = ZoneState.objects.get_or_create(zone=zone)
    with _publish_lock(zone):
        # Read under the lock and before the records' snapshot: every change counted here
        # committed before the snapshot, so it is in the file.
        state.refresh_from_db()
        wanted = state.requested
        serial = next_serial(state.serial, today)
        final = zone_path(zone)
        temporary = final.with_name(f"{final.name}.new")
        installed = False
        try:
            with open(temporary, "w", encoding="ascii", newline="\n", buffering=WRITE_BUFFER) as handle:
                with transaction.atomic():
                    count = write_zone(handle, zone, suffix, serial, today)
                handle.flush()
                os.fsync(handle.fileno())
            timings["write"] = time.perf_counter() - started
            check_zone_file(zone, temporary, timings)
            os.replace(temporary, final)
            installed = True
            reload_started = time.perf_counter()
            reloaded = nsd_reload(zone)
            timings["reload"] = time.perf_counter() - reload_started
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the last good zone stays
            temporary.unlink(missing_ok=True)
            message = _error_message(exc)
            _failed(state, serial, message, now, installed=installed)
            raise PublishError(message) from exc
        ZoneState.objects.filter(pk=state.pk).update(
            serial=serial,
            published=wanted,
            published_at=now,
            record_count=count,
            last_error="",
            failed_at=None,
        )
    seconds = time.perf_counter() - started
    log.info("published zone %s serial %s (%s records, %.1f s)", zone, serial, count, seconds)
    return Result(
        zone=zone, serial=serial, records=count, path=final, reloaded=reloaded, seconds=seconds, timings=timings
    )


def _error_message(exc):
    if isinstance(exc, PublishError):
        return str(exc)
    if isinstance(exc, UnicodeError):
        return f"区域文件写入失败：记录中含有非ASCII字符（{exc}）。"
    if isinstance(exc, OSError):
        return f"区域文件写入失败：{exc}"
    return f"区域文件生成失败：{type(exc).__name__}: {exc}"


def _failed(state, serial, message, now, *, installed=False):
    log.error("zone %s serial %s not published: %s", state.zone, serial, message)
    changes = {"last_error": message[:4000], "failed_at": now}
    if installed:
        # The file is in place (only the reload failed): its serial must not be used again.
        changes["serial"] = serial
    ZoneState.objects.filter(pk=state.pk).update(**changes)
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


def is_dirty(zone):
    state, _ = ZoneState.objects.get_or_create(zone=zone)
    return state.published_at is None or state.requested > state.published or not zone_path(zone).exists()


def publish_dirty(*, today=None, suffixes=None, force=False):
    """Publish every zone with changes not yet published (and any never published).

    ``suffixes`` limits the zones; ``force`` publishes them even when nothing changed.
    Raises PublishError naming every zone that failed, after trying all of them.
    """
    results, errors = [], []
    for suffix, zone in SUFFIXES.items():
        if suffixes is not None and suffix not in suffixes:
            continue
        if not force and not is_dirty(zone):
            continue
        try:
            results.append(publish(suffix, today=today))
        except PublishError as exc:
            errors.append(f"{zone}: {exc}")
    if errors:
        error = PublishError("；".join(errors))
        error.results = results  # the zones that did publish
        raise error
    return results
