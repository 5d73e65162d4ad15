from django.apps import AppConfig


class ConacConfig(AppConfig):
    name = "conac"
    verbose_name = "系统"

    def ready(self):
        # checks registers the deployment checks; sessions counts a login as the session's last refresh.
        from . import checks, sessions  # noqa: F401
