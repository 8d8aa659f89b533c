"""The FIFO behind the protocol engines' event queues and the held-back lists: arrival
order, O(1) at either end, nothing kept of what left."""

from check import raises

from branchline.fifo import Fifo


def test_items_leave_in_arrival_order_across_compactions():
    f = Fifo()
    out = []
    for i in range(1000):
        f.push(i)
        if i % 3 == 2:
            out.append(f.pop())
    while len(f):
        out.append(f.pop())
    assert out == list(range(1000))
    with raises(IndexError):
        f.pop()


def test_what_left_is_not_held_and_the_rest_is_as_pushed():
    f = Fifo([1, 2, 3])
    assert f.first() == 1 and f.pop() == 1
    f.push(4)
    f.remove(3)
    assert f.items() == [2, 4] and len(f) == 2 and bool(f)
    with raises(ValueError):
        f.remove(1)  # gone already, though its slot may not be compacted yet
    f.pop()
    f.pop()
    assert not f and f.items() == []
