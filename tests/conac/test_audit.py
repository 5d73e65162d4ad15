"""The audit log: who did what to which object, from which state to which, and why."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from conac.audit import history_of, record
from conac.models import AuditEntry
from registry.models import User


def test_record_writes_actor_action_states_reason_and_data(unit, office_user):
    entry = record(
        unit,
        "审核通过",
        actor=office_user,
        from_state="pending_local",
        to_state="pending_conac",
        reason="材料齐全",
        data={"years": 2},
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == office_user
    assert entry.actor_label == "hd_staff"
    assert entry.action == "审核通过"
    assert entry.target == unit
    assert entry.object_repr == unit.name
    assert (entry.from_state, entry.to_state) == ("pending_local", "pending_conac")
    assert entry.reason == "材料齐全"
    assert entry.data == {"years": 2}
    assert entry.created_at is not None


def test_unit_actor_is_labelled_with_its_unit_name(unit, unit_user):
    entry = record(unit, "修改密码", actor=unit_user)
    assert entry.actor_label == f"{unit.name}（alice）"


def test_system_actions_have_no_actor(unit):
    entry = record(unit, "自动生效", actor=None, from_state="activating", to_state="active")
    assert entry.actor is None and entry.actor_label == "系统"
    assert entry.from_state == "activating" and entry.data == {} and entry.reason == ""


def test_history_is_newest_first_and_only_of_that_object(unit, other_unit, office_user):
    first = record(unit, "第一步", actor=office_user, to_state="a")
    second = record(unit, "第二步", actor=office_user, from_state="a", to_state="b")
    third = record(unit, "第三步", actor=office_user, from_state="b", to_state="c")
    record(other_unit, "别的单位", actor=office_user)
    # Same object id, different model: not this unit's history.
    AuditEntry.objects.create(
        actor_label="x",
        action="别的模型",
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(unit.pk),
        object_repr="x",
    )

    history = list(history_of(unit))
    registered = history[-1]
    assert registered.action == "新用户注册"  # written by register_unit in the factory
    assert [e.pk for e in history[:3]] == [third.pk, second.pk, first.pk]
    assert all(e.action not in {"别的单位", "别的模型"} for e in history)


def test_entry_exists_exactly_when_the_change_does(unit, office_user):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(unit, "回滚的操作", actor=office_user)
        raise RuntimeError("the service failed after writing its audit row")
    assert AuditEntry.objects.count() == before
    assert not history_of(unit).filter(action="回滚的操作").exists()


def test_history_shows_on_the_unit_page_as_banli_jilu(client_for, office_user, unit):
    record(unit, "测试操作", actor=office_user, from_state="旧状态", to_state="新状态", reason="测试原因")
    body = client_for(office_user).get(f"/units/{unit.public_id}/").content.decode()
    assert "办理记录" in body
    assert "测试操作" in body and "旧状态 → 新状态" in body and "测试原因" in body
    assert body.index("测试操作") < body.index("新用户注册")  # newest first
