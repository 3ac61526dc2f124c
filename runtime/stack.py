"""The save-stack that generated gradient code uses between its primal and adjoint sweeps."""


class Stack(list):
    """A LIFO of values the adjoint sweep reads back in reverse order.

    ``push``/``pop`` are the list's own ``append``/``pop`` (bound C methods: no Python frame per
    call), so a generated loop pays for saving a value about what a list append costs.
    """
    __slots__ = ()
    push = list.append
