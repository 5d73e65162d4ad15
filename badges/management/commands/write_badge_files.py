"""Rewrite every badge's data script under ``BADGE_PUBLIC_DIR`` for the front server.

    python manage.py write_badge_files

Run after each deployment (docker compose's ``migrate`` job does): the scripts name the
logic file and images by their hashed static names, which change with their content.
Files whose content is already right are left alone; it can run at any time.
"""

from django.core.management.base import BaseCommand, CommandError

from badges.hotpath import files


class Command(BaseCommand):
    help = "把所有网站标识的数据脚本写入 BADGE_PUBLIC_DIR（供 nginx 直接提供），内容未变的文件不动"

    def handle(self, *args, **options):
        folder = files.public_dir()
        if folder is None:
            raise CommandError("BADGE_PUBLIC_DIR 为空：未启用前端服务器路径。")
        written, unchanged = files.rewrite_all()
        self.stdout.write(f"{folder}：写入 {written} 个，未变 {unchanged} 个")
