"""Publish the zones now: the same publisher the Celery task runs (write, check, install, reload).

python manage.py publish_zones                 # the zones with unpublished changes
python manage.py publish_zones --force         # every zone, changed or not
python manage.py publish_zones --suffix .政务  # one zone (with --force: even if unchanged)
"""

from django.core.management.base import BaseCommand, CommandError

from registry.dns import zones
from registry.domains.names import SUFFIXES


class Command(BaseCommand):
    help = "发布区域文件（写出、检查、替换并通知名称服务器重新加载）"

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="没有变更的区域也重新发布")
        parser.add_argument(
            "--suffix", action="append", dest="suffixes", metavar="SUFFIX", help="只发布该后缀的区域（可重复）"
        )

    def handle(self, *args, force=False, suffixes=None, **options):
        if suffixes:
            wanted = []
            for raw in suffixes:
                suffix = "." + raw.strip().lstrip(".")
                by_alabel = {zone: s for s, zone in SUFFIXES.items()}
                suffix = by_alabel.get(suffix.lstrip("."), suffix)
                if suffix not in SUFFIXES:
                    raise CommandError(f"没有后缀“{raw}”的区域；可选：{'、'.join(SUFFIXES)}")
                wanted.append(suffix)
            suffixes = wanted
        try:
            results = zones.publish_dirty(suffixes=suffixes, force=force)
        except zones.PublishError as exc:
            self.report(getattr(exc, "results", []))
            raise CommandError(f"区域发布失败：{exc}") from None
        if not results:
            self.stdout.write("没有需要发布的区域（使用 --force 重新发布）。")
        self.report(results)

    def report(self, results):
        for result in results:
            reload = "，已通知NSD重新加载" if result.reloaded else ""
            self.stdout.write(
                f"{result.zone}: 序列号 {result.serial}，记录 {result.records:,} 条，"
                f"用时 {result.seconds:.2f} 秒{reload}，文件 {result.path}"
            )
