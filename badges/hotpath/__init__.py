"""The badge's public hot path: what every visitor of a badged website loads.

Answered before the session and authentication middleware (``middleware``), from a
per-process table with versioned invalidation (``entries``, built on ``conac.hotcache``):

- ``/js/PP/CCC/DDDD/NNNNNNNN/CA….js`` — the badge's small data script, which loads the one
  static, content-hashed logic file every badge shares (``static/badges/badge.js``);
- ``/img/CA….png`` — the badge image for the no-JavaScript snippet (the error variant
  once the badge is revoked);
- ``/certificate/<32 hex>/`` — the public 标识证书 page;
- on the badge host only, ``/static/badges/…`` (the logic file and the images).

The host and path rule a page must pass is in ``hosts``; the data files a front server
(nginx) serves directly are written by ``files``.
"""
