"""Sink a matrix product used once into the elementwise statement that consumes it.

Reverse mode writes the adjoint of ``h`` in ``pred = h @ w2`` as its own statement,
``dh = np.dot(dt3, np.transpose(w2))``, and the relu's adjoint on a later line,
``dt2 = dh * (t2 >= 0.0)``. Lowered as written, ``dh`` is a full array: one pass to write it and
one to read it back. Moved into its consumer, ``dt2 = np.dot(dt3, np.transpose(w2)) * (t2 >= 0.0)``
is one elementwise tree, and fusion.py computes the product per element when its inner dimension
is 1 at run time (an outer product: the MLP's 1-unit output layer), or materializes it otherwise.

Moving an expression later is exact when nothing it reads changes in between and its value is
used nowhere else, so the pattern is narrow on purpose:
  * ``d = P`` with ``P`` a product (``@``, ``np.dot``, ``np.matmul``) of names or transposes of
    names; ``d`` is stored exactly once and read exactly once in the whole function;
  * the read is an operand of an elementwise operator in the value of a later statement
    ``e = ...`` of the same block, whose leaves are names and constants only (so no other part
    of that statement has an effect that could be reordered with the product);
  * the statements in between assign plain names from ``np.*`` calls, operators, names and
    constants: none rebinds a name ``P`` reads, and none writes into an array (no subscript or
    augmented assignment, no calls of module functions or methods, no stack operations, no
    numpy call that can write an argument: ``out`` given by keyword or position, copyto...).
The one observable difference: if the product would raise (mismatched inner dimensions) and a
statement in between would raise too, the in-between one is now reported first; both are
ValueErrors of programs that fail either way.
"""
import ast

from ..call_names import call_name

_PRODUCTS = ("np.dot", "np.matmul")
# numpy functions that write into an argument given positionally (a ufunc's third positional
# argument is its ``out``, hence the limit of two arguments below, with the exceptions whose
# third is an input)
_WRITES = {"np.copyto", "np.put", "np.place", "np.putmask", "np.fill_diagonal",
           "np.put_along_axis"}
_THREE_INPUTS = {"np.where", "np.clip"}
_ELEMENTWISE = (ast.BinOp, ast.UnaryOp, ast.Compare)


def _operand_ok(node):
    """A name, or the transpose of one (``np.transpose(a)``, ``a.T``)."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return isinstance(node.value, ast.Name)
    return (isinstance(node, ast.Call) and call_name(node.func) == "np.transpose"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name))


def is_product(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        operands = [node.left, node.right]
    elif (isinstance(node, ast.Call) and call_name(node.func) in _PRODUCTS
          and len(node.args) == 2 and not node.keywords):
        operands = node.args
    else:
        return False
    return all(_operand_ok(o) for o in operands)


def _names(node, ctx):
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)]


def _plain_name_assign(s):
    return isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)


def _harmless(s):
    """An in-between statement that rebinds one plain name and writes into no array."""
    if not _plain_name_assign(s):
        return False
    for n in ast.walk(s.value):
        if isinstance(n, ast.Call):
            name = call_name(n.func)
            if not (name and name.startswith("np.")) or n.keywords or name in _WRITES:
                return False
            if len(n.args) > (3 if name in _THREE_INPUTS else 2):
                return False
        elif isinstance(n, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)):
            return False
    return True


def _elementwise_leaves_ok(node):
    """Every leaf of the elementwise tree ``node`` is a name or a constant."""
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult):
        return _elementwise_leaves_ok(node.left) and _elementwise_leaves_ok(node.right)
    if isinstance(node, ast.UnaryOp):
        return _elementwise_leaves_ok(node.operand)
    if isinstance(node, ast.Compare):
        return len(node.ops) == 1 and all(map(_elementwise_leaves_ok,
                                              [node.left] + node.comparators))
    return isinstance(node, (ast.Name, ast.Constant))


def _replace_read(tree, name, value):
    """Put ``value`` in place of the one read of ``name`` inside ``tree``; True if done."""
    for parent in ast.walk(tree):
        for field, child in ast.iter_fields(parent):
            if isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load):
                setattr(parent, field, value)
                return True
    return False


def _sink_in(stmts, stores, loads):
    i = 0
    while i < len(stmts):
        s = stmts[i]
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                _sink_in(getattr(s, field), stores, loads)
        if not (_plain_name_assign(s) and is_product(s.value)):
            i += 1
            continue
        d = s.targets[0].id
        if stores.get(d, 0) != 1 or loads.get(d, 0) != 1:
            i += 1
            continue
        read = set(_names(s.value, ast.Load))
        moved = False
        for j in range(i + 1, len(stmts)):
            c = stmts[j]
            if d in _names(c, ast.Load):
                if (_plain_name_assign(c) and isinstance(c.value, _ELEMENTWISE)
                        and _elementwise_leaves_ok(c.value)
                        and _replace_read(c, d, s.value)):
                    del stmts[i]
                    moved = True
                break
            if not _harmless(c) or c.targets[0].id in read:
                break
        if not moved:
            i += 1


def sink_products(fdef):
    """Rewrite ``fdef`` (an ast FunctionDef, modified in place) as described above."""
    stores, loads = {}, {}
    for n in ast.walk(fdef):
        if isinstance(n, ast.Name):
            table = loads if isinstance(n.ctx, ast.Load) else stores
            table[n.id] = table.get(n.id, 0) + 1
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            return fdef
    for a in fdef.args.args + fdef.args.kwonlyargs:
        stores[a.arg] = stores.get(a.arg, 0) + 1     # a parameter is stored at entry
    _sink_in(fdef.body, stores, loads)
    return fdef
