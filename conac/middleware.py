"""Request hygiene shared by every view."""

from django.http import HttpResponseBadRequest


class RejectNulBytesMiddleware:
    """A NUL byte in a query or form value is never legitimate input, and PostgreSQL cannot
    store or compare it: answer 400 with a Chinese message instead of letting it reach a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for data in (request.GET, request.POST if request.method == "POST" else {}):
            for values in data.lists() if hasattr(data, "lists") else ():
                if any("\x00" in value for value in values[1]):
                    return HttpResponseBadRequest(
                        "提交的内容含有无效字符，请检查后重新输入。".encode(), content_type="text/plain; charset=utf-8"
                    )
        return self.get_response(request)
