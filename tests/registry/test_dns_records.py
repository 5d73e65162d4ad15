"""DNS records (域名解析): the field rules, the rules between records, and 解析审核 by CONAC alone.

Every refusal is a ``ValidationError`` keyed by the form field (or a ``DnsError`` for the
request as a whole) with a Chinese message, and stores nothing: no change, no record, no
audit entry, no notice.
"""

import re
from datetime import date, timedelta

import idna
import pytest
from django.core.exceptions import ValidationError

from conac.audit import history_of
from conac.models import AuditEntry, Notice
from registry.dns import services, values
from registry.models import ChangeAction, ChangeStatus, DnsChange, DnsRecord, DomainStatus
from review import services as review
from review.models import Decision, Tier
from tests import factories

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ZONE = "xn--zfr164b"  # .政务


@pytest.fixture
def domain(unit):
    return factories.make_domain(unit, "海淀测试局", status="active", expires_on=date.today() + timedelta(days=300))


@pytest.fixture
def apex(domain):
    """The domain's own name in A-labels, as stored in record values."""
    return f"{domain.alabel}.{ZONE}"


def snapshot():
    return {
        "changes": DnsChange.objects.count(),
        "pending": DnsChange.objects.pending().count(),
        "records": DnsRecord.objects.count(),
        "effective": DnsRecord.objects.effective().count(),
        "audit": AuditEntry.objects.count(),
        "notices": Notice.objects.count(),
        "decisions": Decision.objects.count(),
    }


def refused(call, field):
    """``call`` raises a ValidationError on ``field`` with a Chinese message and stores nothing."""
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        call()
    errors = caught.value.message_dict
    assert list(errors) == [field], errors
    message = " ".join(errors[field])
    assert CHINESE.search(message), message
    assert snapshot() == before
    return message


def refused_whole(call, error=services.DnsError):
    """``call`` raises ``error`` (a whole-request refusal) with a Chinese message and stores nothing."""
    before = snapshot()
    with pytest.raises(error) as caught:
        call()
    assert CHINESE.search(str(caught.value)), str(caught.value)
    assert snapshot() == before
    return str(caught.value)


def add(domain, actor, host="www", rtype="A", value="1.2.3.4", **extra):
    return services.request_add(domain, actor=actor, host=host, rtype=rtype, value=value, **extra)


def live(domain, actor, conac, **fields):
    """A record made effective the normal way: 添加记录, then CONAC's 审核通过."""
    change = add(domain, actor, **fields)
    review.approve(change, actor=conac)
    change.refresh_from_db()
    return change.record


# --- 主机记录 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("@", "@", "@"),
        ("www", "www", "www"),
        ("*", "*", "*"),
        ("*.cdn", "*.cdn", "*.cdn"),
        ("WWW.", "www", "www"),
        ("a.b-c.d1", "a.b-c.d1", "a.b-c.d1"),
        ("_dmarc", "_dmarc", "_dmarc"),
        ("_acme-challenge.www", "_acme-challenge.www", "_acme-challenge.www"),
        ("邮件", "xn--5nq051n", "邮件"),
        ("邮件。办公", "xn--5nq051n." + idna.encode("办公").decode(), "邮件.办公"),
    ],
)
def test_host_accepts_at_www_wildcard_labels_service_labels_and_idn(domain, unit_user, typed, stored, shown):
    change = add(domain, unit_user, host=typed, rtype="TXT", value="v=test")
    assert change.host == stored
    assert change.host_display == shown


@pytest.mark.parametrize(
    "typed", ["-bad", "bad-", "a..b", "a b", "ex_ample", "www.*", "a/b", "xn--zz", "a" * 64, "", "   ", "@.www"]
)
def test_host_refuses_bad_labels(domain, unit_user, typed):
    refused(lambda: add(domain, unit_user, host=typed), "host")


# --- A / AAAA -----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [("1.2.3.4", "1.2.3.4"), (" 8.8.8.8 ", "8.8.8.8")])
def test_a_accepts_a_public_ipv4_address(domain, unit_user, typed, stored):
    assert add(domain, unit_user, value=typed).value == stored


@pytest.mark.parametrize(
    "typed",
    [
        "10.0.0.1",  # private
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",  # loopback
        "169.254.1.1",  # link-local
        "100.64.0.1",  # CGNAT 100.64/10
        "100.127.255.254",
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "0.0.0.0",
        "192.0.2.1",  # documentation
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",  # benchmarking
        "1.2.3",
        "01.2.3.4",
        "1.2.3.4.5",
        "abc",
        "2400:3200::1",
        "",
    ],
)
def test_a_refuses_addresses_that_are_not_public_ipv4(domain, unit_user, typed):
    message = refused(lambda: add(domain, unit_user, value=typed), "value")
    assert "IPv4" in message


def test_a_names_the_reason(domain, unit_user):
    assert "私有地址" in refused(lambda: add(domain, unit_user, value="10.1.2.3"), "value")
    assert "CGNAT" in refused(lambda: add(domain, unit_user, value="100.64.1.1"), "value")
    assert "文档示例" in refused(lambda: add(domain, unit_user, value="192.0.2.1"), "value")


@pytest.mark.parametrize(
    ("typed", "stored"), [("2400:3200::1", "2400:3200::1"), ("2400:3200:0:0:0:0:0:1", "2400:3200::1")]
)
def test_aaaa_accepts_a_global_ipv6_address(domain, unit_user, typed, stored):
    assert add(domain, unit_user, rtype="AAAA", value=typed).value == stored


@pytest.mark.parametrize(
    "typed",
    [
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "2001:db8::1",
        "ff02::1",
        "ff0e::1",
        "::ffff:1.2.3.4",
        "2400:3200::1%eth0",
        "1.2.3.4",
        "2400:3200::g",
    ],
)
def test_aaaa_refuses_addresses_that_are_not_global_ipv6(domain, unit_user, typed):
    refused(lambda: add(domain, unit_user, rtype="AAAA", value=typed), "value")


# --- CNAME, MX, TXT, CAA, NS ---------------------------------------------------------------


def test_cname_takes_a_host_name_idn_stored_as_a_labels(domain, unit_user):
    change = add(domain, unit_user, host="cdn", rtype="CNAME", value="例子.中国.")
    assert change.value == "xn--fsqu00a.xn--fiqs8s"
    assert change.value_display == "例子.中国"


@pytest.mark.parametrize("typed", ["1.2.3.4", "http://cdn.example.com/", "localhost", "a..example.com", "bad-.com", ""])
def test_cname_refuses_what_is_not_a_host_name(domain, unit_user, typed):
    refused(lambda: add(domain, unit_user, host="cdn", rtype="CNAME", value=typed), "value")


def test_cname_is_never_at_the_apex(domain, unit_user):
    refused(lambda: add(domain, unit_user, host="@", rtype="CNAME", value="cdn.example.com"), "host")


def test_cname_cannot_point_at_itself(domain, unit_user, apex):
    refused(lambda: add(domain, unit_user, host="cdn", rtype="CNAME", value=f"cdn.{apex}"), "value")


@pytest.mark.parametrize("priority", [0, 10, 65535, "20"])
def test_mx_takes_a_priority_and_a_host_name(domain, unit_user, priority):
    change = add(domain, unit_user, host="@", rtype="MX", value="mx.example.com", priority=priority)
    assert (change.priority, change.value) == (int(priority), "mx.example.com")
    assert change.value_display == f"{int(priority)} mx.example.com"


@pytest.mark.parametrize("priority", [None, "", -1, 65536, "十"])
def test_mx_refuses_a_missing_or_out_of_range_priority(domain, unit_user, priority):
    refused(lambda: add(domain, unit_user, host="@", rtype="MX", value="mx.example.com", priority=priority), "priority")


def test_mx_refuses_an_address_as_its_host(domain, unit_user):
    refused(lambda: add(domain, unit_user, host="@", rtype="MX", value="1.2.3.4", priority=10), "value")


def test_txt_longer_than_255_octets_is_accepted_and_split_only_when_published(domain, unit_user):
    text = "v=DKIM1; k=rsa; p=" + "A" * 282
    assert len(text.encode()) == 300
    change = add(domain, unit_user, host="mail._domainkey", rtype="TXT", value=text)
    assert change.value == text  # stored whole
    chunks = values.txt_strings(change.value)
    assert [len(c) for c in chunks] == [255, 45]
    assert b"".join(chunks).decode() == text


def test_txt_strings_never_break_a_multibyte_character():
    text = "政" * 100  # 300 octets, 3 each
    chunks = values.txt_strings(text)
    assert len(chunks) == 2
    assert all(len(c) <= 255 for c in chunks)
    assert "".join(c.decode("utf-8") for c in chunks) == text  # each chunk decodes on its own
    assert values.txt_strings("short") == [b"short"]


@pytest.mark.parametrize("typed", ["", "   ", "a\nb", "a\tb", "a\x00b", "a\u2028b", "a\u200bb", "x" * 2049])
def test_txt_refuses_empty_control_characters_and_oversize(domain, unit_user, typed):
    refused(lambda: add(domain, unit_user, host="@", rtype="TXT", value=typed), "value")


def test_txt_accepts_printable_unicode_and_quotes(domain, unit_user):
    change = add(domain, unit_user, host="@", rtype="TXT", value='说明 "quoted" \\ 文本')
    assert change.value == '说明 "quoted" \\ 文本'


@pytest.mark.parametrize(
    ("flags", "tag", "value"),
    [
        (0, "issue", "letsencrypt.org"),
        (128, "issuewild", ";"),
        ("0", "ISSUE", "ca.example.net; account=123"),
        (None, "iodef", "mailto:security@example.com"),
        (0, "iodef", "https://example.com/caa"),
    ],
)
def test_caa_takes_flags_0_or_128_a_known_tag_and_a_value(domain, unit_user, flags, tag, value):
    change = add(domain, unit_user, host="@", rtype="CAA", value=value, caa_flags=flags, caa_tag=tag)
    assert (change.caa_flags, change.caa_tag, change.value) == (int(flags or 0), tag.lower(), value)


@pytest.mark.parametrize(
    ("flags", "tag", "value", "field"),
    [
        (1, "issue", "letsencrypt.org", "caa_flags"),
        (255, "issue", "letsencrypt.org", "caa_flags"),
        ("x", "issue", "letsencrypt.org", "caa_flags"),
        (0, "tbs", "letsencrypt.org", "caa_tag"),
        (0, "", "letsencrypt.org", "caa_tag"),
        (0, "issue", 'lets"encrypt.org', "value"),
        (0, "issue", "证书.中国", "value"),
        (0, "issue", "not a host", "value"),
        (0, "iodef", "security@example.com", "value"),
    ],
)
def test_caa_refuses_bad_flags_tags_and_values(domain, unit_user, flags, tag, value, field):
    refused(lambda: add(domain, unit_user, host="@", rtype="CAA", value=value, caa_flags=flags, caa_tag=tag), field)


def test_ns_only_at_the_apex(domain, unit_user):
    refused(lambda: add(domain, unit_user, host="sub", rtype="NS", value="ns1.example.com"), "host")
    assert add(domain, unit_user, host="@", rtype="NS", value="ns1.example.com").value == "ns1.example.com"


def test_ns_inside_the_domain_needs_its_glue(domain, unit_user, conac_user, apex):
    message = refused(lambda: add(domain, unit_user, host="@", rtype="NS", value=f"ns1.{apex}"), "value")
    assert "胶水" in message
    # The same name typed in Unicode is the same name.
    refused(lambda: add(domain, unit_user, host="@", rtype="NS", value="ns1.海淀测试局.政务"), "value")
    refused(lambda: add(domain, unit_user, host="@", rtype="NS", value=apex), "value")  # the domain itself

    glue = live(domain, unit_user, conac_user, host="ns1", rtype="A", value="1.2.3.4")
    ns = live(domain, unit_user, conac_user, host="@", rtype="NS", value="ns1.海淀测试局.政务")
    assert ns.value == f"ns1.{apex}"

    # The glue cannot go (or move) while the NS record needs it.
    assert "胶水" in refused_whole(lambda: services.request_delete(glue, actor=unit_user))
    refused(lambda: services.request_modify(glue, actor=unit_user, host="ns2", rtype="A", value="1.2.3.4"), "host")
    # A new address is fine.
    services.request_modify(glue, actor=unit_user, host="ns1", rtype="A", value="5.6.7.8")


def test_approving_an_ns_record_before_its_glue_is_refused(domain, unit_user, conac_user, apex):
    glue = add(domain, unit_user, host="ns1", rtype="A", value="1.2.3.4")  # pending glue is enough to ask
    ns = add(domain, unit_user, host="@", rtype="NS", value=f"ns1.{apex}")
    before = snapshot()
    with pytest.raises(review.ReviewError, match="胶水"):
        review.approve(ns, actor=conac_user)
    assert snapshot() == before
    review.approve(glue, actor=conac_user)
    review.approve(ns, actor=conac_user)
    assert DnsRecord.objects.effective().filter(domain=domain).count() == 2


# --- URL转发 --------------------------------------------------------------------------------


def test_url_forwarding_keeps_path_code_and_stores_the_idn_host_as_a_labels(domain, unit_user):
    change = add(
        domain, unit_user, host="@", rtype="URL", value="https://例子.中国/新闻?id=1", redirect_code=302, keep_path=True
    )
    assert change.value == "https://xn--fsqu00a.xn--fiqs8s/%E6%96%B0%E9%97%BB?id=1"
    assert (change.redirect_code, change.keep_path) == (302, True)
    assert "例子.中国" in change.value_display and "302" in change.value_display


@pytest.mark.parametrize("code", [301, 302, "301"])
def test_url_forwarding_takes_301_or_302(domain, unit_user, code):
    assert add(
        domain, unit_user, rtype="URL", value="https://www.example.com/", redirect_code=code
    ).redirect_code == int(code)


@pytest.mark.parametrize("code", [307, 200, "abc"])
def test_url_forwarding_refuses_other_codes(domain, unit_user, code):
    refused(
        lambda: add(domain, unit_user, rtype="URL", value="https://x.example.com/", redirect_code=code), "redirect_code"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/",
        "www.example.com",
        "//example.com/",
        "https://user:secret@example.com/",
        "https://user@example.com/",
        "http:///path",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "https://localhost/",
        "",
    ],
)
def test_url_forwarding_refuses_unsafe_or_unreachable_targets(domain, unit_user, typed):
    refused(lambda: add(domain, unit_user, rtype="URL", value=typed), "value")


def test_url_forwarding_to_the_host_itself_is_refused(domain, unit_user, apex):
    for target in ("https://海淀测试局.政务/", f"http://{apex}/other", f"https://{apex.upper()}"):
        message = refused(lambda t=target: add(domain, unit_user, host="@", rtype="URL", value=t), "value")
        assert "本域名自身" in message
    refused(lambda: add(domain, unit_user, host="www", rtype="URL", value="https://www.海淀测试局.政务/"), "value")
    # www → the domain itself is an ordinary forward.
    add(domain, unit_user, host="www", rtype="URL", value="https://海淀测试局.政务/")


def test_url_forwarding_loops_are_refused(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="@", rtype="URL", value="https://www.海淀测试局.政务/")
    message = refused(
        lambda: add(domain, unit_user, host="www", rtype="URL", value="https://海淀测试局.政务/"), "value"
    )
    assert "循环" in message
    # A wildcard forward answers for a name without records of its own.
    refused(lambda: add(domain, unit_user, host="*", rtype="URL", value="https://any.海淀测试局.政务/"), "value")


def test_url_forwarding_and_address_records_exclude_each_other(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="www", rtype="A", value="1.2.3.4")
    refused(lambda: add(domain, unit_user, host="www", rtype="URL", value="https://www.example.com/"), "rtype")
    live(domain, unit_user, conac_user, host="go", rtype="URL", value="https://www.example.com/")
    refused(lambda: add(domain, unit_user, host="go", rtype="A", value="5.6.7.8"), "rtype")
    refused(lambda: add(domain, unit_user, host="go", rtype="AAAA", value="2400:3200::1"), "rtype")
    refused(lambda: add(domain, unit_user, host="go", rtype="URL", value="https://other.example.com/"), "rtype")
    # Other types beside a forward are fine.
    add(domain, unit_user, host="go", rtype="TXT", value="note")


def test_url_forwarding_and_address_records_exclude_each_other_while_pending(domain, unit_user):
    add(domain, unit_user, host="www", rtype="AAAA", value="2400:3200::1")
    refused(lambda: add(domain, unit_user, host="www", rtype="URL", value="https://www.example.com/"), "rtype")
    add(domain, unit_user, host="go", rtype="URL", value="https://www.example.com/")
    refused(lambda: add(domain, unit_user, host="go", rtype="A", value="5.6.7.8"), "rtype")


# --- CNAME beside other records -----------------------------------------------------------


@pytest.mark.parametrize("other", [("A", "1.2.3.4"), ("TXT", "hello"), ("URL", "https://www.example.com/")])
def test_cname_is_never_beside_another_record_of_the_host(domain, unit_user, conac_user, other):
    rtype, value = other
    live(domain, unit_user, conac_user, host="www", rtype=rtype, value=value)
    refused(lambda: add(domain, unit_user, host="www", rtype="CNAME", value="cdn.example.com"), "rtype")


def test_no_record_beside_a_cname(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="www", rtype="CNAME", value="cdn.example.com")
    for rtype, value in [("A", "1.2.3.4"), ("TXT", "x"), ("CNAME", "cdn2.example.com"), ("MX", "mx.example.com")]:
        refused(lambda r=rtype, v=value: add(domain, unit_user, host="www", rtype=r, value=v, priority=10), "rtype")
    add(domain, unit_user, host="other", rtype="A", value="1.2.3.4")


def test_cname_rules_hold_against_pending_requests(domain, unit_user):
    add(domain, unit_user, host="www", rtype="A", value="1.2.3.4")
    refused(lambda: add(domain, unit_user, host="www", rtype="CNAME", value="cdn.example.com"), "rtype")
    add(domain, unit_user, host="cdn", rtype="CNAME", value="cdn.example.com")
    refused(lambda: add(domain, unit_user, host="cdn", rtype="TXT", value="x"), "rtype")


def test_a_pending_modify_is_checked_with_both_its_old_and_new_values(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", rtype="A", value="1.2.3.4")
    services.request_modify(record, actor=unit_user, host="web", rtype="A", value="1.2.3.4")
    # The old www A stays in service until the decision (and for good if it is refused).
    refused(lambda: add(domain, unit_user, host="www", rtype="CNAME", value="cdn.example.com"), "rtype")
    # And the new web A is already reserved.
    refused(lambda: add(domain, unit_user, host="web", rtype="CNAME", value="cdn.example.com"), "rtype")


# --- TTL, duplicates, the limit -------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [(None, 600), ("", 600), (600, 600), ("3600", 3600), (86400, 86400)])
def test_ttl_within_the_configured_range(domain, unit_user, typed, stored):
    assert add(domain, unit_user, ttl=typed).ttl == stored


@pytest.mark.parametrize("typed", [599, 86401, 0, -1, "abc", "1.5"])
def test_ttl_outside_the_range_is_refused(domain, unit_user, typed):
    message = refused(lambda: add(domain, unit_user, ttl=typed), "ttl")
    if isinstance(typed, int):
        assert "600" in message and "86400" in message


def test_ttl_range_follows_settings(domain, unit_user, settings):
    settings.DNS_TTL_MIN, settings.DNS_TTL_MAX = 60, 3600
    assert add(domain, unit_user, ttl=60).ttl == 60
    assert "60至3600" in refused(lambda: add(domain, unit_user, value="5.6.7.8", ttl=7200), "ttl")


def test_exact_duplicates_are_refused_effective_or_pending(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="www", rtype="A", value="1.2.3.4")
    refused(lambda: add(domain, unit_user, host="WWW", rtype="A", value="1.2.3.4"), "value")
    refused(lambda: add(domain, unit_user, host="www", rtype="A", value="1.2.3.4", ttl=3600), "value")
    add(domain, unit_user, host="www", rtype="A", value="5.6.7.8")
    refused(lambda: add(domain, unit_user, host="www", rtype="A", value="5.6.7.8"), "value")
    add(domain, unit_user, host="@", rtype="MX", value="mx.example.com", priority=10)
    refused(lambda: add(domain, unit_user, host="@", rtype="MX", value="mx.example.com", priority=10), "value")
    add(
        domain, unit_user, host="@", rtype="MX", value="mx.example.com", priority=20
    )  # another priority is another record


def test_the_record_limit_counts_effective_and_pending(domain, unit_user, conac_user, settings):
    settings.DNS_MAX_RECORDS_PER_DOMAIN = 3
    live(domain, unit_user, conac_user, host="a", value="1.1.1.1")
    live(domain, unit_user, conac_user, host="b", value="1.1.1.1")
    add(domain, unit_user, host="c", value="1.1.1.1")
    message = refused_whole(lambda: add(domain, unit_user, host="d", value="1.1.1.1"))
    assert "最多3条" in message


def test_the_101st_record_is_refused(domain, unit_user):
    DnsRecord.objects.bulk_create(
        [DnsRecord(domain=domain, host=f"h{i}", rtype="A", value="1.2.3.4", ttl=600) for i in range(100)]
    )
    assert "最多100条" in refused_whole(lambda: add(domain, unit_user, host="h100"))


def test_removed_records_do_not_count_towards_the_limit(domain, unit_user, settings):
    from django.utils import timezone

    settings.DNS_MAX_RECORDS_PER_DOMAIN = 1
    DnsRecord.objects.create(domain=domain, host="old", rtype="A", value="1.2.3.4", ttl=600, removed_at=timezone.now())
    add(domain, unit_user, host="new")


def test_approval_rechecks_the_limit(domain, unit_user, conac_user, settings):
    change = add(domain, unit_user, host="new")
    settings.DNS_MAX_RECORDS_PER_DOMAIN = 1
    DnsRecord.objects.create(domain=domain, host="other", rtype="A", value="1.2.3.4", ttl=600)
    before = snapshot()
    with pytest.raises(review.ReviewError, match="上限"):
        review.approve(change, actor=conac_user)
    assert snapshot() == before


# --- Who may ask, and for which domains ------------------------------------------------------


@pytest.mark.parametrize("who", ["other_unit_user", "office_user", "conac_user"])
def test_only_the_domains_own_unit_may_ask(domain, unit_user, conac_user, request, who):
    actor = request.getfixturevalue(who)
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    assert "本单位" in refused_whole(lambda: add(domain, actor, host="mail"))
    # Even with values that break the field rules: the permission is checked first.
    refused_whole(lambda: add(domain, actor, host="-bad"))
    refused_whole(lambda: services.request_modify(record, actor=actor, host="www", rtype="A", value="5.6.7.8"))
    refused_whole(lambda: services.request_delete(record, actor=actor))


@pytest.mark.parametrize(
    "status",
    [
        DomainStatus.PENDING_LOCAL,
        DomainStatus.PENDING_CONAC,
        DomainStatus.AWAITING_PAYMENT,
        DomainStatus.ACTIVATING,
        DomainStatus.EXPIRED,
        DomainStatus.DELETED,
        DomainStatus.REJECTED,
    ],
)
def test_only_registered_domains_take_records(unit, unit_user, status):
    domain = factories.make_domain(unit, "海淀测试局", status=status)
    assert "注册成功" in refused_whole(lambda: add(domain, unit_user))


def test_a_domain_leaving_service_leaves_its_pending_changes_to_be_rejected(domain, unit_user, conac_user):
    change = add(domain, unit_user)
    type(domain).objects.filter(pk=domain.pk).update(status=DomainStatus.EXPIRED)
    before = snapshot()
    with pytest.raises(review.ReviewError, match="已过期"):
        review.approve(change, actor=conac_user)
    assert snapshot() == before
    review.reject(change, actor=conac_user, opinion="域名已过期")
    change.refresh_from_db()
    assert change.status == ChangeStatus.REJECTED


# --- The flow: 添加记录 / 修改 / 删除 through 解析审核 -------------------------------------------


def test_add_waits_for_conac_then_takes_effect(domain, unit_user, conac_user):
    change = add(domain, unit_user, host="www", value="1.2.3.4", ttl=3600)
    assert (change.status, change.action, change.unit_id, change.record) == (
        ChangeStatus.PENDING,
        ChangeAction.ADD,
        domain.unit_id,
        None,
    )
    assert not DnsRecord.objects.exists()
    assert list(review.queue_for(DnsChange.objects.all(), conac_user)) == [change]

    decision = review.approve(change, actor=conac_user)
    assert decision.tier == Tier.CONAC
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED
    record = DnsRecord.objects.effective().get()
    assert change.record == record
    assert (record.domain, record.host, record.rtype, record.value, record.ttl) == (domain, "www", "A", "1.2.3.4", 3600)
    assert not review.queue_for(DnsChange.objects.all(), conac_user).exists()

    asked = history_of(change).order_by("id").first()
    assert asked.action == "添加记录申请" and asked.actor == unit_user
    assert asked.data["old"] == "" and "1.2.3.4" in asked.data["new"]
    effective = history_of(record).get()
    assert effective.action == "解析记录生效" and effective.actor == conac_user and "1.2.3.4" in effective.data["new"]


def test_office_staff_cannot_review_dns_changes(domain, unit_user, office_user):
    change = add(domain, unit_user)
    assert not review.queue_for(DnsChange.objects.all(), office_user).exists()
    before = snapshot()
    with pytest.raises(review.ReviewError, match="没有审核权限"):
        review.approve(change, actor=office_user)
    with pytest.raises(review.ReviewError, match="没有审核权限"):
        review.reject(change, actor=office_user, opinion="不同意")
    assert snapshot() == before


@pytest.mark.parametrize("opinion", ["", "   ", None])
def test_rejection_requires_an_opinion(domain, unit_user, conac_user, opinion):
    change = add(domain, unit_user)
    before = snapshot()
    with pytest.raises(review.ReviewError, match="审核意见"):
        review.reject(change, actor=conac_user, opinion=opinion)
    assert snapshot() == before


def test_rejection_tells_the_unit_by_sms_and_email(
    domain, unit, unit_user, conac_user, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    change = add(domain, unit_user, host="邮件", rtype="TXT", value="hello")
    reason = "TXT内容与单位无关"
    with django_capture_on_commit_callbacks(execute=True):
        review.reject(change, actor=conac_user, opinion=reason)
    change.refresh_from_db()
    assert (change.status, change.rejection_reason) == (ChangeStatus.REJECTED, reason)
    assert not DnsRecord.objects.exists()

    notices = Notice.objects.filter(template="dns_change_rejected")
    assert sorted(notices.values_list("channel", "recipient")) == [
        ("email", unit.contact_email),
        ("sms", unit.contact_mobile),
    ]
    assert len(sms_outbox) == 1 and sms_outbox[0]["to"] == unit.contact_mobile
    assert reason in sms_outbox[0]["body"] and "海淀测试局.政务" in sms_outbox[0]["body"]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [unit.contact_email]
    assert reason in mailoutbox[0].body and "邮件" in mailoutbox[0].body  # the host in Unicode
    assert mailoutbox[0].subject == "域名“海淀测试局.政务”的解析申请审核不通过"
    # A rejected change cannot be sent round again: the unit asks anew.
    with pytest.raises(review.ReviewError):
        review.resubmit(change, actor=unit_user)


def test_modify_keeps_the_old_value_until_approved(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    change = services.request_modify(record, actor=unit_user, host="www", rtype="A", value="5.6.7.8", ttl=1200)
    assert (change.action, change.record, change.status) == (ChangeAction.MODIFY, record, ChangeStatus.PENDING)
    assert "1.2.3.4" in change.old_value
    record.refresh_from_db()
    assert (record.value, record.ttl) == ("1.2.3.4", 600)  # still in service

    asked = history_of(change).order_by("id").first()
    assert "1.2.3.4" in asked.data["old"] and "5.6.7.8" in asked.data["new"]

    review.approve(change, actor=conac_user)
    record.refresh_from_db()
    assert (record.value, record.ttl, record.removed_at) == ("5.6.7.8", 1200, None)
    assert DnsRecord.objects.effective().count() == 1
    applied = history_of(record).first()
    assert applied.action == "解析记录修改生效"
    assert "1.2.3.4" in applied.data["old"] and "5.6.7.8" in applied.data["new"]


def test_a_rejected_modify_leaves_the_record_as_it_was(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    change = services.request_modify(record, actor=unit_user, host="www", rtype="A", value="5.6.7.8")
    review.reject(change, actor=conac_user, opinion="地址不属于本单位")
    record.refresh_from_db()
    assert record.value == "1.2.3.4"
    # The record is open for a new request again.
    services.request_modify(record, actor=unit_user, host="www", rtype="A", value="9.9.9.9")


def test_modify_with_nothing_changed_is_refused(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    refused(lambda: services.request_modify(record, actor=unit_user, host="WWW", rtype="A", value=" 1.2.3.4"), "value")


def test_modify_applies_the_same_rules(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    live(domain, unit_user, conac_user, host="go", rtype="URL", value="https://www.example.com/")
    refused(lambda: services.request_modify(record, actor=unit_user, host="www", rtype="A", value="10.0.0.1"), "value")
    refused(lambda: services.request_modify(record, actor=unit_user, host="go", rtype="A", value="1.2.3.4"), "rtype")
    # Its own old value does not stand in its way: A → CNAME on the same host.
    change = services.request_modify(record, actor=unit_user, host="www", rtype="CNAME", value="cdn.example.com")
    review.approve(change, actor=conac_user)
    record.refresh_from_db()
    assert (record.rtype, record.value) == ("CNAME", "cdn.example.com")


def test_one_pending_change_per_record(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    services.request_modify(record, actor=unit_user, host="www", rtype="A", value="5.6.7.8")
    message = refused_whole(
        lambda: services.request_modify(record, actor=unit_user, host="www", rtype="A", value="9.9.9.9")
    )
    assert "待审核" in message
    refused_whole(lambda: services.request_delete(record, actor=unit_user))


def test_delete_keeps_the_record_until_approved(domain, unit_user, conac_user):
    record = live(domain, unit_user, conac_user, host="www", value="1.2.3.4")
    change = services.request_delete(record, actor=unit_user)
    assert (change.action, change.record, change.host, change.value) == (ChangeAction.DELETE, record, "www", "1.2.3.4")
    record.refresh_from_db()
    assert record.removed_at is None
    assert DnsRecord.objects.effective().filter(pk=record.pk).exists()
    asked = history_of(change).order_by("id").first()
    assert "1.2.3.4" in asked.data["old"] and asked.data["new"] == ""

    review.approve(change, actor=conac_user)
    record.refresh_from_db()
    assert record.removed_at is not None
    assert not DnsRecord.objects.effective().exists()
    assert DnsRecord.objects.filter(pk=record.pk).exists()  # kept for the history
    removed = history_of(record).first()
    assert removed.action == "解析记录删除生效" and "1.2.3.4" in removed.data["old"]
    # A removed record takes no further requests.
    refused_whole(lambda: services.request_delete(record, actor=unit_user))
    refused_whole(lambda: services.request_modify(record, actor=unit_user, host="www", rtype="A", value="5.6.7.8"))


def test_double_approval_makes_one_decision(domain, unit_user, conac_user):
    change = add(domain, unit_user)
    review.approve(change, actor=conac_user)
    before = snapshot()
    with pytest.raises(review.ReviewError, match="不能重复审核"):
        review.approve(change, actor=conac_user)
    with pytest.raises(review.ReviewError):
        review.reject(change, actor=conac_user, opinion="重复")
    assert snapshot() == before
    assert review.decisions_of(change).count() == 1
    assert DnsRecord.objects.count() == 1


# --- Re-check at approval ---------------------------------------------------------------------


def _pending(domain, **fields):
    """A change created directly, past the request-time rules (as two racing requests could leave)."""
    from django.utils import timezone

    data = {"host": "www", "rtype": "A", "value": "1.2.3.4", "ttl": 600, **fields}
    return DnsChange.objects.create(
        domain=domain, unit=domain.unit, action=ChangeAction.ADD, submitted_at=timezone.now(), **data
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"rtype": "A"}, {"rtype": "CNAME", "value": "cdn.example.com"}),
        ({"rtype": "CNAME", "value": "cdn.example.com"}, {"rtype": "TXT", "value": "x"}),
        ({"rtype": "URL", "value": "https://www.example.com/", "redirect_code": 301}, {"rtype": "A"}),
        ({"rtype": "A"}, {"rtype": "URL", "value": "https://www.example.com/", "redirect_code": 301}),
        ({"rtype": "A"}, {"rtype": "A"}),
        ({"rtype": "A"}, {"rtype": "A", "ttl": 3600}),
    ],
)
def test_approving_the_second_of_two_conflicting_changes_is_refused(domain, conac_user, first, second):
    one, two = _pending(domain, **first), _pending(domain, **second)
    review.approve(one, actor=conac_user)
    before = snapshot()
    with pytest.raises(review.ReviewError) as caught:
        review.approve(two, actor=conac_user)
    assert CHINESE.search(str(caught.value))
    assert snapshot() == before
    two.refresh_from_db()
    assert two.status == ChangeStatus.PENDING
    # CONAC can still refuse it.
    review.reject(two, actor=conac_user, opinion="与现有记录冲突")


def test_approving_a_glue_deletion_while_the_ns_needs_it_is_refused(domain, unit_user, conac_user, apex):
    from django.utils import timezone

    glue = live(domain, unit_user, conac_user, host="ns1", value="1.2.3.4")
    deletion = services.request_delete(glue, actor=unit_user)
    DnsRecord.objects.create(domain=domain, host="@", rtype="NS", value=f"ns1.{apex}", ttl=600)
    before = snapshot()
    with pytest.raises(review.ReviewError, match="胶水"):
        review.approve(deletion, actor=conac_user)
    assert snapshot() == before
    assert DnsRecord.objects.get(pk=glue.pk).removed_at is None
    assert deletion.submitted_at <= timezone.now()


# --- The www twin -----------------------------------------------------------------------------


def test_www_twin_adds_the_same_record_for_www(domain, unit_user):
    change = add(domain, unit_user, host="@", rtype="A", value="1.2.3.4", ttl=1200)
    twin = services.add_www_twin(change, actor=unit_user)
    assert (twin.host, twin.rtype, twin.value, twin.ttl, twin.action, twin.status) == (
        "www",
        "A",
        "1.2.3.4",
        1200,
        ChangeAction.ADD,
        ChangeStatus.PENDING,
    )
    assert history_of(twin).get().action == "添加记录申请"


def test_www_twin_of_a_forward(domain, unit_user):
    change = add(
        domain, unit_user, host="@", rtype="URL", value="https://www.example.com/x", redirect_code=302, keep_path=True
    )
    twin = services.add_www_twin(change, actor=unit_user)
    assert (twin.host, twin.value, twin.redirect_code, twin.keep_path) == ("www", change.value, 302, True)


def test_www_twin_is_skipped_when_www_already_has_that_type(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="www", rtype="A", value="5.6.7.8")
    change = add(domain, unit_user, host="@", rtype="A", value="1.2.3.4")
    before = snapshot()
    assert services.add_www_twin(change, actor=unit_user) is None
    assert snapshot() == before


def test_www_twin_is_skipped_when_www_has_that_type_pending(domain, unit_user):
    add(domain, unit_user, host="www", rtype="AAAA", value="2400:3200::2")
    change = add(domain, unit_user, host="@", rtype="AAAA", value="2400:3200::1")
    assert services.add_www_twin(change, actor=unit_user) is None


def test_www_twin_follows_the_rules(domain, unit_user, conac_user):
    live(domain, unit_user, conac_user, host="www", rtype="CNAME", value="cdn.example.com")
    change = add(domain, unit_user, host="@", rtype="A", value="1.2.3.4")
    refused(lambda: services.add_www_twin(change, actor=unit_user), "rtype")


def test_www_twin_of_a_forward_to_www_would_loop(domain, unit_user):
    # A forward from @ to www: the twin would forward www to itself.
    forward = add(domain, unit_user, host="@", rtype="URL", value="https://www.海淀测试局.政务/")
    assert "本域名自身" in refused(lambda: services.add_www_twin(forward, actor=unit_user), "value")


def test_www_twin_only_for_apex_adds_by_the_owner(domain, unit_user, other_unit_user, conac_user):
    www = add(domain, unit_user, host="mail", rtype="A", value="1.2.3.4")
    refused_whole(lambda: services.add_www_twin(www, actor=unit_user))
    ns = add(domain, unit_user, host="@", rtype="NS", value="ns1.example.com")
    refused_whole(lambda: services.add_www_twin(ns, actor=unit_user))
    apex_a = add(domain, unit_user, host="@", rtype="A", value="1.2.3.4")
    refused_whole(lambda: services.add_www_twin(apex_a, actor=other_unit_user))
    review.approve(apex_a, actor=conac_user)
    apex_a.refresh_from_db()
    deletion = services.request_delete(apex_a.record, actor=unit_user)
    refused_whole(lambda: services.add_www_twin(deletion, actor=unit_user))
