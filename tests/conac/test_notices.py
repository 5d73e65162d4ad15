"""Notices: queued only on commit, once per key, delivered with attempts recorded and retried."""

import hashlib
import hmac
import json
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import requests
from django.core import mail
from django.db import transaction

from conac import notices, sms
from conac.models import Notice
from conac.tasks import send_notice

CONTEXT = {"unit": {"name": "测试单位"}, "username": "tester", "office": {"name": "北京市海淀区委编办"}}


class TransientFailBackend:
    def send(self, recipient, body):
        raise sms.TransientSendError("网关超时")


class PermanentFailBackend:
    def send(self, recipient, body):
        raise sms.PermanentSendError("号码无效")


class FlakyBackend:
    """Fails the first two times, then delivers: what a gateway hiccup looks like."""

    calls = 0

    def send(self, recipient, body):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= 2:
            raise sms.TransientSendError(f"第{FlakyBackend.calls}次失败")
        sms.outbox.append({"to": recipient, "body": body})


def queue_registered(key="unit:1:registered", sms_to="+8613800138000", email_to="a@example.cn"):
    return notices.queue("unit_registered", key=key, context=CONTEXT, sms_to=sms_to, email_to=email_to)


def test_a_committed_change_queues_and_sends_both_channels(db, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            queued = queue_registered()
            assert sms_outbox == [] and mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 2
    assert {n.channel for n in queued} == {"sms", "email"}

    sms_notice = Notice.objects.get(channel="sms")
    assert sms_notice.status == "sent" and sms_notice.attempts == 1 and sms_notice.sent_at is not None
    assert sms_notice.body.startswith("【政务和公益机构域名注册管理中心】测试单位")
    assert sms_outbox == [{"to": "+8613800138000", "body": sms_notice.body}]

    email_notice = Notice.objects.get(channel="email")
    assert email_notice.status == "sent" and email_notice.attempts == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@example.cn"]
    assert message.subject == "网上名称注册管理系统注册成功"
    assert "用户名：tester" in message.body and "北京市海淀区委编办" in message.body


def test_a_rolled_back_change_sends_nothing(db, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_registered()
            raise RuntimeError("the service failed after queueing")
    assert callbacks == []
    assert not Notice.objects.exists()
    assert sms_outbox == [] and mail.outbox == []


def test_the_same_key_is_never_queued_twice(db, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_registered()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = queue_registered()
    assert len(first) == 2 and second == [] and callbacks == []
    assert Notice.objects.count() == 2
    assert len(sms_outbox) == 1 and len(mail.outbox) == 1
    # A different key (another period, another object) is another notice.
    with django_capture_on_commit_callbacks(execute=True):
        third = queue_registered(key="unit:2:registered", email_to="")
    assert [n.channel for n in third] == ["sms"]
    assert Notice.objects.count() == 3 and len(sms_outbox) == 2


def test_a_duplicate_inside_a_larger_transaction_does_not_break_it(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_registered(email_to="")
        assert queue_registered(email_to="") == []
        Notice.objects.count()  # the outer transaction is still usable
    assert Notice.objects.filter(channel="sms").count() == 1


def test_no_recipient_no_notice(db):
    assert queue_registered(sms_to="", email_to="") == []
    assert not Notice.objects.exists()


def _queued_sms():
    notice, *_ = queue_registered(email_to="")
    return notice


def test_deliver_marks_sent_once(db, sms_outbox):
    notice = _queued_sms()
    notices.deliver(notice.pk)
    notices.deliver(notice.pk)  # a repeated task finds it sent and does nothing
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 1 and notice.error == ""
    assert len(sms_outbox) == 1


def test_transient_failure_records_the_attempt_and_stays_queued(db, settings):
    settings.SMS_BACKEND = "tests.conac.test_notices.TransientFailBackend"
    notice = _queued_sms()
    with pytest.raises(sms.TransientSendError):
        notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.QUEUED
    assert notice.attempts == 1 and notice.error == "网关超时" and notice.sent_at is None


def test_transient_failures_give_up_after_the_last_attempt(db, settings):
    settings.SMS_BACKEND = "tests.conac.test_notices.TransientFailBackend"
    notice = _queued_sms()
    for _ in range(notices.MAX_ATTEMPTS - 1):
        with pytest.raises(sms.TransientSendError):
            notices.deliver(notice.pk)
    notices.deliver(notice.pk)  # the last attempt fails for good: no retry asked
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED and notice.attempts == notices.MAX_ATTEMPTS


def test_permanent_failure_is_failed_at_once(db, settings, sms_outbox):
    settings.SMS_BACKEND = "tests.conac.test_notices.PermanentFailBackend"
    notice = _queued_sms()
    notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED and notice.attempts == 1 and notice.error == "号码无效"
    # The same task delivered again (acks_late after a worker crash) does not try again.
    settings.SMS_BACKEND = "conac.sms.LocmemBackend"
    notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED and notice.attempts == 1
    assert sms_outbox == []


def test_the_task_retries_transient_failures_until_sent(db, settings, sms_outbox):
    from conac.celery import app

    settings.SMS_BACKEND = "tests.conac.test_notices.FlakyBackend"
    FlakyBackend.calls = 0
    notice = _queued_sms()
    # In-process, without propagation, Celery runs each retry at once instead of raising Retry.
    app.conf.task_eager_propagates = False
    try:
        send_notice.apply(args=[notice.pk])
    finally:
        app.conf.task_eager_propagates = True
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 3
    assert len(sms_outbox) == 1


def test_email_smtp_failure_is_transient(db):
    notice, *_ = queue_registered(sms_to="")
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("断开")):
        with pytest.raises(sms.TransientSendError):
            notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.QUEUED and notice.attempts == 1 and "断开" in notice.error
    notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.SENT and notice.attempts == 2
    assert mail.outbox[0].to == ["a@example.cn"]


def test_resend_queued_picks_up_stale_notices_only(db, sms_outbox):
    def queued(key, age, attempts=0):
        notice, *_ = queue_registered(key=key, email_to="")
        Notice.objects.filter(pk=notice.pk).update(created_at=notice.created_at - age, attempts=attempts)
        return notice

    never_sent = queued("never-sent", timedelta(minutes=20))  # the broker was down at commit
    fresh = queued("fresh", timedelta(minutes=1))  # its task is still on the way
    in_backoff = queued("in-backoff", timedelta(minutes=20), attempts=2)  # its retry is scheduled
    lost_retry = queued("lost-retry", timedelta(hours=2), attempts=2)  # its retry never came
    assert notices.resend_queued(older_than_minutes=10) == 2
    statuses = {
        n.key: n.status for n in Notice.objects.filter(pk__in=[never_sent.pk, fresh.pk, in_backoff.pk, lost_retry.pk])
    }
    assert statuses == {"never-sent": "sent", "fresh": "queued", "in-backoff": "queued", "lost-retry": "sent"}
    assert len(sms_outbox) == 2


# --- The HTTP SMS gateway ------------------------------------------------------------------


@pytest.fixture
def gateway(settings):
    settings.SMS_GATEWAY_URL = "https://sms-gateway.invalid/send"
    settings.SMS_GATEWAY_SECRET = "s3cret"
    settings.SMS_GATEWAY_TIMEOUT = 3.0
    return sms.HttpGatewayBackend()


def _response(status, text=""):
    return mock.Mock(status_code=status, text=text)


def test_gateway_signs_each_request(gateway):
    with mock.patch("conac.sms.requests.post", return_value=_response(200)) as post:
        gateway.send("+8613800138000", "您好，测试短信")
    (url,), kwargs = post.call_args
    assert url == "https://sms-gateway.invalid/send"
    body = kwargs["data"]
    assert json.loads(body) == {"to": "+8613800138000", "text": "您好，测试短信"}
    headers = kwargs["headers"]
    expected = hmac.new(b"s3cret", headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert headers["X-Timestamp"].isdigit()
    assert kwargs["timeout"] == 3.0
    assert kwargs["allow_redirects"] is False


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_gateway_server_errors_are_transient(gateway, status):
    with mock.patch("conac.sms.requests.post", return_value=_response(status)):
        with pytest.raises(sms.TransientSendError):
            gateway.send("+8613800138000", "x")


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 422])
def test_gateway_client_errors_are_permanent(gateway, status):
    with mock.patch("conac.sms.requests.post", return_value=_response(status, "bad number")):
        with pytest.raises(sms.PermanentSendError) as exc_info:
            gateway.send("+8613800138000", "x")
    assert str(status) in str(exc_info.value)


def test_gateway_network_errors_are_transient(gateway):
    with mock.patch("conac.sms.requests.post", side_effect=requests.ConnectionError("refused")):
        with pytest.raises(sms.TransientSendError):
            gateway.send("+8613800138000", "x")


def test_gateway_without_url_is_a_permanent_failure(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(sms.PermanentSendError):
        sms.HttpGatewayBackend().send("+8613800138000", "x")


def test_gateway_backend_through_delivery(db, settings, gateway):
    settings.SMS_BACKEND = "conac.sms.HttpGatewayBackend"
    notice = _queued_sms()
    with mock.patch("conac.sms.requests.post", return_value=_response(503)):
        with pytest.raises(sms.TransientSendError):
            notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == "queued" and "503" in notice.error
    with mock.patch("conac.sms.requests.post", return_value=_response(400, "bad number")):
        notices.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.status == "failed" and notice.attempts == 2


def test_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    sms.FileBackend().send("+8613800138000", "文件短信")
    (written,) = (tmp_path / "sms").iterdir()
    assert written.read_text(encoding="utf-8") == "To: +8613800138000\n\n文件短信\n"


def test_queue_many_queues_each_key_once_and_sends_on_commit(django_capture_on_commit_callbacks, unit):
    """The daily jobs' bulk path: one row per channel and key, a second run adds nothing."""
    from conac import notices as notice_service
    from conac import sms
    from conac.models import Notice

    items = [
        {"key": f"bulk:{i}", "context": {"unit": unit, "username": "x", "office": unit.office},
         "sms_to": "+8613800138000", "email_to": f"bulk{i}@example.cn"}
        for i in range(3)
    ]  # fmt: skip
    Notice.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert notice_service.queue_many("unit_registered", items) == 6
    assert Notice.objects.filter(template="unit_registered", status=Notice.Status.SENT).count() == 6
    assert len([m for m in sms.outbox if unit.name in m["body"]]) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert notice_service.queue_many("unit_registered", items) == 0
    assert Notice.objects.filter(template="unit_registered").count() == 6
