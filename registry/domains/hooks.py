"""Explicit extension points of the domain lifecycle.

Apps that build on ``registry`` (billing) append their functions here in their
``AppConfig.ready``; registry's services call them inside the same transaction as
the change, so dependencies keep pointing one way and nothing runs by magic.
"""

# fn(domain, actor): CONAC approved the application (the domain is now 待缴费).
domain_approved = []
# fn(domain, actor, reason): the office deleted the domain (删除域名).
domain_deleted = []
# fn(unit, old_office_id, actor): the unit's level or region changed, and with it its 同级编办.
unit_office_changed = []
# fn(suffix) → ids of domains whose site this system serves itself (网络红页): the zone points
# their @ and www at DNS_FORWARDING_ADDRESSES, unless the unit's own records say otherwise.
hosted_domain_ids = []
# fn(unit, changed, actor): 修改 changed the unit's information (``changed``: field → [before, after]).
unit_changed = []


def run(hooks, *args, **kwargs):
    for hook in hooks:
        hook(*args, **kwargs)
