"""Demo DNS records in every state, made through the real services and the review engine."""

from django.db import transaction

from registry.models import DnsChange, DnsRecord, DomainStatus, User
from registry.organisations.demo import demo_units
from review import services as review

from . import services


def seed_dns():
    """Records for the demo's 注册成功 domains; skipped once any demo record exists. Returns changes made."""
    units = {u.account.username: u for u in demo_units().select_related("account")}
    domains = {}
    for username in ("hd_organ", "hd_inst"):
        unit = units.get(username)
        if unit is not None:
            domains[username] = unit.domains.filter(status=DomainStatus.ACTIVE).order_by("id").first()
    if not all(domains.values()) or len(domains) < 2:
        return 0
    if DnsChange.objects.filter(domain__in=domains.values()).exists():
        return 0
    conac = User.objects.get(username="conac")
    organ, inst = domains["hd_organ"], domains["hd_inst"]
    organ_user, inst_user = units["hd_organ"].account, units["hd_inst"].account
    made = []

    def add(domain, actor, **fields):
        change = services.request_add(domain, actor=actor, **fields)
        made.append(change)
        return change

    with transaction.atomic():
        # 海淀区: an @ URL转发 with its www twin, mail, MX and SPF, all 已生效.
        forward = add(organ, organ_user, host="@", rtype="URL", value="https://www.bjhd.gov.cn/", redirect_code=301)
        made.append(services.add_www_twin(forward, actor=organ_user))
        mail = add(organ, organ_user, host="mail", rtype="A", value="202.96.128.86", ttl=3600)
        add(organ, organ_user, host="@", rtype="MX", value=f"mail.{organ.full_name}", priority=10)
        spf = add(organ, organ_user, host="@", rtype="TXT", value="v=spf1 mx -all")
        add(organ, organ_user, host="@", rtype="CAA", caa_flags=0, caa_tag="issue", value="cfca.com.cn")
        for change in list(made):
            review.approve(change, actor=conac)
        # 待审核, 审核不通过, a 修改 waiting (the old address stays), and 待删除.
        add(organ, organ_user, host="oa", rtype="A", value="202.96.128.88")
        refused = add(organ, organ_user, host="test", rtype="URL", value="http://www.example.com/")
        review.reject(refused, actor=conac, opinion="转发目标不是本单位网站，请核实后重新提交。")
        mail_record = DnsRecord.objects.get(changes=mail)
        made.append(
            services.request_modify(mail_record, actor=organ_user, **{**mail_record.data(), "value": "202.96.128.87"})
        )
        made.append(services.request_delete(DnsRecord.objects.get(changes=spf), actor=organ_user))

        # 海淀区图书馆: an @ A record in service, its www twin waiting for 解析审核.
        address = add(inst, inst_user, host="@", rtype="A", value="202.96.134.133")
        review.approve(address, actor=conac)
        made.append(services.add_www_twin(address, actor=inst_user))
    return len(made)
