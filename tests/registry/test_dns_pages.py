"""The 域名解析 pages (unit) and 解析审核 (CONAC): who may see what, the no-JavaScript www
question, bad input at its field, and query counts."""

import datetime

import pytest
from django.urls import reverse

from registry.dns import services as dns_services
from registry.models import DnsChange, DnsRecord
from review import services as review
from tests import factories


@pytest.fixture
def active_domain(unit):
    today = datetime.date.today()
    return factories.make_domain(unit, "解析页面", status="active", expires_on=today + datetime.timedelta(days=365))


def records_url(domain):
    return reverse("registry:dns-records", args=[domain.public_id])


def test_unit_adds_at_record_and_answers_the_www_question_without_javascript(client_for, unit_user, active_domain):
    client = client_for(unit_user)
    response = client.post(records_url(active_domain), {"host": "@", "rtype": "A", "value": "202.96.0.10", "ttl": ""})
    change = DnsChange.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{records_url(active_domain)}?prompt={change.public_id}"
    page = client.get(response["Location"]).content.decode()
    assert "是否允许系统自动添加相同的www转发记录" in page
    assert "确定" in page and "取消" in page

    plain = client.get(reverse("registry:dns-www-prompt", args=[active_domain.public_id, change.public_id]))
    assert "是否允许系统自动添加相同的www转发记录" in plain.content.decode()

    done = client.post(
        reverse("registry:dns-www-prompt", args=[active_domain.public_id, change.public_id]), {"answer": "yes"}
    )
    assert done["Location"].endswith("?done=1")
    page = client.get(done["Location"]).content.decode()
    assert "域名解析/转发申请提交成功，审核通过后即可生效" in page
    assert "关闭" in page
    hosts = sorted(DnsChange.objects.values_list("host", flat=True))
    assert hosts == ["@", "www"]
    assert page.count("待审核") >= 2


def test_cancel_adds_no_www_record(client_for, unit_user, active_domain):
    client = client_for(unit_user)
    client.post(
        records_url(active_domain),
        {"host": "@", "rtype": "URL", "value": "https://www.example.gov.cn/", "redirect_code": "302"},
    )
    change = DnsChange.objects.get()
    client.post(reverse("registry:dns-www-prompt", args=[active_domain.public_id, change.public_id]), {"answer": "no"})
    assert DnsChange.objects.count() == 1
    assert change.redirect_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"host": "@", "rtype": "A", "value": "192.168.1.1"}, "value", "私有地址"),
        ({"host": "@", "rtype": "CNAME", "value": "www.example.com"}, "host", "CNAME记录不能添加在@"),
        ({"host": "www", "rtype": "URL", "value": "javascript:alert(1)"}, "value", "http:// 或 https://"),
        ({"host": "www", "rtype": "A", "value": "202.96.0.1", "ttl": "30"}, "ttl", "TTL须在600至86400秒之间"),
        ({"host": "-bad", "rtype": "A", "value": "202.96.0.1"}, "host", "不是有效的名称"),
        ({"host": "mail", "rtype": "MX", "value": "mx.example.com"}, "priority", "优先级"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_stores_nothing(
    client_for, unit_user, active_domain, data, field, message
):
    response = client_for(unit_user).post(records_url(active_domain), data, follow=True)
    assert response.redirect_chain[0][0].startswith(f"{records_url(active_domain)}?form=")  # PRG
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert message in response.content.decode()
    assert DnsChange.objects.count() == 0


def test_other_unit_office_and_anonymous_cannot_reach_the_records(
    client_for, other_unit_user, office_user, active_domain
):
    record = DnsRecord.objects.create(domain=active_domain, host="www", rtype="A", value="202.96.0.1", ttl=600)
    urls = [
        records_url(active_domain),
        reverse("registry:dns-record-modify", args=[active_domain.public_id, record.public_id]),
    ]
    for url in urls:
        assert client_for(other_unit_user).get(url).status_code == 404
        assert client_for(office_user).get(url).status_code == 403
        assert client_for(None).get(url).status_code == 302  # to the login page
    delete = reverse("registry:dns-record-delete", args=[active_domain.public_id, record.public_id])
    assert client_for(other_unit_user).post(delete).status_code == 404
    assert (
        client_for(other_unit_user)
        .post(records_url(active_domain), {"host": "x", "rtype": "A", "value": "202.96.0.9"})
        .status_code
        == 404
    )
    assert DnsChange.objects.count() == 0


def test_modify_and_delete_wait_for_review_and_the_old_value_stays(client_for, unit_user, conac_user, active_domain):
    record = DnsRecord.objects.create(domain=active_domain, host="www", rtype="A", value="202.96.0.1", ttl=600)
    client = client_for(unit_user)
    modify = reverse("registry:dns-record-modify", args=[active_domain.public_id, record.public_id])
    client.post(modify, {"host": "www", "rtype": "A", "value": "202.96.0.2", "ttl": "600"})
    page = client.get(records_url(active_domain)).content.decode()
    assert "202.96.0.1" in page and "修改待审核" in page
    record.refresh_from_db()
    assert record.value == "202.96.0.1"
    review.approve(DnsChange.objects.get(), actor=conac_user)
    record.refresh_from_db()
    assert record.value == "202.96.0.2"

    client.post(reverse("registry:dns-record-delete", args=[active_domain.public_id, record.public_id]))
    assert "待删除" in client.get(records_url(active_domain)).content.decode()
    review.approve(DnsChange.objects.get(action="delete"), actor=conac_user)
    assert not DnsRecord.objects.effective().exists()


def test_review_page_is_conac_only(client_for, unit_user, office_user, conac_user, active_domain):
    change = dns_services.request_add(active_domain, actor=unit_user, host="www", rtype="A", value="202.96.0.1")
    url = reverse("registry:dns-review")
    assert client_for(unit_user).get(url).status_code == 403
    assert client_for(office_user).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    decide = reverse("registry:dns-review-decide")
    assert client_for(office_user).post(decide, {"ids": [change.public_id], "action": "approve"}).status_code == 403
    change.refresh_from_db()
    assert change.status == "pending"
    page = client_for(conac_user).get(url).content.decode()
    assert "解析页面.政务" in page and "202.96.0.1" in page


def test_reject_needs_an_opinion_and_the_unit_reads_it(client_for, unit_user, conac_user, active_domain):
    change = dns_services.request_add(active_domain, actor=unit_user, host="www", rtype="A", value="202.96.0.1")
    client = client_for(conac_user)
    response = client.post(
        reverse("registry:dns-review-decide"), {"ids": [change.public_id], "action": "reject"}, follow=True
    )
    assert "审核不通过时必须填写审核意见" in response.content.decode()
    change.refresh_from_db()
    assert change.status == "pending"
    client.post(
        reverse("registry:dns-review-decide"),
        {"ids": [change.public_id], "action": "reject", "opinion": "地址不是本单位服务器", "confirmed": "1"},
    )
    page = client_for(unit_user).get(records_url(active_domain)).content.decode()
    assert "审核不通过" in page and "地址不是本单位服务器" in page


def test_page_query_counts_stay_flat(client_for, unit_user, conac_user, active_domain, django_assert_max_num_queries):
    for n in range(30):
        DnsRecord.objects.create(domain=active_domain, host=f"h{n}", rtype="A", value=f"202.96.1.{n + 1}", ttl=600)
    for n in range(20):
        dns_services.request_add(active_domain, actor=unit_user, host=f"p{n}", rtype="A", value=f"202.96.2.{n + 1}")
    unit_client, conac_client = client_for(unit_user), client_for(conac_user)
    with django_assert_max_num_queries(16):
        assert unit_client.get(records_url(active_domain)).status_code == 200
    with django_assert_max_num_queries(12):
        assert conac_client.get(reverse("registry:dns-review")).status_code == 200


def test_my_domains_offers_dns_for_active_domains_only(client_for, unit, unit_user, active_domain):
    factories.make_domain(unit, "待审核的", status="pending_local")
    page = client_for(unit_user).get(reverse("registry:my-domains")).content.decode()
    assert page.count(">域名解析</a>") == 1
    assert records_url(active_domain) in page
