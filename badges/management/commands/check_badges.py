"""挂标检查 now: ``manage.py check_badges`` checks the badges that are due, ``--code CA…`` the named ones."""

from django.core.management.base import BaseCommand, CommandError

from badges import services
from badges.models import Badge


class Command(BaseCommand):
    help = "挂标检查：检查到期应检查的网站标识，或用 --code 指定的标识（可多次给出）。"

    def add_arguments(self, parser):
        parser.add_argument("--code", action="append", default=[], metavar="CA…", help="标识编号，可多次给出")

    def handle(self, *args, code, **options):
        if code:
            badges = list(Badge.objects.filter(code__in=code).order_by("code"))
            missing = sorted(set(code) - {b.code for b in badges})
            if missing:
                raise CommandError(f"没有这些标识编号：{'、'.join(missing)}")
        else:
            badges = list(services.badges_due_for_check())
        found = 0
        for badge in badges:
            check = services.check_badge(badge)
            if check is None:
                reason = f"{badge.get_mount_method_display()}，{badge.get_status_display()}"
                self.stdout.write(f"{badge.code}\t不检查（{reason}）")
                continue
            found += check.found
            self.stdout.write(f"{badge.code}\t{badge.get_status_display()}\t{check.note}")
        self.stdout.write(f"检查 {len(badges)} 个标识，找到 {found} 个。")
