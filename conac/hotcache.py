"""Per-process tables for the public hot paths, invalidated by versions in the shared cache.

A hot path (URL转发, the badge script and 标识证书, 网络红页) answers from process memory: a
warm hit costs a dict lookup, no database query and no cache round trip. Writers bump a
version in the shared cache (Redis in production, see ``CACHE_URL``); each process reads
its table's versions at most once per check interval and drops the whole table when one
has moved, so a change is seen by every process within that interval (a second by
default). When the shared cache cannot be read, the table is dropped at every check and
the database decides: answers stay right, only slower.

    table = VersionedTable("dns:forwarding-version", interval=lambda: settings.FORWARDING_CHECK_INTERVAL)
    entry = table.get(host, lambda: load_entry(host))   # None is remembered too
    bump("dns:forwarding-version")                       # after the change commits
"""

import logging
import threading
import time
import uuid
from collections import OrderedDict

from django.core.cache import cache

log = logging.getLogger(__name__)

MISSING = object()
DEFAULT_MAX_ENTRIES = 100_000


def bump(*version_keys):
    """Every process drops the tables that watch these keys at its next check."""
    for key in version_keys:
        cache.set(key, uuid.uuid4().hex, timeout=None)


class VersionedTable:
    """Key → value (``None`` included), per process, dropped when a watched version moves.

    ``interval`` is seconds between version checks, or a callable returning them (read at
    each request, so a setting changed by a test takes effect at once). The table keeps at
    most ``max_entries`` keys, evicting the oldest first.
    """

    def __init__(self, *version_keys, interval=1.0, max_entries=DEFAULT_MAX_ENTRIES, name="hot cache"):
        if not version_keys:
            raise ValueError("a VersionedTable watches at least one version key")
        self.version_keys = version_keys
        self.interval = interval if callable(interval) else (lambda: interval)
        self.max_entries = max_entries
        self.name = name
        self._entries = OrderedDict()
        self._versions = None
        self._checked_at = float("-inf")
        # Bumped on every drop: a load that started before a drop must not store its answer.
        self._generation = 0
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._entries)

    def clear(self):
        """Drop everything and read the versions again on the next lookup."""
        with self._lock:
            self._drop()
            self._versions = None
            self._checked_at = float("-inf")

    def peek(self, key):
        """The value stored for ``key`` (after a due version check), or ``MISSING``."""
        now = time.monotonic()
        if now - self._checked_at >= self.interval():
            self._check_versions(now)
        return self._entries.get(key, MISSING)

    def fill(self, key, load):
        """``load()`` and remember its value, unless the table was dropped meanwhile."""
        generation = self._generation
        value = load()
        with self._lock:
            # A version change while the row was read (another thread) must not keep a stale answer.
            if generation == self._generation:
                self._entries[key] = value
                if len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def fill_many(self, load_many):
        """``load_many()`` (a dict key → value) and remember its values, unless the table was
        dropped meanwhile: one load for all of a page's misses."""
        generation = self._generation
        values = load_many()
        with self._lock:
            if generation == self._generation:
                for key, value in values.items():
                    self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return values

    def get(self, key, load):
        """The value for ``key``: from memory when warm, else from ``load()`` (and remembered)."""
        value = self.peek(key)
        if value is not MISSING:
            return value
        return self.fill(key, load)

    def _drop(self):
        self._entries.clear()
        self._generation += 1

    def _check_versions(self, now):
        try:
            if len(self.version_keys) == 1:
                versions = (self._read(self.version_keys[0]),)
            else:
                found = cache.get_many(self.version_keys)
                versions = tuple(found.get(k) or self._read(k) for k in self.version_keys)
        except Exception as exc:  # noqa: BLE001 - the shared cache is down: the database decides
            log.warning("%s version unreadable (%s); table dropped", self.name, exc)
            versions = None
        with self._lock:
            if versions is None or versions != self._versions:
                self._drop()
                self._versions = versions
            self._checked_at = now

    @staticmethod
    def _read(key):
        """The key's version; a missing one (a flushed cache) is set once, by whoever comes first."""
        version = cache.get(key)
        if version is None:
            version = uuid.uuid4().hex
            if not cache.add(key, version, timeout=None):
                version = cache.get(key)
        return version
