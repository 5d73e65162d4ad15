from django.apps import AppConfig


class RdapConfig(AppConfig):
    name = "rdap"
    verbose_name = "RDAP 与域名信息查询"
