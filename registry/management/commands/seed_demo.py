from django.core.management.base import BaseCommand

from registry.demo import seed_accounts_and_units
from registry.regions import load_regions


class Command(BaseCommand):
    help = "载入演示数据：演示账号与各级编办下的演示单位（可重复运行，已有的不再改动）"

    def handle(self, *args, **options):
        load_regions()
        created = seed_accounts_and_units()
        self.stdout.write(f"演示数据：新建 {created} 个账号/单位")
