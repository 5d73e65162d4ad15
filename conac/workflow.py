"""Declared state machines: each lifecycle's table of (from, to) → who may take the step.

Services ask ``check`` before they change a status, so the table next to each model is
the rule itself, not a comment: a step missing from it raises and changes nothing.
"""


class TransitionError(Exception):
    """A state change the lifecycle does not allow; the message is shown to the user."""


def check(table, from_state, to_state, role, *, labels=None):
    """Raise ``TransitionError`` unless ``table`` lets ``role`` move ``from_state`` → ``to_state``."""
    allowed_role = table.get((from_state, to_state))
    if allowed_role is None or allowed_role != role:
        labels = labels or {}
        raise TransitionError(
            f"不允许的状态变更：“{labels.get(from_state, from_state)}”→“{labels.get(to_state, to_state)}”。"
        )
