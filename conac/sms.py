"""SMS backends, chosen by ``settings.SMS_BACKEND``.

- ``FileBackend`` (default): one text file per message under ``SMS_FILE_PATH``.
- ``ConsoleBackend``: prints the message.
- ``LocmemBackend``: keeps messages in ``conac.sms.outbox`` (tests).
- ``HttpGatewayBackend``: POSTs JSON to ``SMS_GATEWAY_URL``, signed with
  HMAC-SHA256 over ``timestamp + "." + body`` using ``SMS_GATEWAY_SECRET``.
"""

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

outbox = []


class TransientSendError(Exception):
    """A failure worth retrying later (network, gateway 5xx)."""


class PermanentSendError(Exception):
    """A failure no retry will cure (bad number, gateway refused)."""


class FileBackend:
    def send(self, recipient, body):
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
        (folder / name).write_text(f"To: {recipient}\n\n{body}\n", encoding="utf-8")


class ConsoleBackend:
    def send(self, recipient, body):
        print(f"[SMS] {recipient}: {body}")  # noqa: T201


class LocmemBackend:
    def send(self, recipient, body):
        outbox.append({"to": recipient, "body": body})


class HttpGatewayBackend:
    def send(self, recipient, body):
        if not settings.SMS_GATEWAY_URL:
            raise PermanentSendError("未配置短信网关地址 SMS_GATEWAY_URL")
        payload = json.dumps({"to": recipient, "text": body}, ensure_ascii=False).encode("utf-8")
        timestamp = str(int(time.time()))
        signature = hmac.new(
            settings.SMS_GATEWAY_SECRET.encode("utf-8"), timestamp.encode() + b"." + payload, hashlib.sha256
        ).hexdigest()
        try:
            response = requests.post(
                settings.SMS_GATEWAY_URL,
                data=payload,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Timestamp": timestamp,
                    "X-Signature": signature,
                },
                timeout=settings.SMS_GATEWAY_TIMEOUT,
                # A redirect would turn the POST into a GET that "succeeds" without sending.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise TransientSendError(str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientSendError(f"短信网关返回 {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise PermanentSendError(f"短信网关拒绝 {response.status_code}: {response.text[:200]}")


def get_backend():
    return import_string(settings.SMS_BACKEND)()
