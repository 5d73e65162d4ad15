import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing import jobs


class Command(BaseCommand):
    help = "按指定日期（默认今天）运行每日任务：域名生效、续费生效、过期、到期提醒（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD，默认今天")
        parser.add_argument(
            "--allow-future",
            action="store_true",
            help="允许未来的日期（只用于演练：会提前激活、续费和过期域名）",
        )

    def handle(self, *args, **options):
        day = None
        if options.get("date"):
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("日期格式应为 YYYY-MM-DD") from None
            today = timezone.localdate()
            if day > today and not options["allow_future"]:
                raise CommandError(
                    f"{day} 晚于今天（{today}）：按未来日期运行会提前激活、续费和过期域名。"
                    "补跑漏掉的日期只需今天及以前的日期；确需演练请加 --allow-future。"
                )
        result = jobs.run_all(day)
        self.stdout.write(
            f"域名生效 {result['activated']}，续费生效 {result['renewed']}，"
            f"过期 {result['expired']}，到期提醒 {result['reminders']}"
        )
