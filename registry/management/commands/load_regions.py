from django.core.management.base import BaseCommand

from registry.organisations.regions import load_regions


class Command(BaseCommand):
    help = "载入 GB/T 2260 行政区划及各级编办（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--file", help="区划文件路径（默认为项目自带的2024年版）")

    def handle(self, *args, **options):
        created = load_regions(options.get("file"))
        self.stdout.write(f"行政区划与编办：新建 {created} 条")
