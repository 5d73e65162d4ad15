"""Write the NSD configuration that serves the published zones.

    python manage.py nsd_config --output /etc/nsd/nsd.conf [--port 53] [--ip 192.0.2.1 --ip 2001:db8::1]

One zone per suffix from DNS_ZONE_DIR, remote control on a unix socket beside the file
(``nsd-control -c FILE reload <zone>.`` needs no TLS keys), zone transfers and NOTIFY
for the addresses in DNS_SECONDARIES only. Point DNS_NSD_CONTROL and DNS_NSD_CONFIG at it
so that every publish reloads the zone.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.dns import nsd, zones
from registry.domains.names import SUFFIXES


class Command(BaseCommand):
    help = "生成NSD配置文件（服务已发布的区域，经unix套接字远程控制，只允许配置的辅服务器传送区域）"

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="配置文件路径，如 /etc/nsd/nsd.conf")
        parser.add_argument("--port", type=int, default=53)
        parser.add_argument(
            "--ip", action="append", dest="addresses", metavar="ADDR", help="监听地址（可重复，默认 127.0.0.1）"
        )
        parser.add_argument("--run-dir", help="运行文件（pid、日志、控制套接字）所在目录，默认与配置文件同目录")
        parser.add_argument("--server-count", type=int, default=1, help="NSD 服务进程数")
        parser.add_argument("--username", default="", help="NSD 启动后切换到的用户（默认不切换）")

    def handle(self, *args, **options):
        output = Path(options["output"])
        config = {
            "port": options["port"],
            "addresses": options["addresses"] or ["127.0.0.1"],
            "server_count": options["server_count"],
            "username": options["username"],
        }
        if options["run_dir"]:
            config["run_dir"] = options["run_dir"]
        try:
            path = nsd.write_config(output, **config)
        except nsd.NsdConfigError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已写出 {path}")
        self.stdout.write(f"区域目录 {Path(settings.DNS_ZONE_DIR).resolve()}：")
        for zone in SUFFIXES.values():
            file = zones.zone_path(zone)
            shown = "" if file.exists() else "（尚未发布，请运行 manage.py publish_zones --force）"
            self.stdout.write(f"  {zone}. → {file.name}{shown}")
        secondaries = nsd.parse_secondaries(settings.DNS_SECONDARIES)
        if secondaries:
            listed = "、".join(s.notify_target for s in secondaries)
            self.stdout.write(f"允许区域传送并通知：{listed}")
        else:
            self.stdout.write("没有配置辅服务器（DNS_SECONDARIES），不允许区域传送。")
        control = nsd.find_program("nsd-control") or "nsd-control"
        self.stdout.write(f"发布后自动重新加载，请设置：DNS_NSD_CONTROL={control} DNS_NSD_CONFIG={path}")
