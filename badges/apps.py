from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"
    verbose_name = "网站开办审核与网站标识"

    def ready(self):
        from registry.dns import forwarding
        from registry.domains import hooks

        from . import public, redpages

        # 网络红页 at a unit's own domain: tried by the routing middleware after URL转发 misses.
        if redpages.serve_host not in forwarding.HOST_HANDLERS:
            forwarding.HOST_HANDLERS.append(redpages.serve_host)

        # The unit's name, kind or address are on its certificate pages: refresh them after 修改.
        if public.unit_changed not in hooks.unit_changed:
            hooks.unit_changed.append(public.unit_changed)
        # The zone points a red page's domains at this system (where serve_host answers them).
        if redpages.hosted_domain_ids not in hooks.hosted_domain_ids:
            hooks.hosted_domain_ids.append(redpages.hosted_domain_ids)

        # 首页的待办: applications to review and paper to confirm.
        from . import todo

        todo.register()
