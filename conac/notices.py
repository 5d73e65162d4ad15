"""SMS and email notices.

A service calls :func:`queue` inside its transaction. The notice row is written
in that transaction, and the sending task is queued only when it commits: a
rolled-back change sends nothing. The unique (key, channel, recipient) makes a
second queue of the same notice a no-op.

Texts are templates: ``notices/<template>.sms.txt`` for SMS,
``notices/<template>.subject.txt`` and ``notices/<template>.email.txt`` for email.

Nothing is queued to an address whose owner has not proven it is theirs: the function named
by ``settings.NOTICE_UNVERIFIED_RECIPIENTS`` (the registry's, which knows the units) says which
recipients to skip. Only the message that proves an address (``to_unverified=True``) goes there.
"""

import logging
import smtplib
from datetime import timedelta

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template import Context, Engine
from django.utils import timezone
from django.utils.module_loading import import_string

from . import sms
from .models import Notice

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_WINDOW = timedelta(hours=1)


def queue(template, *, key, context, sms_to="", email_to="", to_unverified=False):
    """Queue the SMS and/or email ``template`` for the given recipients, once per ``key``.

    Unverified recipients are skipped, unless ``to_unverified``: only for the message that
    verifies the address itself (a confirmation link).
    """
    if not to_unverified:
        sms_to = sms_to if sms_to in _verified(Notice.Channel.SMS, [sms_to]) else ""
        email_to = email_to if email_to in _verified(Notice.Channel.EMAIL, [email_to]) else ""
    notices = []
    if sms_to:
        body = _render(f"notices/{template}.sms.txt", context).strip()
        notices.append(_create(Notice.Channel.SMS, sms_to, template, key, "", body))
    if email_to:
        subject = " ".join(_render(f"notices/{template}.subject.txt", context).split())
        body = _render(f"notices/{template}.email.txt", context).strip()
        notices.append(_create(Notice.Channel.EMAIL, email_to, template, key, subject, body))
    return [n for n in notices if n is not None]


def queue_many(template, items):
    """Queue one notice per item in a few statements (daily jobs touching thousands of domains).

    ``items`` are dicts with ``key``, ``context`` and optional ``sms_to`` / ``email_to``.
    Keys already queued are skipped by the database (the same unique constraint as ``queue``).
    """
    items = list(items)
    verified_sms = _verified(Notice.Channel.SMS, [item.get("sms_to") for item in items])
    verified_email = _verified(Notice.Channel.EMAIL, [item.get("email_to") for item in items])
    rows = []
    for item in items:
        context = item["context"]
        if item.get("sms_to") in verified_sms:
            rows.append(
                Notice(
                    channel=Notice.Channel.SMS,
                    recipient=item["sms_to"],
                    template=template,
                    key=item["key"],
                    body=_render(f"notices/{template}.sms.txt", context).strip(),
                )
            )
        if item.get("email_to") in verified_email:
            rows.append(
                Notice(
                    channel=Notice.Channel.EMAIL,
                    recipient=item["email_to"],
                    template=template,
                    key=item["key"],
                    subject=" ".join(_render(f"notices/{template}.subject.txt", context).split()),
                    body=_render(f"notices/{template}.email.txt", context).strip(),
                )
            )
    if not rows:
        return 0
    Notice.objects.bulk_create(rows, ignore_conflicts=True)
    # ignore_conflicts gives no primary keys back: find the fresh rows by their keys.
    pks = list(
        Notice.objects.filter(
            template=template, key__in={r.key for r in rows}, status=Notice.Status.QUEUED, attempts=0
        ).values_list("pk", flat=True)
    )
    from .tasks import send_notice

    transaction.on_commit(lambda: [send_notice.delay(pk) for pk in pks], robust=True)
    return len(pks)


def _verified(channel, recipients):
    """The given recipients less those the project's check holds back as not yet verified."""
    from django.conf import settings

    recipients = {r for r in recipients if r}
    check = getattr(settings, "NOTICE_UNVERIFIED_RECIPIENTS", "")
    if not recipients or not check:
        return recipients
    held = set(import_string(check)(channel, recipients))
    for recipient in held:
        log.info("notice by %s to %s skipped: the address is not verified", channel, recipient)
    return recipients - held


def _text_engine():
    """The project's templates, without HTML escaping: SMS and email are plain text."""
    from django.conf import settings

    global _engine
    if _engine is None:
        django_engine = Engine.get_default()
        _engine = Engine(
            dirs=django_engine.dirs,
            app_dirs=True,
            autoescape=False,
            libraries=django_engine.libraries,
            builtins=[],
            debug=settings.DEBUG,
        )
    return _engine


_engine = None


def _render(name, context):
    return _text_engine().get_template(name).render(Context(context, autoescape=False))


def _create(channel, recipient, template, key, subject, body):
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                channel=channel, recipient=recipient, template=template, key=key, subject=subject, body=body
            )
    except IntegrityError:
        return None  # already queued once for this key: never twice
    from .tasks import send_notice

    # robust: a broker hiccup after commit must not turn a committed change into an error page;
    # the row stays 待发送 and the ``resend_queued_notices`` beat task picks it up.
    transaction.on_commit(lambda: send_notice.delay(notice.pk), robust=True)
    return notice


def deliver(notice_pk):
    """Send one queued notice. Raises ``sms.TransientSendError`` to ask for a retry."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice_pk)
        # A redelivered task (acks_late) must neither resend a sent notice nor retry a failed one.
        if notice.status != Notice.Status.QUEUED:
            return notice
        notice.attempts += 1
        try:
            if notice.channel == Notice.Channel.SMS:
                sms.get_backend().send(notice.recipient, notice.body)
            else:
                EmailMessage(notice.subject, notice.body, to=[notice.recipient]).send()
        except (sms.TransientSendError, smtplib.SMTPException, OSError) as exc:
            notice.error = str(exc)[:2000]
            notice.status = Notice.Status.FAILED if notice.attempts >= MAX_ATTEMPTS else Notice.Status.QUEUED
            notice.save(update_fields=["attempts", "error", "status"])
            raise_after = exc if notice.status == Notice.Status.QUEUED else None
        except sms.PermanentSendError as exc:
            notice.error = str(exc)[:2000]
            notice.status = Notice.Status.FAILED
            notice.save(update_fields=["attempts", "error", "status"])
            log.warning("notice %s failed permanently: %s", notice.pk, exc)
            return notice
        else:
            notice.status = Notice.Status.SENT
            notice.sent_at = timezone.now()
            notice.error = ""
            notice.save(update_fields=["attempts", "error", "status", "sent_at"])
            return notice
    # The attempt is recorded (committed) before the retry is requested.
    if raise_after is not None:
        raise sms.TransientSendError(str(raise_after)) from raise_after
    return notice


def resend_queued(older_than_minutes=10):
    """Queue again the notices still waiting (e.g. the broker was down at commit)."""
    from .tasks import send_notice

    now = timezone.now()
    # A notice already tried is in its task's retry backoff (about 16 minutes in all): sending
    # it again meanwhile would start a second retry chain. Only one whose retry was lost, long
    # after the backoff ended, is queued again.
    stale = Q(attempts=0, created_at__lt=now - timedelta(minutes=older_than_minutes)) | Q(
        attempts__gt=0, created_at__lt=now - RETRY_WINDOW
    )
    pks = list(Notice.objects.filter(stale, status=Notice.Status.QUEUED).values_list("pk", flat=True))
    for pk in pks:
        send_notice.delay(pk)
    return len(pks)
