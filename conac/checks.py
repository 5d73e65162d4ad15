"""Deployment checks of this project's own settings (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache_with_a_broker(app_configs, **kwargs):
    """With a real broker there are several processes: the publish trigger and the URL转发
    table's version must live in a shared cache, or changes wait for beat and other web
    processes keep forwarding to the old target."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CELERY_BROKER_URL.startswith("memory://") or "locmem" not in backend:
        return []
    return [
        checks.Warning(
            "设置了消息代理，但缓存是进程内缓存：URL转发的版本号和区域发布的合并标记无法在进程间共享。",
            hint="设置 CACHE_URL，如 redis://redis:6379/1。",
            id="conac.W001",
        )
    ]
