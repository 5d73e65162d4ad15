from django.apps import AppConfig


class ConacConfig(AppConfig):
    name = "conac"
    verbose_name = "系统"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
