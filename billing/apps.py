from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "收费与对账"

    def ready(self):
        # Explicit hooks (not signals): registry calls them inside its own transactions.
        from registry.domains import hooks

        from . import services

        hooks.domain_approved.append(services.create_registration_charge)
        hooks.domain_deleted.append(services.settle_charges_of_deleted_domain)
        hooks.unit_office_changed.append(services.move_unpaid_charges)

        # 首页的待办: 待缴费, 汇款, 待认款 and the money per province.
        from . import todo

        todo.register()
