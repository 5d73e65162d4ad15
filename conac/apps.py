from django.apps import AppConfig


class ConacConfig(AppConfig):
    name = "conac"
    verbose_name = "系统"
