"""Errors that can be seen and reached (issue 12, item 7): every field's error shows at the field,
a summary at the top of the form links to each, and the summary takes focus.

Rendering checks here; tests/browser/test_form_errors_flow.py checks visibility and focus in Chromium.
"""

import lxml.html
import pytest
from django import forms
from django.template import Context, Template

from registry.organisations.forms import RegistrationForm

REGISTER = "/register/"


def has_class(name):
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def parse(response):
    return lxml.html.fromstring(response.content.decode())


def summary_of(doc):
    [summary] = doc.xpath("//*[@data-error-summary]")
    return summary


def summary_links(doc):
    return {a.get("href"): a.text_content() for a in summary_of(doc).xpath(".//a")}


def assert_errors_are_shown(doc):
    """No field error relies on Bootstrap's sibling rule (.is-invalid ~ .invalid-feedback) to be seen."""
    feedback = doc.xpath(f"//*[{has_class('invalid-feedback')}]")
    assert feedback, "no field error on the page"
    for element in feedback:
        classes = element.get("class").split()
        earlier = element.itersiblings(preceding=True)
        shown_by_sibling = any("is-invalid" in (sibling.get("class") or "").split() for sibling in earlier)
        assert "d-block" in classes or shown_by_sibling, lxml.html.tostring(element, encoding="unicode")


@pytest.mark.django_db
def test_empty_registration_lists_every_required_field_in_a_summary_linking_to_it(client):
    response = client.post(REGISTER, {}, follow=True)
    assert response.status_code == 200
    doc = parse(response)
    summary = summary_of(doc)
    # It takes focus: focusable without entering the tab order, focused on load.
    assert summary.get("tabindex") == "-1" and summary.get("autofocus") is not None
    links = summary_links(doc)
    required = [name for name, field in RegistrationForm().fields.items() if field.required]
    assert len(links) == len(required)
    assert links["#id_region_0"] == "所在地区：请填写所在地区。"
    assert links["#id_username"] == "用户名：请填写用户名。"
    assert f"（共{len(required)}处）" in summary.text_content()
    # Every link leads to an element that exists.
    for href in links:
        assert doc.get_element_by_id(href[1:]) is not None, href


@pytest.mark.django_db
def test_region_error_is_shown_at_the_field_and_describes_each_select(client):
    response = client.post(REGISTER, {"region_0": "", "username": "ab"}, follow=True)
    doc = parse(response)
    error = doc.get_element_by_id("id_region_error")
    assert "请填写所在地区。" in error.text_content()
    assert "d-block" in error.get("class").split()
    assert_errors_are_shown(doc)
    [widget] = doc.xpath(f"//*[{has_class('region-widget')}]")
    assert "is-invalid" in widget.get("class").split()
    for select in widget.xpath(".//select"):
        assert select.get("aria-invalid") == "true"
        assert select.get("aria-describedby") == "id_region_error"


@pytest.mark.django_db
def test_every_region_select_has_a_label(client):
    doc = parse(client.get(REGISTER))
    labels = {label.get("for"): label.text_content().strip() for label in doc.xpath("//label[@for]")}
    assert labels["id_region_0"].startswith("所在地区")
    assert labels["id_region_1"] == "所在地区（第2级）"
    assert labels["id_region_2"] == "所在地区（第3级）"


@pytest.mark.django_db
def test_a_wrong_level_region_is_explained_at_the_region_field(client):
    response = client.post(REGISTER, {"level": "county", "region_0": "110000"}, follow=True)
    doc = parse(response)
    error = doc.get_element_by_id("id_region_error").text_content()
    assert "所在地区须选择到" in error
    assert "所在地区：单位级别为“县级”时" in summary_links(doc)["#id_region_0"]


@pytest.mark.django_db
def test_no_summary_on_a_fresh_form(client):
    doc = parse(client.get(REGISTER))
    assert doc.xpath("//*[@data-error-summary]") == []
    assert doc.xpath(f"//*[{has_class('invalid-feedback')}]") == []


@pytest.mark.django_db
def test_crispy_rendered_form_opens_with_the_summary(client_for, unit_user):
    client = client_for(unit_user)
    response = client.post(
        "/account/password/", {"old_password": "wrong", "new_password": "", "new_password_confirm": ""}, follow=True
    )
    doc = parse(response)
    links = summary_links(doc)
    assert links["#id_old_password"] == "原密码：原密码不正确。"
    assert links["#id_new_password"] == "新密码：请填写新密码。"
    assert_errors_are_shown(doc)


@pytest.mark.django_db
def test_bad_date_in_the_search_filter_is_summarised_and_shown_at_the_field(client_for, office_user):
    client = client_for(office_user)
    response = client.get("/domains/search/", {"expires_from": "12/31/2026"})
    assert response.status_code == 200
    doc = parse(response)
    assert (
        summary_links(doc)["#id_expires_from"] == "到期时间 (起)：请输入有效的日期，例如 2026-12-31 或 2026年12月31日。"
    )
    assert "请输入有效的日期" in doc.get_element_by_id("id_expires_from_error").text_content()
    [box] = doc.xpath("//*[@id='id_expires_from']")
    assert box.get("type") == "text" and box.get("value") == "12/31/2026"


@pytest.mark.django_db
def test_remittance_date_typed_in_chinese_is_accepted_and_a_bad_one_is_explained(client_for, office_user):
    client = client_for(office_user)
    response = client.post(
        "/billing/remittances/", {"amount": "200", "remitted_on": "2026年2月30日", "voucher_no": "HK-9"}, follow=True
    )
    doc = parse(response)
    assert summary_links(doc)["#id_remitted_on"] == "汇款日期：2026年2月没有30日，请输入有效的日期。"
    assert_errors_are_shown(doc)


class TwoFields(forms.Form):
    name = forms.CharField(label="单位名称")
    ids = forms.CharField(widget=forms.HiddenInput, required=True)

    def clean(self):
        raise forms.ValidationError("必须将所有带*号的信息完善后才能修改成功")


def test_summary_lists_form_wide_errors_and_hidden_fields_without_dead_links():
    form = TwoFields(data={})
    assert not form.is_valid()
    html = Template('{% include "partials/form_errors.html" %}').render(Context({"form": form}))
    doc = lxml.html.fromstring(html)
    items = [li.text_content().strip() for li in doc.xpath("//li")]
    assert items[0] == "必须将所有带*号的信息完善后才能修改成功"
    assert "单位名称：这个字段是必填项。" in items[1] or items[1].startswith("单位名称：")
    assert [a.get("href") for a in doc.xpath("//a")] == ["#id_name"]  # the hidden field is text, not a link
    assert len(items) == 3
