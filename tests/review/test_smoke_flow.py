from registry.models import Domain, DomainStatus


def test_apply_reject_resubmit_approve(client_for, unit, unit_user, office_user, conac_user):
    c = client_for(unit_user)
    r = c.post("/domains/apply/", {"label": "海淀测试局", "suffix": ".政务", "years": "2"})
    assert r.status_code == 302, r.content.decode()[:3000]
    d = Domain.objects.get(label="海淀测试局")
    assert d.status == DomainStatus.PENDING_LOCAL
    o = client_for(office_user)
    r = o.get("/domains/review/office/")
    assert "海淀测试局.政务" in r.content.decode()
    r = o.post("/domains/review/decide/", {"ids": [str(d.public_id)], "action": "reject", "opinion": "名称不规范"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == DomainStatus.REJECTED
    r = c.get("/domains/apply/")
    assert "名称不规范" in r.content.decode()
    r = c.post(f"/domains/{d.public_id}/resubmit/", {"label": "海淀测试局", "suffix": ".政务", "years": "3"})
    assert r.status_code == 302
    r = o.post("/domains/review/decide/", {"ids": [str(d.public_id)], "action": "approve", "opinion": ""})
    k = client_for(conac_user)
    assert "海淀测试局.政务" in k.get("/domains/review/conac/").content.decode()
    k.post("/domains/review/decide/", {"ids": [str(d.public_id)], "action": "approve", "opinion": ""})
    d.refresh_from_db()
    assert d.status == DomainStatus.AWAITING_PAYMENT and d.years == 3 and d.review_round == 2
    from conac.models import Notice

    assert Notice.objects.filter(template="domain_approved", channel="sms").count() == 1
    assert Notice.objects.filter(template="domain_rejected", channel="email").count() == 1
    r = k.get("/domains/search/?domain=海淀&expires_from=&expires_to=&status=&unit_name=")
    assert "海淀测试局.政务" in r.content.decode()
    r = k.get("/domains/search/export/?domain=海淀")
    assert r.status_code == 200
