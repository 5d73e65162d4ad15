"""The GB/T 2260 region tree and the office (编办) of every region."""

from io import StringIO

import pytest
from django.core.management import call_command

from registry.models import Office, Region, Unit
from registry.organisations.regions import load_regions

pytestmark = pytest.mark.django_db


def test_every_division_is_loaded_with_its_office():
    assert Region.objects.count() == 3213
    assert Office.objects.count() == 3214  # one per region, plus 中央编办
    assert not Region.objects.filter(office__isnull=True).exists()
    assert Region.objects.filter(level="province").count() == 34


def test_loading_again_creates_nothing():
    assert load_regions() == 0
    out = StringIO()
    call_command("load_regions", stdout=out)
    assert "新建 0 条" in out.getvalue()
    assert Region.objects.count() == 3213 and Office.objects.count() == 3214


def test_a_missing_region_and_office_are_put_back():
    Office.objects.filter(code="110119").delete()
    Region.objects.filter(code="110119").delete()
    assert load_regions() == 2
    yanqing = Region.objects.get(code="110119")
    assert yanqing.full_name == "北京市延庆区" and yanqing.parent.code == "110000"
    assert yanqing.office.name == "北京市延庆区委编办"
    assert load_regions() == 0


def test_haidian_and_its_chain_of_offices():
    haidian = Region.objects.get(code="110108")
    assert haidian.name == "海淀区" and haidian.full_name == "北京市海淀区" and haidian.level == "county"
    assert haidian.parent.name == "北京市" and haidian.parent.level == "province"
    office = haidian.office
    assert office.name == "北京市海淀区委编办" and office.scope_prefix == "110108"
    assert office.parent.name == "北京市委编办" and office.parent.scope_prefix == "11"
    assert office.parent.parent.name == "中央编办" and office.parent.parent.is_root
    assert office.parent.parent.parent is None and office.parent.parent.scope_prefix == ""


def test_province_directly_administered_county_sits_under_its_province():
    jiyuan = Region.objects.get(code="419001")
    assert jiyuan.name == "济源市" and jiyuan.level == "county"
    assert jiyuan.parent.name == "河南省"
    assert jiyuan.office.parent.name == "河南省委编办"


def test_prefecture_without_counties():
    dongguan = Region.objects.get(code="441900")
    assert dongguan.name == "东莞市" and dongguan.level == "prefecture"
    assert dongguan.parent.name == "广东省"
    assert not dongguan.children.exists()
    assert dongguan.office.name == "广东省东莞市委编办" and dongguan.office.scope_prefix == "4419"


def test_prefecture_and_county_levels():
    zhengzhou = Region.objects.get(code="410100")
    assert zhengzhou.level == "prefecture" and zhengzhou.parent.code == "410000"
    jinshui = Region.objects.get(code="410105")
    assert jinshui.parent == zhengzhou and jinshui.full_name == "河南省郑州市金水区"
    assert jinshui.office.parent == zhengzhou.office


@pytest.mark.parametrize(
    ("code", "office_name"),
    [
        ("450000", "广西壮族自治区党委编办"),
        ("150000", "内蒙古自治区党委编办"),
        ("540000", "西藏自治区党委编办"),
        ("450100", "广西壮族自治区南宁市委编办"),
        ("232700", "黑龙江省大兴安岭地委编办"),
        ("310000", "上海市委编办"),
    ],
)
def test_offices_are_named_as_people_say_them(code, office_name):
    assert Office.objects.get(code=code).name == office_name


@pytest.mark.parametrize(
    ("level", "region_code", "office_name"),
    [
        ("central", "110000", "中央编办"),
        ("central", "110108", "中央编办"),
        ("province", "310000", "上海市委编办"),
        ("prefecture", "410100", "河南省郑州市委编办"),
        ("county", "110108", "北京市海淀区委编办"),
    ],
)
def test_reviewing_office_follows_level_and_region(level, region_code, office_name):
    region = Region.objects.get(code=region_code)
    assert Unit.reviewing_office_for(level, region).name == office_name
