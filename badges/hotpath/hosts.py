"""Which pages a badge belongs to. The same rule runs in the browser (static/badges/badge.js)
for the script, and here for the certificate page's ``Referer`` check.

Host names are compared in lower-case A-labels, without a port or trailing dot, so a
Unicode name and its punycode are the same name. A page's host matches a registered name
when it is the name, ``www.`` plus the name, or any name below it at a dot boundary:
``evilhd.gov.cn`` never passes for ``hd.gov.cn``, nor does ``hd.gov.cn.attacker.test``.
A 网站首页地址 with a path (``http://www.hd.gov.cn/portal/``) limits the match to pages
under that path.
"""

import posixpath
from urllib.parse import urlsplit

from django.utils.encoding import iri_to_uri

from registry.dns.forwarding import normalise_host


def badge_hosts(domain_alabel, english_domain=""):
    """The registered names in lower-case ASCII, each once: the Chinese domain's A-label first."""
    names = []
    for raw in (domain_alabel, english_domain):
        name = normalise_host(raw or "")
        if name and name not in names:
            names.append(name)
    return tuple(names)


def path_limit(home_url):
    """The path a home page address limits the badge to, without its trailing slash ('' for none).

    ``/portal/`` and ``/portal/index.html`` limit to ``/portal``; ``/`` and ``/index.html``
    do not limit. Non-ASCII paths are percent-encoded, as ``location.pathname`` gives them.
    """
    try:
        path = urlsplit((home_url or "").strip()).path
    except ValueError:
        return ""
    if "." in path.rsplit("/", 1)[-1]:
        path = posixpath.dirname(path)  # a file (index.html): its folder is the site
    path = path.rstrip("/")
    return iri_to_uri(path) if path else ""


def host_matches(host, names):
    """Whether ``host`` (any form: Unicode, port, trailing dot, case) is one of ``names`` or below one."""
    host = normalise_host(host or "")
    if not host:
        return False
    return any(host == name or host.endswith("." + name) for name in names)


def path_matches(path, limit):
    return not limit or path == limit or (path or "/").startswith(limit + "/")


def referer_host(referer):
    """The normalised host of a ``Referer`` header ('' when there is none or it has no host)."""
    if not referer:
        return ""
    try:
        return normalise_host(urlsplit(referer.strip()).netloc.rpartition("@")[2])
    except ValueError:
        return ""


def site_names():
    """The staff site's own names written out in ``SITE_HOSTS`` (patterns left out), in A-labels."""
    from django.conf import settings

    names = []
    for entry in settings.SITE_HOSTS:
        if entry and entry[0] not in ".*":
            name = normalise_host(entry)
            if name and name not in names:
                names.append(name)
    return names
