"""v2 pagination: the pages after the first of an over-long response, fetched at /v2/page/{id}.

A page is registered when the page before it is sent, under a global, increasing id (one
request's pages need not be consecutive when others page too). It is discarded once it has
waited longer than the expiry (the terminal's HTTP_PAGE_EXPIRE); an unknown or discarded id is
477. A live page can be fetched again, so a client may retry a failed page.
"""
import itertools
import threading
import time


class PageStore:
    def __init__(self, expire_ms):
        self.expire_s = expire_ms / 1000
        self._ids = itertools.count(1)
        self._pages = {}             # id -> (render(), registered at)
        self._lock = threading.Lock()

    def add(self, render):
        """Register a page; RENDER() produces its reply. Returns the page id."""
        with self._lock:
            self._drop_expired()
            page_id = next(self._ids)
            self._pages[page_id] = (render, time.monotonic())
            return page_id

    def get(self, page_id):
        """The render function of a live page, or None."""
        with self._lock:
            self._drop_expired()
            page = self._pages.get(page_id)
            return page[0] if page else None

    def _drop_expired(self):
        now = time.monotonic()
        for page_id in [i for i, (_, at) in self._pages.items() if now - at > self.expire_s]:
            del self._pages[page_id]
