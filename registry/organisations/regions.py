"""Loading the GB/T 2260 region tree and the office of every region."""

from django.conf import settings
from django.db import transaction

from .models import Office, Region


def read_divisions(path=None):
    """Yield (code, name) from the shipped division list."""
    path = path or settings.REGIONS_FILE
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                code, name = line.split(maxsplit=1)
                yield code, name


def level_of(code):
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    if code.endswith("00"):
        return Region.Level.PREFECTURE
    return Region.Level.COUNTY


def parent_code_of(code, known):
    level = level_of(code)
    if level == Region.Level.PROVINCE:
        return None
    if level == Region.Level.COUNTY and code[:4] + "00" in known:
        return code[:4] + "00"
    return code[:2] + "0000"


@transaction.atomic
def load_regions(path=None):
    """Create the regions and offices that are missing; return how many were created."""
    rows = dict(read_divisions(path))
    existing = set(Region.objects.values_list("code", flat=True))
    existing_offices = set(Office.objects.values_list("code", flat=True))
    if existing.issuperset(rows) and existing_offices.issuperset(rows) and Office.ROOT_CODE in existing_offices:
        return 0

    created = 0
    by_code = {r.code: r for r in Region.objects.all()}
    # Parents first: provinces, then prefectures, then counties.
    order = {Region.Level.PROVINCE: 0, Region.Level.PREFECTURE: 1, Region.Level.COUNTY: 2}
    for code in sorted(rows, key=lambda c: (order[level_of(c)], c)):
        if code in by_code:
            continue
        parent = by_code.get(parent_code_of(code, rows))
        full_name = (parent.full_name if parent else "") + rows[code]
        region = Region(code=code, name=rows[code], full_name=full_name, level=level_of(code), parent=parent)
        region.save()
        by_code[code] = region
        created += 1

    root, _ = Office.objects.get_or_create(code=Office.ROOT_CODE, defaults={"name": "中央编办", "scope_prefix": ""})
    offices = {o.code: o for o in Office.objects.all()}
    for code in sorted(rows, key=lambda c: (order[level_of(c)], c)):
        if code in offices:
            continue
        region = by_code[code]
        parent_office = offices[region.parent.code] if region.parent_id else root
        office = Office.objects.create(
            code=code,
            name=Office.name_for(region),
            region=region,
            parent=parent_office,
            scope_prefix=region.scope_prefix,
        )
        offices[code] = office
        created += 1
    return created
