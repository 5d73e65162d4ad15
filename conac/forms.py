"""Form pieces every app shares: the date field that reads 2026-12-31 and 2026年12月31日."""

from django import forms
from django.core.exceptions import ValidationError

from conac import formats


class DateInput(forms.DateInput):
    """A text box, not ``type=date``: what can be typed must not depend on the browser's locale.

    ``static/js/datepicker.js`` attaches the vendored picker to every ``data-datepicker``
    input; without JavaScript the box still takes a typed date, which the server reads.
    """

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {
            "data-datepicker": "",
            "autocomplete": "off",
            "placeholder": "例如 2026-12-31",
            "maxlength": 20,
            "size": 12,
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format=formats.DATE_FORMAT)


class DateField(forms.DateField):
    """A date typed as 2026-12-31 or 2026年12月31日 (full-width digits too), whatever the browser."""

    widget = DateInput

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "格式：2026-12-31 或 2026年12月31日")
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if hasattr(value, "year") and hasattr(value, "month"):
            return super().to_python(value)
        try:
            return formats.parse_date(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None
