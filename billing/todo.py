"""What billing puts on the home pages (``conac.todo``): 待缴费 and 汇款 for the 编办, 待认款 for
CONAC, and CONAC's money position per province (已收费未认款, 余额). Fixed queries per provider."""

from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.db.models.functions import Substr
from django.urls import reverse

from conac import todo
from registry.todo import province_labels

from .models import C, Charge, OfficeAccount, Remittance, RemittanceStatus
from .money import ZERO, fmt


def yuan_text(value):
    return f"{fmt(value or ZERO)} 元"


def office_items(user, today):
    """编办: units with 待缴费 charges and their total; its remittances not yet 认款."""
    unpaid = Charge.objects.filter(office_id=user.office_id, status=C.PENDING).aggregate(
        n=Count("id"), units=Count("unit_id", distinct=True), total=Sum("amount")
    )
    waiting = Remittance.objects.filter(office_id=user.office_id, status=RemittanceStatus.PENDING).aggregate(
        n=Count("id"), total=Sum("amount")
    )
    return [
        todo.Item(
            label="待缴费单位",
            count=unpaid["units"],
            measure="家",
            url=reverse("billing:unpaid-charges"),
            note=f"{unpaid['n']} 笔，共 {yuan_text(unpaid['total'])}" if unpaid["n"] else "",
            order=20,
        ),
        todo.Item(
            label="汇款待认款",
            count=waiting["n"],
            measure="笔",
            url=f"{reverse('billing:remittance-list')}?{urlencode({'status': RemittanceStatus.PENDING})}",
            note=f"共 {yuan_text(waiting['total'])}，等待CONAC认款" if waiting["n"] else "",
            order=30,
        ),
    ]


def conac_items(user, today):
    """CONAC: remittances 待认款, how many and how much."""
    waiting = Remittance.objects.filter(status=RemittanceStatus.PENDING).aggregate(n=Count("id"), total=Sum("amount"))
    return [
        todo.Item(
            label="待认款",
            count=waiting["n"],
            measure="笔",
            url=reverse("billing:remittance-confirm-list"),
            note=f"共 {yuan_text(waiting['total'])}" if waiting["n"] else "",
            order=20,
        )
    ]


def conac_charts(user, today):
    """Per province: fees marked (已收费) not yet paid for by a 认款, and the offices' balances."""
    marked = dict(
        Charge.objects.filter(status=C.MARKED)
        .annotate(province=Substr("office__code", 1, 2))
        .values("province")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("province", "total")
    )
    balances = dict(
        OfficeAccount.objects.filter(balance__gt=0)
        .annotate(province=Substr("office__code", 1, 2))
        .values("province")
        .annotate(total=Sum("balance"))
        .order_by()
        .values_list("province", "total")
    )
    labels = province_labels()
    report = reverse("billing:reconciliation")

    def bars(totals):
        return [
            todo.Bar(
                label=labels.get(code, code),
                value=totals[code],
                text=yuan_text(totals[code]),
                url=f"{report}?{urlencode({'province': code})}",
            )
            for code in sorted(totals, key=lambda code: (-totals[code], code))
        ]

    return [
        todo.Chart(
            title="各省已收费未认款",
            caption="编办已确认收费、尚未由认款消费的金额（省级编办及其下级编办合计）",
            bars=bars(marked),
        ),
        todo.Chart(
            title="各省余额", caption="编办账户中认款后尚未消费的余额（省级编办及其下级编办合计）", bars=bars(balances)
        ),
    ]


def register():
    todo.register("office", office_items)
    todo.register("conac", conac_items)
    todo.register("conac", conac_charts)
