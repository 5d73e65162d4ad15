"""Documents (receipts, 申请函, 申请表, 标识证书) as HTML templates rendered to PDF."""

from django.conf import settings
from django.template.loader import render_to_string

# Every Chinese glyph is a box without a CJK face: the serif for 公文 body text, the sans
# as its fallback (both from Debian's fonts-noto-cjk).
BASE_CSS = """
@page { size: A4; margin: 20mm 18mm; }
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 11pt; line-height: 1.6; }
"""


def render_pdf(template_name, context, request=None):
    """Render ``template_name`` with ``context`` and return the PDF bytes."""
    # Imported here: WeasyPrint loads Pango at import time, which most requests never need.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_to_string(template_name, context, request=request)
    fonts = FontConfiguration()
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(string=BASE_CSS, font_config=fonts)], font_config=fonts
    )
