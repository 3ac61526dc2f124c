"""Small gast tree builders: every IR node the passes make is built here, so gast's changes
across Python releases stay in one file."""
import gast


def name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return name(id_, gast.Store())


def const(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value, lineno=None):
    node = gast.Assign(targets=[store(target) if isinstance(target, str) else target], value=value,
                       type_comment=None)
    node.lineno = lineno
    return node


def if_(test, body, orelse=(), lineno=None):
    node = gast.If(test=test, body=list(body), orelse=list(orelse))
    node.lineno = lineno
    return node


def not_(atom):
    return gast.UnaryOp(op=gast.Not(), operand=atom)


def is_atom(node):
    return isinstance(node, (gast.Name, gast.Constant))


def literal(node):
    """The value of a (nested) list of numeric constants, or None."""
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) and \
            not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        v = literal(node.operand)
        return None if v is None else -v if isinstance(node.op, gast.USub) else v
    if isinstance(node, gast.List):
        values = [literal(e) for e in node.elts]
        return None if any(v is None for v in values) else values
    return None


def strip_docstring(body):
    body = list(body)
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def call(fn_expr, *args):
    return gast.Call(func=fn_expr, args=list(args), keywords=[])


def attr(base, *names):
    node = name(base) if isinstance(base, str) else base
    for n in names:
        node = gast.Attribute(value=node, attr=n, ctx=gast.Load())
    return node


def inputs_and_params(value):
    """(input atoms, keyword atoms by name) of an operation: a binary or unary operator or a call."""
    if isinstance(value, gast.BinOp):
        return [value.left, value.right], {}
    if isinstance(value, gast.UnaryOp):
        return [value.operand], {}
    return list(value.args), {k.arg: k.value for k in value.keywords}
