"""The registry tests' shared fixture: 获取验证码 as the page does it."""

import pytest

from tests.registry.test_registration import CODE_URL, MOBILE, code_sent_to


@pytest.fixture
def get_code(client, django_capture_on_commit_callbacks):
    """获取验证码 as the page's button does (htmx); returns the code the SMS carried."""

    def request(mobile=MOBILE):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(CODE_URL, {"contact_mobile": mobile}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.content.decode()
        assert "验证码已发送" in response.content.decode(), response.content.decode()
        return code_sent_to(mobile)

    return request
