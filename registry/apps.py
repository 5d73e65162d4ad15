from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "域名注册"

    def ready(self):
        # Explicit hooks (not signals): a deleted domain leaves the zone and the forwarding table.
        from .dns import services as dns_services
        from .domains import hooks

        hooks.domain_deleted.append(dns_services.domain_left_service)

        # 首页的待办: the counts registry knows (conac.todo imports no app, apps register into it).
        from . import todo

        todo.register()

        # What the staff pages keep of domains is dropped when anything it shows changes.
        from .domains import freshness

        freshness.connect()
