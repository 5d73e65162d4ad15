from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = "网站开办审核与网站标识"

    def ready(self):
        from registry.dns import forwarding

        from . import redpages

        # 网络红页 at a unit's own domain: tried by the routing middleware after URL转发 misses.
        if redpages.serve_host not in forwarding.HOST_HANDLERS:
            forwarding.HOST_HANDLERS.append(redpages.serve_host)
