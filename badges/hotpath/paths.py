"""The public URLs of a badge: one place that builds them and one that reads them back."""

import re
from urllib.parse import urlsplit

from django.conf import settings

# The code's digits as folders, as CONAC's badge has always been served:
# /js/PP/CCC/DDDD/NNNNNNNN/CA + PP CCC DDDD NNNNNNNN SSSS .js
SCRIPT = re.compile(r"/js/(\d{2})/(\d{3})/(\d{4})/(\d{8})/(CA\d{21})\.js")
IMAGE = re.compile(r"/img/(CA\d{21})\.png")
CERTIFICATE = re.compile(r"/certificate/([0-9a-f]{32})/")
PREFIXES = ("/js/", "/img/", "/certificate/")


def script_path(code):
    digits = code[2:]
    return f"/js/{digits[0:2]}/{digits[2:5]}/{digits[5:9]}/{digits[9:17]}/{code}.js"


def code_of_script_path(path):
    """The code a script path names, or None (no match, or folders that are not the code's digits)."""
    match = SCRIPT.fullmatch(path)
    if match is None:
        return None
    code = match.group(5)
    return code if "".join(match.groups()[:4]) == code[2:19] else None


def image_path(code):
    return f"/img/{code}.png"


def certificate_path(certificate_id):
    return f"/certificate/{certificate_id}/"


def public_url(path):
    """``path`` on the badge host (``BADGE_BASE_URL``); an absolute URL is kept as it is."""
    if urlsplit(path).scheme:
        return path
    return settings.BADGE_BASE_URL.rstrip("/") + path
