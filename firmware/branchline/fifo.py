"""A first-in first-out queue with O(1) push and pop on every runtime (list.pop(0)
moves the whole list; MicroPython's deque lacks len() and indexing on some ports).
Portable: a list and the index of its head, compacted once half of it is consumed.
"""


class Fifo:
    """Items in arrival order; what bounds them is the caller's to say."""

    __slots__ = ("_items", "_head")

    def __init__(self, items=()):
        self._items = list(items)
        self._head = 0

    def __len__(self):
        return len(self._items) - self._head

    def push(self, item):
        self._items.append(item)

    def first(self):
        return self._items[self._head]

    def pop(self):
        """Remove and return the oldest item (IndexError when empty)."""
        if self._head >= len(self._items):
            raise IndexError("pop from an empty Fifo")
        item = self._items[self._head]
        self._items[self._head] = None  # no reference kept to what left
        self._head += 1
        if self._head >= 32 and self._head * 2 >= len(self._items):
            del self._items[:self._head]
            self._head = 0
        return item

    def remove(self, item):
        """Take `item` out wherever it waits (ValueError when it is not there)."""
        at = self._items.index(item, self._head)
        del self._items[at]

    def items(self):
        """The waiting items, oldest first (a copy)."""
        return self._items[self._head:]
