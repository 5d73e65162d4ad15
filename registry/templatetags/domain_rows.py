"""``{% search_row d %}``: a row of 域名查询, rendered once per process for each set of values it
shows (``conac.templatetags.fragments.kept_render``); twenty rows a page, all day."""

from django import template

from conac.templatetags.fragments import kept_render

register = template.Library()

SEARCH_ROW = "registry/partials/domain_search_row.html"


@register.simple_tag
def search_row(domain):
    # Every value the row shows: the same values, the same markup.
    key = (
        domain.public_id, domain.label, domain.alabel, domain.suffix, domain.status, domain.years,
        domain.registered_on, domain.expires_on, domain.unit.name, domain.office.name,
    )  # fmt: skip
    return kept_render(SEARCH_ROW, {"d": domain}, key=key)
