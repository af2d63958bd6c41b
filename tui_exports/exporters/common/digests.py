"""A set of strings held as 8-byte digests in one array: what an export remembers of every entry
name or migration id it wrote, in 11-21 bytes a member instead of ~100 (a ``str`` and a slot of a
``set``), so that memory stays flat however many items a course has.

A false "already there" needs two different strings whose 64-bit BLAKE2b digests are equal:
about one chance in 10^9 among 100,000 members.
"""

from __future__ import annotations

from array import array
from hashlib import blake2b


class DigestSet:
    """``add`` and ``in`` of a set of strings, by digest (open addressing, linear probing, at
    most three quarters full: a few probes a lookup)."""

    def __init__(self, members=(), capacity: int = 1024):
        self._slots = array("Q", bytes(8 * capacity))  # 0: an empty slot
        self._len = 0
        for m in members:
            self.add(m)

    @staticmethod
    def _digest(text: str) -> int:
        d = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return int.from_bytes(d, "little") or 1

    def _slot(self, digest: int) -> tuple[int, bool]:
        """The slot holding ``digest``, or the empty one where it would go."""
        slots = self._slots
        mask = len(slots) - 1
        i = digest & mask
        while True:
            held = slots[i]
            if held == digest:
                return i, True
            if not held:
                return i, False
            i = (i + 1) & mask

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self._slot(self._digest(text))[1]

    def add(self, text: str) -> None:
        digest = self._digest(text)
        i, found = self._slot(digest)
        if found:
            return
        self._slots[i] = digest
        self._len += 1
        if 4 * self._len > 3 * len(self._slots):
            self._grow()

    def _grow(self) -> None:
        old, self._slots = self._slots, array("Q", bytes(16 * len(self._slots)))
        for held in old:
            if held:
                self._slots[self._slot(held)[0]] = held

    def __len__(self) -> int:
        return self._len


class DigestMap(DigestSet):
    """Strings → integers (ids), the strings held as :class:`DigestSet` holds them, the integers
    in an array beside: 16-24 bytes an entry, what a page index of 100,000 pages can afford."""

    def __init__(self, capacity: int = 1024):
        super().__init__(capacity=capacity)
        self._values = array("q", bytes(8 * capacity))

    def get(self, text: str) -> int | None:
        i, found = self._slot(self._digest(text))
        return self._values[i] if found else None

    def put(self, text: str, value: int, first: bool = False) -> None:
        """``text`` → ``value`` (``first``: a string already there keeps its value)."""
        digest = self._digest(text)
        i, found = self._slot(digest)
        if found:
            if not first:
                self._values[i] = value
            return
        self._slots[i], self._values[i] = digest, value
        self._len += 1
        if 4 * self._len > 3 * len(self._slots):
            self._grow()

    def _grow(self) -> None:
        slots, values = self._slots, self._values
        self._slots, self._values = array("Q", bytes(16 * len(slots))), array("q", bytes(16 * len(slots)))
        for held, value in zip(slots, values, strict=True):
            if held:
                i = self._slot(held)[0]
                self._slots[i], self._values[i] = held, value
