"""An LRU cache bounded by bytes, computing each missing value once however many threads ask."""
import threading
from collections import OrderedDict


class ByteLRU:
    def __init__(self, budget_bytes):
        self.budget = budget_bytes
        self.used = 0
        self._items = OrderedDict()          # key -> (value, size)
        self._lock = threading.Lock()
        self._pending = {}                   # key -> lock held while one thread computes it

    def get(self, key, compute, size_of):
        """The cached value for KEY, or COMPUTE() (stored when SIZE_OF(value) fits the budget)."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = threading.Lock()
                    pending.acquire()
                    break
            with pending:   # another thread computes it; wait, then look again
                pass
        try:
            value = compute()
            self._store(key, value, size_of(value))
            return value
        finally:
            with self._lock:
                del self._pending[key]
            pending.release()

    def _store(self, key, value, size):
        with self._lock:
            if size > self.budget:
                return
            self._items[key] = (value, size)
            self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self.used -= dropped
