"""Demo data for a lived-in first run: staff accounts and units under their offices."""

from django.db import transaction

from .models import Office, Region, Unit, UnitKind, UnitLevel, User
from .services import register_unit
from .validators import credit_code_check_char, org_code_check_char

STAFF_ACCOUNTS = [
    # username, password, role, office code, display name
    ("conac", "Conac12345", User.Role.CONAC, None, "CONAC工作人员"),
    ("zybb", "Zhongyang12345", User.Role.OFFICE, Office.ROOT_CODE, "中央编办工作人员"),
    ("bjbb", "Beijing12345", User.Role.OFFICE, "110000", "北京市委编办工作人员"),
    ("hdbb", "Haidian12345", User.Role.OFFICE, "110108", "海淀区委编办工作人员"),
    ("shbb", "Shanghai12345", User.Role.OFFICE, "310000", "上海市委编办工作人员"),
]

UNIT_PASSWORD = "Danwei12345"

DEMO_UNITS = [
    # username, name, kind, level, region code, category digits, sequence
    ("zy_organ", "国家示范管理局", UnitKind.ORGAN, UnitLevel.CENTRAL, "110000", "11", 1),
    ("zy_inst", "国家示范研究中心", UnitKind.INSTITUTION, UnitLevel.CENTRAL, "110000", "12", 2),
    ("zy_social", "中国示范公益基金会", UnitKind.SOCIAL_ORG, UnitLevel.CENTRAL, "110000", "53", 3),
    ("bj_organ", "北京市示范管理局", UnitKind.ORGAN, UnitLevel.PROVINCE, "110000", "11", 4),
    ("bj_inst", "北京市示范信息中心", UnitKind.INSTITUTION, UnitLevel.PROVINCE, "110000", "12", 5),
    ("bj_social", "北京市示范志愿者协会", UnitKind.SOCIAL_ORG, UnitLevel.PROVINCE, "110000", "51", 6),
    ("hd_organ", "北京市海淀区示范街道办事处", UnitKind.ORGAN, UnitLevel.COUNTY, "110108", "11", 7),
    ("hd_inst", "北京市海淀区示范图书馆", UnitKind.INSTITUTION, UnitLevel.COUNTY, "110108", "12", 8),
    ("hd_social", "海淀区示范社会工作服务中心", UnitKind.SOCIAL_ORG, UnitLevel.COUNTY, "110108", "52", 9),
    ("sh_organ", "上海市示范管理局", UnitKind.ORGAN, UnitLevel.PROVINCE, "310000", "11", 10),
    ("sh_inst", "上海市示范档案馆", UnitKind.INSTITUTION, UnitLevel.PROVINCE, "310000", "12", 11),
    ("sh_social", "上海市示范慈善基金会", UnitKind.SOCIAL_ORG, UnitLevel.PROVINCE, "310000", "53", 12),
]


def demo_credit_code(category, region_code, sequence):
    org = f"{9000000 + sequence:08d}"
    org = org[:8]
    body = f"{category}{region_code}{org}{org_code_check_char(org)}"
    return body + credit_code_check_char(body)


def demo_id_number(sequence):
    body = f"11010819800101{sequence:03d}"
    from .validators import ID_CHECK, ID_WEIGHTS

    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


@transaction.atomic
def seed_accounts_and_units():
    """Create what is missing; return the number of objects created."""
    created = 0
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@conac.example", "Admin12345", role=User.Role.ADMIN)
        created += 1
    for username, password, role, office_code, label in STAFF_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        office = Office.objects.get(code=office_code) if office_code else None
        user = User(username=username, role=role, office=office, first_name=label)
        user.set_password(password)
        user.save()
        created += 1
    for username, name, kind, level, region_code, category, seq in DEMO_UNITS:
        if User.objects.filter(username=username).exists():
            continue
        register_unit(
            username=username,
            password=UNIT_PASSWORD,
            unit_data={
                "name": name,
                "kind": kind,
                "credit_code": demo_credit_code(category, region_code if level != UnitLevel.CENTRAL else "100000", seq),
                "region": Region.objects.get(code=region_code),
                "level": level,
                "address": f"{Region.objects.get(code=region_code).full_name}示范路{seq}号",
                "leader": "张示范",
                "contact": "李联系",
                "contact_mobile": f"+861380013{seq:04d}",
                "contact_email": f"{username}@example.cn",
                "office_phone": "010-12345678",
                "handler": "王经办",
                "handler_id_number": demo_id_number(seq),
            },
        )
        created += 1
    return created


def demo_units():
    return Unit.objects.filter(account__username__in=[u[0] for u in DEMO_UNITS])
