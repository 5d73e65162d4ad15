from django.apps import AppConfig


class RdapConfig(AppConfig):
    name = "rdap"
    verbose_name = "RDAP 与域名信息查询"

    def ready(self):
        from . import freshness

        freshness.connect()
