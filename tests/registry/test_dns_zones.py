"""The zone publisher, its trigger, the NSD configuration, and a real NSD serving the zones.

Records are created straight in the database (or, for some, through 添加记录 and CONAC's
审核通过); each test publishes into its own folder (the autouse ``_dns_isolation``).
The NSD tests start ``nsd`` on 127.0.0.1 on a free port with the generated
configuration and ask it with dnspython; the fixture stops it whatever happens.
"""

import time
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.zone
import idna
import pytest
from django.core.management import CommandError, call_command

from conac.models import Notice
from registry.dns import nsd, publishing, services, zones
from registry.dns.models import DnsRecord, ZoneState
from review import services as review
from tests import factories

SUFFIX = ".政务"
ZONE = "xn--zfr164b"
TODAY = date.today()
LONG_TXT = "v=DKIM1; k=rsa; 政务公益域名注册管理中心 p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 8


@pytest.fixture
def domain(unit):
    return factories.make_domain(unit, "海淀测试局", status="active", expires_on=TODAY + timedelta(days=300))


def fqdn(domain, host="@"):
    base = f"{domain.alabel}.{ZONE}."
    return base if host == "@" else f"{host}.{base}"


def rec(domain, host, rtype, value, ttl=600, **extra):
    """An effective record straight in the database (no field rules: a test may plant a bad one)."""
    return DnsRecord.objects.create(domain=domain, host=host, rtype=rtype, value=value, ttl=ttl, **extra)


def published():
    """The published zone file, read back with dnspython: {(owner, type): rdataset}."""
    zone = dns.zone.from_file(str(zones.zone_path(ZONE)), origin=ZONE + ".", relativize=False)
    return {
        (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype)): rdataset
        for name, rdataset in zone.iterate_rdatasets()
    }


def owners():
    return {owner for owner, _ in published()}


def eventually(check, timeout=10.0):
    """Poll ``check`` until it returns a true value (NSD reloads in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


# --- What goes into the zone ----------------------------------------------------------


def test_serial_always_increases(domain):
    rec(domain, "www", "A", "1.2.3.4")
    day1, day2 = date(2026, 3, 1), date(2026, 3, 2)

    first = zones.publish(SUFFIX, today=day1)
    again = zones.publish(SUFFIX, today=day1)
    next_day = zones.publish(SUFFIX, today=day2)
    clock_back = zones.publish(SUFFIX, today=day1)

    assert first.serial == 2026030100
    assert again.serial == 2026030101
    assert next_day.serial == 2026030200
    assert clock_back.serial == 2026030201
    assert ZoneState.objects.get(zone=ZONE).serial == 2026030201
    soa = published()[(f"{ZONE}.", "SOA")]
    assert soa[0].serial == 2026030201
    # 100 publishes in a day run into the next day's numbers, and still never go back.
    assert zones.next_serial(2026030199, day1) == 2026030200
    assert zones.next_serial(2026030299, day2) == 2026030300


def test_expiry_grace_and_deleted_domains(unit, settings):
    settings.DNS_EXPIRY_GRACE_DAYS = 30
    active = factories.make_domain(unit, "在用局", status="active", expires_on=TODAY + timedelta(days=10))
    in_grace = factories.make_domain(unit, "宽限局", status="expired", expires_on=TODAY - timedelta(days=30))
    past_grace = factories.make_domain(unit, "过期局", status="expired", expires_on=TODAY - timedelta(days=31))
    deleted = factories.make_domain(unit, "删除局", status="deleted", expires_on=TODAY + timedelta(days=100))
    pending = factories.make_domain(unit, "待审局", status="pending_local")
    for d in (active, in_grace, past_grace, deleted, pending):
        rec(d, "www", "A", "1.2.3.4")

    result = zones.publish(SUFFIX, today=TODAY)

    names = owners()
    assert fqdn(active, "www") in names
    assert fqdn(in_grace, "www") in names
    assert fqdn(past_grace, "www") not in names
    assert fqdn(deleted, "www") not in names
    assert fqdn(pending, "www") not in names
    assert result.records == 2 + 1 + 2  # SOA, NS×2 and the two domains' records
    # A day later the domain in grace falls out too.
    zones.publish(SUFFIX, today=TODAY + timedelta(days=1))
    assert fqdn(in_grace, "www") not in owners()


def test_removed_records_are_not_published(domain):
    rec(domain, "www", "A", "1.2.3.4")
    gone = rec(domain, "old", "A", "1.2.3.5")
    gone.removed_at = gone.created_at
    gone.save()

    zones.publish(SUFFIX)

    assert fqdn(domain, "www") in owners()
    assert fqdn(domain, "old") not in owners()


def test_delegated_domain_publishes_only_ns_and_glue(unit, domain):
    apex = f"{domain.alabel}.{ZONE}"
    rec(domain, "@", "NS", f"ns1.{apex}")
    rec(domain, "@", "NS", "ns.example.net")
    rec(domain, "ns1", "A", "1.2.3.53")
    rec(domain, "ns1", "AAAA", "2400:3200::53")
    rec(domain, "www", "A", "1.2.3.4")
    rec(domain, "@", "MX", "mail.example.cn", priority=10)
    rec(domain, "@", "TXT", "v=spf1 -all")
    # One NS is not a delegation: it is left out and the domain's own records are published.
    single = factories.make_domain(unit, "单NS局", status="active", expires_on=TODAY + timedelta(days=30))
    rec(single, "@", "NS", "ns.example.net")
    rec(single, "www", "A", "1.2.3.6")

    zones.publish(SUFFIX)

    rrsets = published()
    assert {r.target.to_text() for r in rrsets[(fqdn(domain), "NS")]} == {f"ns1.{apex}.", "ns.example.net."}
    assert rrsets[(fqdn(domain, "ns1"), "A")][0].address == "1.2.3.53"
    assert rrsets[(fqdn(domain, "ns1"), "AAAA")][0].address == "2400:3200::53"
    mine = {key for key in rrsets if key[0].endswith(fqdn(domain))}
    assert mine == {(fqdn(domain), "NS"), (fqdn(domain, "ns1"), "A"), (fqdn(domain, "ns1"), "AAAA")}
    assert (fqdn(single), "NS") not in rrsets
    assert (fqdn(single, "www"), "A") in rrsets


def test_one_ttl_per_rrset_and_txt_split_into_strings(domain):
    rec(domain, "www", "A", "1.2.3.4", ttl=3600)
    rec(domain, "www", "A", "1.2.3.5", ttl=600)
    rec(domain, "@", "TXT", LONG_TXT)
    rec(domain, "@", "TXT", 'quote " and backslash \\')

    zones.publish(SUFFIX)

    rrsets = published()
    assert rrsets[(fqdn(domain, "www"), "A")].ttl == 600
    texts = {b"".join(r.strings).decode("utf-8"): r.strings for r in rrsets[(fqdn(domain), "TXT")]}
    assert set(texts) == {LONG_TXT, 'quote " and backslash \\'}
    strings = texts[LONG_TXT]
    assert len(LONG_TXT.encode()) > 255 and len(strings) > 1
    assert all(len(s) <= 255 for s in strings)
    assert all(s.decode("utf-8") for s in strings)  # split between characters, never inside one


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"host": "www", "rtype": "A", "value": "not-an-ip"}, "nsd-checkzone"),
        ({"host": "www", "rtype": "CNAME", "value": "bad name.example.cn"}, "nsd-checkzone"),
        ({"host": "@", "rtype": "MX", "value": "mail.example.cn", "priority": None}, "nsd-checkzone"),
        ({"host": "邮件", "rtype": "A", "value": "1.2.3.4"}, "非ASCII"),
        ({"host": "@", "rtype": "CAA", "value": "证书.cn", "caa_flags": 0, "caa_tag": "issue"}, "非ASCII"),
    ],
)
def test_a_broken_record_never_replaces_the_zone(domain, conac_user, settings, fields, error):
    settings.DNS_ALERT_EMAILS = ["noc@conac.cn"]
    conac_user.email = "dns@conac.cn"
    conac_user.save()
    rec(domain, "www1", "A", "1.2.3.4")
    good = zones.publish(SUFFIX)
    before = good.path.read_bytes()
    DnsRecord.objects.filter(pk=rec(domain, "x", "A", "1.2.3.4").pk).update(ttl=600, **fields)
    publishing.zone_changed(SUFFIX)

    with pytest.raises(zones.PublishError) as caught:
        zones.publish(SUFFIX)

    assert error in str(caught.value)
    assert good.path.read_bytes() == before
    assert not list(good.path.parent.glob("*.new"))
    state = ZoneState.objects.get(zone=ZONE)
    assert error in state.last_error and state.failed_at is not None
    assert state.serial == good.serial  # the failed serial is used by the next good publish
    assert zones.is_dirty(ZONE)
    alerts = Notice.objects.filter(template="zone_publish_failed")
    assert {n.recipient for n in alerts} == {"dns@conac.cn", "noc@conac.cn"}
    assert all(ZONE in n.subject and error in n.body for n in alerts)


def test_dnspython_parse_check(domain, settings, tmp_path):
    rec(domain, "www", "A", "1.2.3.4")
    settings.DNS_PARSE_CHECK = "always"
    result = zones.publish(SUFFIX)
    assert {"write", "checkzone", "parse", "check"} <= set(result.timings)
    assert zones.parse_zone_file(ZONE, result.path) == result.records

    bad = tmp_path / "bad.zone"
    bad.write_text(result.path.read_text() + f"www2.{domain.alabel} 600 IN A 300.1.1.1\n")
    with pytest.raises(zones.PublishError, match="解析失败"):
        zones.parse_zone_file(ZONE, bad)
    no_soa = tmp_path / "nosoa.zone"
    no_soa.write_text(f"$ORIGIN {ZONE}.\nwww 600 IN A 1.2.3.4\n")
    with pytest.raises(zones.PublishError, match="缺少SOA"):
        zones.parse_zone_file(ZONE, no_soa)
    # Without nsd-checkzone the dnspython parse is the check.
    assert zones.parse_check_wanted(None)
    settings.DNS_PARSE_CHECK = "auto"
    assert not zones.parse_check_wanted("/usr/sbin/nsd-checkzone")


# --- When zones are published -----------------------------------------------------------


def test_a_burst_of_approvals_queues_one_publish(
    domain, unit_user, conac_user, settings, django_capture_on_commit_callbacks
):
    changes = [
        services.request_add(domain, actor=unit_user, host=f"h{i}", rtype="A", value=f"1.2.3.{i + 1}") for i in range(4)
    ]
    with mock.patch("registry.tasks.publish_zones.apply_async") as apply_async:
        for change in changes[:3]:
            with django_capture_on_commit_callbacks(execute=True):
                review.approve(change, actor=conac_user)
        apply_async.assert_called_once_with(countdown=settings.DNS_PUBLISH_DELAY)
        state = ZoneState.objects.get(zone=ZONE)
        assert state.requested == 3 and state.published == 0

        # Once the task starts, the next approval schedules the next publish.
        publishing.start_publishing()
        with django_capture_on_commit_callbacks(execute=True):
            review.approve(changes[3], actor=conac_user)
        assert apply_async.call_count == 2


def test_the_task_publishes_dirty_zones_only(domain, settings):
    from registry.tasks import publish_zones

    rec(domain, "www", "A", "1.2.3.4")
    assert publish_zones() == {ZONE: zones.next_serial(0, TODAY), "xn--55qw42g": zones.next_serial(0, TODAY)}
    assert publish_zones() == {}  # nothing changed
    publishing.zone_changed(SUFFIX)
    assert list(publish_zones()) == [ZONE]
    state = ZoneState.objects.get(zone=ZONE)
    assert state.published == state.requested == 1 and state.record_count == 4


def test_publish_zones_command(domain):
    rec(domain, "www", "A", "1.2.3.4")
    out = StringIO()
    call_command("publish_zones", "--force", stdout=out)
    text = out.getvalue()
    serial = ZoneState.objects.get(zone=ZONE).serial
    assert f"{ZONE}: 序列号 {serial}，记录 4 条" in text
    assert str(zones.zone_path(ZONE)) in text and "xn--55qw42g" in text

    out = StringIO()
    call_command("publish_zones", stdout=out)
    assert "没有需要发布的区域" in out.getvalue()

    out = StringIO()
    call_command("publish_zones", "--force", "--suffix", ".政务", stdout=out)
    assert f"序列号 {serial + 1}" in out.getvalue() and "xn--55qw42g" not in out.getvalue()

    DnsRecord.objects.filter(pk=rec(domain, "bad", "A", "1.2.3.4").pk).update(value="1.2.3")
    with pytest.raises(CommandError, match="区域发布失败：xn--zfr164b: nsd-checkzone 检查未通过"):
        call_command("publish_zones", "--force", "--suffix", "政务", stdout=StringIO())
    with pytest.raises(CommandError, match="没有后缀"):
        call_command("publish_zones", "--suffix", ".中国", stdout=StringIO())


def test_nsd_config_command(settings, tmp_path):
    settings.DNS_SECONDARIES = ["192.0.2.53", "2001:db8::53@5300"]
    out = StringIO()
    path = tmp_path / "etc" / "nsd.conf"
    call_command("nsd_config", "--output", str(path), "--port", "5399", "--ip", "127.0.0.1", "--ip", "::1", stdout=out)
    text = path.read_text()
    zonesdir = Path(settings.DNS_ZONE_DIR).resolve()
    assert f'zonesdir: "{zonesdir}"' in text
    assert "port: 5399" in text and "ip-address: 127.0.0.1" in text and "ip-address: ::1" in text
    assert f'control-interface: "{path.parent.resolve()}/nsd.ctl"' in text
    assert 'name: "xn--zfr164b."' in text and 'zonefile: "xn--zfr164b.zone"' in text
    assert 'name: "xn--55qw42g."' in text and 'zonefile: "xn--55qw42g.zone"' in text
    assert "provide-xfr: 192.0.2.53 NOKEY" in text and "provide-xfr: 2001:db8::53 NOKEY" in text
    assert "notify: 192.0.2.53 NOKEY" in text and "notify: 2001:db8::53@5300 NOKEY" in text
    assert text.count("provide-xfr:") == 2  # only the configured secondaries, not even 127.0.0.1
    assert "尚未发布" in out.getvalue() and "DNS_NSD_CONFIG=" in out.getvalue()

    settings.DNS_SECONDARIES = ["ns2.example.cn"]
    with pytest.raises(CommandError, match="不是有效的IP地址"):
        call_command("nsd_config", "--output", str(path), stdout=StringIO())


# --- A real NSD -------------------------------------------------------------------------


@pytest.fixture
def name_server(settings, tmp_path):
    """Start NSD (after the test has published) with the generated configuration; always stopped.

    127.0.0.1 is the configured secondary, so the test may take an AXFR. Once started,
    every publish reloads the zone through ``nsd-control`` over the unix socket.
    """
    settings.DNS_SECONDARIES = ["127.0.0.1"]
    port = nsd.free_port()
    config = nsd.write_config(tmp_path / "nsd" / "nsd.conf", port=port)
    server = nsd.NsdServer(config, port=port)

    def start():
        server.start()
        settings.DNS_NSD_CONTROL = nsd.find_program("nsd-control")
        settings.DNS_NSD_CONFIG = str(config)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = port
        resolver.lifetime = 3
        server.resolver = resolver
        return server

    try:
        yield start
    finally:
        server.stop()


def answer(server, name, rtype):
    """The rdatas NSD answers, or the error's name (NXDOMAIN, NoAnswer)."""
    try:
        return server.resolver.resolve(name, rtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as exc:
        return type(exc).__name__


def ask(server, name, rtype):
    return dns.query.udp(dns.message.make_query(name, rtype), "127.0.0.1", port=server.port, timeout=3)


def serving_serial(server):
    return server.resolver.resolve(f"{ZONE}.", "SOA")[0].serial


def test_nsd_serves_the_published_zone(unit, domain, unit_user, conac_user, settings, name_server):
    settings.DNS_FORWARDING_ADDRESSES = ["203.0.113.80", "2001:db8::80"]
    mail = idna.encode("邮件").decode()
    rec(domain, "@", "A", "36.110.1.1")
    rec(domain, "www", "AAAA", "2400:3200::1")
    rec(domain, "@", "MX", "mail.example.cn", priority=10)
    rec(domain, "@", "MX", "mx2.example.cn", priority=20)
    rec(domain, "@", "TXT", LONG_TXT)
    rec(domain, "@", "CAA", "letsencrypt.org", caa_flags=0, caa_tag="issue")
    rec(domain, mail, "A", "36.110.1.25")
    rec(domain, "go", "URL", "https://www.example.gov.cn/", redirect_code=301)
    # One record the normal way: 添加记录 by the unit, 审核通过 by CONAC.
    change = services.request_add(domain, actor=unit_user, host="api", rtype="A", value="36.110.1.8")
    review.approve(change, actor=conac_user)
    delegated = factories.make_domain(unit, "委派测试局", status="active", expires_on=TODAY + timedelta(days=300))
    apex = f"{delegated.alabel}.{ZONE}"
    rec(delegated, "@", "NS", f"ns1.{apex}")
    rec(delegated, "@", "NS", f"ns2.{apex}")
    rec(delegated, "ns1", "A", "36.110.2.1")
    rec(delegated, "ns2", "A", "36.110.2.2")
    rec(delegated, "www", "A", "36.110.2.80")  # beneath the cut: not published

    results = zones.publish_dirty()
    assert {r.zone for r in results} == {ZONE, "xn--55qw42g"}
    server = name_server()

    assert [r.address for r in answer(server, fqdn(domain), "A")] == ["36.110.1.1"]
    assert [r.address for r in answer(server, fqdn(domain, "www"), "AAAA")] == ["2400:3200::1"]
    assert [r.address for r in answer(server, fqdn(domain, "api"), "A")] == ["36.110.1.8"]
    mx = sorted((r.preference, r.exchange.to_text()) for r in answer(server, fqdn(domain), "MX"))
    assert mx == [(10, "mail.example.cn."), (20, "mx2.example.cn.")]
    txt = answer(server, fqdn(domain), "TXT")[0]
    assert len(txt.strings) > 1 and b"".join(txt.strings).decode("utf-8") == LONG_TXT
    caa = answer(server, fqdn(domain), "CAA")[0]
    assert (caa.flags, caa.tag, caa.value) == (0, b"issue", b"letsencrypt.org")
    # The IDN host, asked for in Unicode (dnspython encodes it) and as its A-label.
    assert [r.address for r in answer(server, f"邮件.{domain.alabel}.{ZONE}.", "A")] == ["36.110.1.25"]
    assert answer(server, fqdn(domain, mail), "A")[0].address == "36.110.1.25"
    # URL转发: the forwarding service's addresses.
    assert [r.address for r in answer(server, fqdn(domain, "go"), "A")] == ["203.0.113.80"]
    assert [r.address for r in answer(server, fqdn(domain, "go"), "AAAA")] == ["2001:db8::80"]

    # The delegation: a referral (not authoritative) to the two name servers, with their glue.
    for name in (f"www.{apex}.", f"{apex}."):
        referral = ask(server, name, "A")
        assert referral.rcode() == dns.rcode.NOERROR and not referral.answer
        assert not referral.flags & dns.flags.AA
        ns = referral.find_rrset(referral.authority, dns.name.from_text(apex + "."), 1, dns.rdatatype.NS)
        assert {r.target.to_text() for r in ns} == {f"ns1.{apex}.", f"ns2.{apex}."}
        glue = {rrset.name.to_text(): [r.address for r in rrset] for rrset in referral.additional}
        assert glue == {f"ns1.{apex}.": ["36.110.2.1"], f"ns2.{apex}.": ["36.110.2.2"]}

    # A zone transfer by the configured secondary (127.0.0.1): the whole published zone.
    transferred = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", ZONE + ".", port=server.port, timeout=5))
    assert transferred.get_soa().serial == ZoneState.objects.get(zone=ZONE).serial == serving_serial(server)
    names = {name.derelativize(transferred.origin).to_text() for name in transferred.nodes}
    assert {fqdn(domain), fqdn(domain, "www"), fqdn(domain, mail), f"ns1.{apex}."} <= names
    assert f"www.{apex}." not in names
    assert sum(len(rdataset) for _, rdataset in transferred.iterate_rdatasets()) == results[0].records


def test_nsd_keeps_the_last_good_zone_and_drops_deleted_records(domain, unit_user, conac_user, settings, name_server):
    conac_user.email = "dns@conac.cn"
    conac_user.save()
    keep = rec(domain, "www", "A", "36.110.1.1")
    old = rec(domain, "old", "A", "36.110.1.2")
    good = zones.publish(SUFFIX)
    server = name_server()
    assert answer(server, fqdn(domain, "old"), "A")[0].address == "36.110.1.2"

    # A record that cannot be published: the check fails, NSD keeps answering from the last good zone.
    broken = rec(domain, "broken", "A", "36.110.1.3")
    DnsRecord.objects.filter(pk=broken.pk).update(value="36.110.1")
    publishing.zone_changed(SUFFIX)
    with pytest.raises(zones.PublishError, match="nsd-checkzone 检查未通过"):
        zones.publish(SUFFIX)
    state = ZoneState.objects.get(zone=ZONE)
    assert "nsd-checkzone" in state.last_error and state.failed_at is not None
    assert Notice.objects.filter(template="zone_publish_failed", recipient="dns@conac.cn").count() == 1
    assert serving_serial(server) == good.serial
    assert answer(server, fqdn(domain, "www"), "A")[0].address == "36.110.1.1"
    assert answer(server, fqdn(domain, "broken"), "A") == "NXDOMAIN"

    # 删除 approved: the record leaves the zone; the publish reloads NSD through nsd-control.
    broken.delete()
    deletion = services.request_delete(old, actor=unit_user)
    review.approve(deletion, actor=conac_user)
    assert DnsRecord.objects.get(pk=old.pk).removed_at is not None
    result = zones.publish(SUFFIX)
    assert result.reloaded and result.serial == good.serial + 1
    assert ZoneState.objects.get(zone=ZONE).last_error == ""
    assert eventually(lambda: serving_serial(server) == result.serial)
    assert answer(server, fqdn(domain, "old"), "A") == "NXDOMAIN"
    assert answer(server, fqdn(domain, "www"), "A")[0].address == keep.value
    # The name still exists with other data: asking it for a type it lacks gives NODATA.
    assert answer(server, fqdn(domain, "www"), "AAAA") == "NoAnswer"


def test_a_failed_reload_keeps_the_zone_dirty(domain, settings, tmp_path):
    rec(domain, "www", "A", "1.2.3.4")
    settings.DNS_NSD_CONTROL = nsd.find_program("nsd-control")
    settings.DNS_NSD_CONFIG = str(nsd.write_config(tmp_path / "stopped" / "nsd.conf", port=nsd.free_port()))

    with pytest.raises(zones.PublishError, match="nsd-control reload 失败"):
        zones.publish(SUFFIX)  # no NSD is running on that configuration

    state = ZoneState.objects.get(zone=ZONE)
    assert "nsd-control" in state.last_error
    assert zones.zone_path(ZONE).exists()  # the checked file is installed: NSD loads it when it starts
    assert state.serial == zones.next_serial(0, TODAY)  # and its serial is not used again
    assert zones.is_dirty(ZONE)
