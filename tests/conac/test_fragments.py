"""{% kept_fields %}: a filter form without errors is rendered once per set of values and kept;
what the user sees is the same as rendering it each time."""

import pytest
from django.template.loader import render_to_string

from conac.templatetags import fragments
from registry.domains.forms import DomainSearchForm

SEARCH = "/domains/search/"
FIELDS = "registry/partials/domain_search_fields.html"


@pytest.fixture(autouse=True)
def empty():
    fragments._kept.clear()
    yield
    fragments._kept.clear()


def _form(query):
    from django.http import QueryDict

    form = DomainSearchForm(QueryDict(query) if query else None)
    form.is_valid()
    return form


@pytest.mark.parametrize("query", ["", "domain=海淀&status=active", "expires_from=2026年12月31日&page=3"])
def test_kept_markup_is_what_rendering_gives(query):
    form = _form(query)
    first = fragments.kept_fields(FIELDS, form)
    assert first == render_to_string(FIELDS, {"form": form})
    assert fragments.kept_fields(FIELDS, _form(query)) is first  # kept, not rendered again


def test_each_set_of_values_is_its_own_and_the_page_number_is_not_part_of_it():
    haidian = fragments.kept_fields(FIELDS, _form("domain=海淀"))
    chaoyang = fragments.kept_fields(FIELDS, _form("domain=朝阳"))
    assert 'value="海淀"' in haidian and 'value="朝阳"' in chaoyang and "海淀" not in chaoyang
    assert fragments.kept_fields(FIELDS, _form("domain=海淀&page=2")) is haidian
    assert len(fragments._kept) == 2


def test_a_form_with_errors_is_rendered_each_time_and_never_kept():
    form = _form("expires_from=12/31/2026&status=bogus")
    html = fragments.kept_fields(FIELDS, form)
    assert "is-invalid" in html and "2026-12-31" in html  # the error at the field, with the format to use
    assert not fragments._kept
    # The same values fixed afterwards show no error.
    assert "is-invalid" not in fragments.kept_fields(FIELDS, _form("expires_from=2026-12-31"))


def test_the_kept_entries_are_bounded(monkeypatch):
    monkeypatch.setattr(fragments, "MAX_ENTRIES", 3)
    for n in range(5):
        fragments.kept_fields(FIELDS, _form(f"domain=名称{n}"))
    assert len(fragments._kept) == 3
    assert 'value="名称4"' in fragments.kept_fields(FIELDS, _form("domain=名称4"))


def test_the_search_page_shows_the_values_searched_for(client_for, office_user):
    client = client_for(office_user)
    for term in ("海淀", "朝阳", "海淀"):
        text = client.get(SEARCH, {"domain": term}).content.decode()
        assert f'name="domain" value="{term}"' in text
    text = client.get(SEARCH, {"expires_from": "2026-02-30"}).content.decode()
    assert "is-invalid" in text and "form-error-summary" in text


def test_a_kept_search_row_shows_each_change_of_what_it_shows(client_for, office_user, unit):
    from registry.models import Domain, DomainStatus
    from tests import factories

    domain = factories.make_domain(unit, "海淀保留行", status=DomainStatus.ACTIVE)
    client = client_for(office_user)

    def row():
        text = client.get(SEARCH, {"domain": "海淀保留行"}).content.decode()
        start = text.index(f'value="{domain.public_id}"')
        return text[start : text.index("</tr>", start)]

    assert "海淀区测试局" in row() and "注册成功" in row()
    Domain.objects.filter(pk=domain.pk).update(status=DomainStatus.EXPIRED)  # in bulk, no signal
    assert "已过期" in row()
    unit.name = "海淀区改名测试局"
    unit.save()
    assert "海淀区改名测试局" in row()
    office = unit.office
    office.name = "北京市海淀区委编办（改）"
    office.save()
    assert "北京市海淀区委编办（改）" in row()
