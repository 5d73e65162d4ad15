import datetime

from django.core.management.base import BaseCommand, CommandError

from billing import jobs


class Command(BaseCommand):
    help = "按指定日期（默认今天）运行每日任务：域名生效、续费生效、过期、到期提醒（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD，默认今天")

    def handle(self, *args, **options):
        day = None
        if options.get("date"):
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("日期格式应为 YYYY-MM-DD") from None
        result = jobs.run_all(day)
        self.stdout.write(
            f"域名生效 {result['activated']}，续费生效 {result['renewed']}，"
            f"过期 {result['expired']}，到期提醒 {result['reminders']}"
        )
