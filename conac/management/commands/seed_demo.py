from django.core.management.base import BaseCommand

from badges.demo import DEMO_DOMAINS, seed_badges
from billing.demo import demo_summary, seed_active_domains, seed_billing, seed_fee_schedule
from registry.dns.demo import seed_dns
from registry.domains.demo import seed_domains, seed_review_settings
from registry.organisations.demo import seed_accounts_and_units
from registry.organisations.regions import load_regions


class Command(BaseCommand):
    help = "载入演示数据：演示账号、各级编办下的演示单位和各状态的域名（可重复运行，已有的不再改动）"

    def handle(self, *args, **options):
        load_regions()
        created = seed_accounts_and_units()
        settings_created = seed_review_settings()
        settings_created += seed_fee_schedule()  # before the domains: their charges use these prices
        domains = seed_domains()
        self.stdout.write(f"演示数据：新建 {created} 个账号/单位，{settings_created} 条审核设置，{domains} 个域名")
        money = seed_billing()
        self.stdout.write(f"收费演示数据：新建 {money} 条记录（消费：{demo_summary()}）")
        live = seed_active_domains(DEMO_DOMAINS)
        badges = seed_badges()
        self.stdout.write(f"网站开办及标识演示数据：新建 {len(live)} 个注册成功的域名，{badges} 份申请")
        dns = seed_dns()
        self.stdout.write(f"解析演示数据：新建 {dns} 条解析申请")
