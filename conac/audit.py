"""The audit log: one call that every state-changing service makes."""

from django.contrib.contenttypes.models import ContentType

from .models import AuditEntry


def record(obj, action, *, actor, from_state="", to_state="", reason="", data=None):
    """Write one audit entry for ``obj``; call it inside the service's transaction."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        from_state=from_state or "",
        to_state=to_state or "",
        reason=reason or "",
        data=data or {},
    )


def history_of(obj):
    """The 办理记录 of one object, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
    ).select_related("actor")


def _actor_label(actor):
    if actor is None or not getattr(actor, "pk", None):
        return "系统"
    return actor.display_name if hasattr(actor, "display_name") else str(actor)


def record_many(objects, action, *, actor, from_state="", to_state="", reason="", data=None):
    """One audit entry per object, written in one statement (bulk operations on thousands of rows)."""
    objects = list(objects)
    if not objects:
        return []
    content_type = ContentType.objects.get_for_model(objects[0], for_concrete_model=True)
    label = _actor_label(actor)
    return AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor if getattr(actor, "pk", None) else None,
                actor_label=label,
                action=action,
                content_type=content_type,
                object_id=str(obj.pk),
                object_repr=str(obj)[:255],
                from_state=from_state or "",
                to_state=to_state or "",
                reason=reason or "",
                data=(data(obj) if callable(data) else data) or {},
            )
            for obj in objects
        ]
    )
