"""GradBench hello: the tool's square and double (native, as the tool runs them; hello's input
has no min_runs) on the values the eval sends, against x * x and central differences."""


def test_hello_square_and_double(eval_module, differences):
    hello = eval_module("hello")
    x = 1.0
    for _ in range(4):   # as the eval: square x, then double the square
        y, timings = hello.square(x)
        assert y == x * x
        assert [t["name"] for t in timings] in (["compile", "evaluate"], ["evaluate"])
        x, _ = hello.double(y)
        assert abs(x - differences(hello.square_of, y)) < 1e-6 * max(1.0, abs(x))
        assert x == 2 * y
