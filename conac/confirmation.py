"""Asking before an action that cannot be undone (认款, 审核通过, 删除域名, 确认收费, 重置密码, 撤销…).

Every such form posts ``confirmed=1`` only once the user has said yes. With JavaScript the
question is a keyboard-operable ``<dialog>`` (``static/js/conac.js``, from the button's
``data-confirm`` text); without it the view sees no ``confirmed`` and answers with this
confirmation step instead: the question, what will happen, and the same POST again with
``confirmed=1`` under 确定 (取消 goes back). The step changes nothing, so reloading it is harmless.
"""

from django.shortcuts import render

CONFIRMED = "confirmed"
NOT_REPEATED = {"csrfmiddlewaretoken", CONFIRMED}


def is_confirmed(request):
    return request.POST.get(CONFIRMED) == "1"


def ask(request, *, question, details=(), cancel_url, action=None, button="确定", danger=True, extra_fields=None):
    """The server-rendered confirmation step for a POST that came without ``confirmed=1``.

    ``details`` are lines saying what will happen; ``extra_fields`` a form whose fields the step
    asks for too (the 删除域名 reason), rendered in place of their hidden copies.
    """
    skip = set(NOT_REPEATED)
    if extra_fields is not None:
        skip |= {field.name for field in extra_fields.visible_fields()}
    hidden = [(key, value) for key in request.POST for value in request.POST.getlist(key) if key not in skip]
    context = {
        "question": question,
        "details": list(details),
        "hidden": hidden,
        "action": action or request.get_full_path(),
        "cancel_url": cancel_url,
        "button": button,
        "danger": danger,
        "extra_form": extra_fields,
    }
    template = "partials/confirm_step.html" if getattr(request, "htmx", False) else "conac/confirm.html"
    return render(request, template, context)


def batch_question(verb, names, *, measure, noun, shown=20):
    """“确认审核通过 8 个域名？” with the names below it; one row is named in the question itself."""
    names = list(names)
    if len(names) == 1:
        return f"确认{verb}“{names[0]}”？", []
    details = names[:shown]
    if len(names) > shown:
        details.append(f"等共 {len(names)} {measure}{noun}")
    return f"确认{verb} {len(names)} {measure}{noun}？", details


def queue_question(request, form, rows, *, measure, noun, cancel_url):
    """The confirmation step of a review queue's 审核通过 / 审核不通过 for the ticked ``rows`` (labels)."""
    verb = "审核通过" if form.cleaned_data["action"] == "approve" else "审核不通过"
    question, details = batch_question(verb, rows, measure=measure, noun=noun)
    opinion = (form.cleaned_data.get("opinion") or "").strip()
    if opinion:
        details.append(f"审核意见：{opinion}")
    return ask(
        request, question=question, details=details, cancel_url=cancel_url, button=verb, danger=verb != "审核通过"
    )
