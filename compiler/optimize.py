"""Optimize the generated gradient so it reads like, and runs like, hand-written code.

Passes over the structured tree, each small (constant folding of sizes: simplify.py):
  * zeros: an adjoint known to be zero (just initialised or reset, also across the back edge of
    a loop whose body resets it) is assigned its first contribution instead of accumulating it;
  * dead code: assignments whose value nothing reads are removed (liveness, loops included),
    then whatever the result, the saves and the side effects do not need (mark and sweep: a
    loop that only updates a value nobody returns goes); stack traffic is never removed, so
    each push keeps its pop;
  * fusion: a temporary computed once and read once, in the same block, is written into the
    expression that reads it (the one-operation-per-statement form is for analysis, not people).
"""
import gast

from .analyze import statements
from .simplify import fold_sizes


def optimize(fn, keep=()):
    """``keep``: names that must stay as they are (the user's own variables)."""
    fn.body, _ = propagate_zeros(fn.body, set(), element_written(fn))
    remove_dead_stores(fn)
    fuse_temporaries(fn, set(keep))
    fold_sizes(fn)         # after fusion: np.size(np.mean(t)) is then in one expression
    remove_dead_stores(fn)
    remove_unused_code(fn)
    factor_sums(fn)
    return fn


# ---- helpers ----------------------------------------------------------------------------
def loads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def stores(stmt):
    """Names a statement (and everything nested in it) assigns, element writes included."""
    out = set()
    for s, _ in statements([stmt]):
        targets = []
        if isinstance(s, gast.Assign):
            targets = s.targets
        elif isinstance(s, gast.AugAssign):
            targets = [s.target]
        elif isinstance(s, gast.For):
            targets = [s.target]
        for t in targets:
            while isinstance(t, gast.Subscript):
                t = t.value
            out |= {n.id for n in gast.walk(t) if isinstance(n, gast.Name)}
    return out


STACK_OPS = ("pop", "push", "append")


def has_stack_op(node):
    return any(isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and
               n.func.attr in STACK_OPS for n in gast.walk(node))


def is_zero(value):
    """0.0, or a new array of zeros that no element write reaches (marked so by reverse)."""
    return isinstance(value, gast.Constant) and type(value.value) is float and \
        value.value == 0.0 or getattr(value, "fresh_zero", False)


def simple_assign(s):
    return isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)


# ---- zeros ------------------------------------------------------------------------------
def element_written(fn):
    """Arrays changed in place, element by element (the adjoints of buffers)."""
    out = set()
    for s, _ in statements(fn.body):
        target = s.targets[0] if isinstance(s, gast.Assign) else \
            s.target if isinstance(s, gast.AugAssign) else None
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            out.add(target.value.id)
    return out


def may_alias(value, written):
    """Can ``value`` be (a view of) an array in ``written``? Arithmetic makes new arrays; a
    name or a call (``unbroadcast(db, t)`` returns db when shapes agree) may not."""
    return isinstance(value, (gast.Name, gast.Call)) and bool(loads(value) & written)


def propagate_zeros(block, zero, written):
    out = []
    for s in block:
        if simple_assign(s):
            t, v = s.targets[0].id, s.value
            if is_zero(v):
                zero.add(t)
                out.append(s)
                continue
            if t in zero and isinstance(v, gast.BinOp) and isinstance(v.op, gast.Add) and \
                    isinstance(v.left, gast.Name) and v.left.id == t and \
                    t not in loads(v.right) and not may_alias(v.right, written):
                # (an alias would see the element writes into the array it aliases)
                s.value = v.right
            zero.discard(t)
        elif isinstance(s, gast.If):
            s.body, zb = propagate_zeros(s.body, set(zero), written)
            s.orelse, zo = propagate_zeros(s.orelse, set(zero), written)
            zero = zb & zo
        elif isinstance(s, (gast.For, gast.While)):
            stored = {}   # stores of each statement in the body, walked once for every t
            # (not ``written``: the loop's stores in its place let an alias of an array
            # element-written outside the loop through, here and after the loop)
            in_loop = set().union(*(stored_by(x, stored) for x in s.body))
            kept = {t for t in zero & in_loop if resets_at_end(s.body, t, stored=stored)}
            entry = (zero - in_loop) | kept
            s.body, _ = propagate_zeros(s.body, set(entry), written)
            zero = entry
        else:
            zero -= stores(s)
        out.append(s)
    return out, zero


def stored_by(s, stored):
    """stores(s), remembered in ``stored`` (by id; the statements are not changed meanwhile)."""
    names = stored.get(id(s))
    if names is None:
        names = stored[id(s)] = stores(s)
    return names


def resets_at_end(body, t, zero=True, stored=None):
    """Starting with ``t`` zero (or not), is it zero again after ``body``? Its last write must
    be ``t = 0.0``; loops and branches count when each of their paths ends with t zero."""
    stored = {} if stored is None else stored
    for s in body:
        if t not in stored_by(s, stored):
            continue
        if simple_assign(s):
            zero = is_zero(s.value)
        elif isinstance(s, gast.If):
            zero = resets_at_end(s.body, t, zero, stored) and \
                resets_at_end(s.orelse, t, zero, stored)
        elif isinstance(s, (gast.For, gast.While)):
            zero = zero and resets_at_end(s.body, t, True, stored)
        else:
            zero = False
    return zero


# ---- liveness and dead stores -------------------------------------------------------------
def liveness(block, live_out, record, _uses=None):
    """Live names before ``block``; ``record[id(stmt)]`` gets what is live after each stmt."""
    # the names each statement reads (and writes), once per call: the fixed point of a loop
    # nest revisits the inner statements once per round of every enclosing loop
    uses = {} if _uses is None else _uses

    def used(node, key, names):
        got = uses.get((key, id(node)))
        if got is None:
            got = uses[(key, id(node))] = frozenset(names(node))
        return got

    live = set(live_out)
    for s in reversed(block):
        record[id(s)] = set(live)
        if simple_assign(s):
            live = (live - {s.targets[0].id}) | used(s.value, "r", loads)
        elif isinstance(s, gast.If):
            live = liveness(s.body, live, record, uses) | \
                liveness(s.orelse, live, record, uses) | used(s.test, "r", loads)
        elif isinstance(s, (gast.For, gast.While)):
            head = used(s.iter, "r", loads) if isinstance(s, gast.For) else used(s.test, "r", loads)
            inner = set(live)
            while True:
                body_in = liveness(s.body, inner | live, record, uses)
                if isinstance(s, gast.For):
                    body_in = body_in - {s.target.id}
                grown = inner | body_in | head
                if grown == inner:
                    break
                inner = grown
            live = live | inner
        else:
            live = live | used(s, "r", loads) | used(s, "w", stores)
    return live


def remove_dead_stores(fn):
    while True:
        record = {}
        liveness(fn.body, set(), record)
        removed = [0]

        def sweep(block):
            out = []
            for s in block:
                if simple_assign(s) and s.targets[0].id not in record[id(s)] and \
                        not has_stack_op(s.value):
                    removed[0] += 1
                    continue
                if isinstance(s, gast.If):
                    s.body, s.orelse = sweep(s.body), sweep(s.orelse)
                    if not s.body and not s.orelse and isinstance(s.test, gast.Name):
                        removed[0] += 1
                        continue
                    if not s.body:
                        s.body = [gast.Pass()]
                elif isinstance(s, gast.For):
                    s.body = sweep(s.body)
                    if not s.body and s.target.id not in record[id(s)]:
                        removed[0] += 1
                        continue
                    s.body = s.body or [gast.Pass()]
                elif isinstance(s, gast.While):
                    s.body = sweep(s.body) or [gast.Pass()]
                out.append(s)
            return out

        fn.body = sweep(fn.body)
        if not removed[0]:
            return fn


def remove_unused_code(fn):
    """Mark and sweep: keep what the result, the saves, prints and element writes into the
    arguments need, and the loops and branches holding it; drop the rest (also values that only
    feed themselves, like a primal sum nobody returns)."""
    params = {a.id for a in fn.args.args}
    everything = statements(fn.body)
    needed, names = set(), set()
    live_after = {}
    liveness(fn.body, set(), live_after)

    def own_loads(s):
        if isinstance(s, gast.If) or isinstance(s, gast.While):
            return loads(s.test)
        if isinstance(s, gast.For):
            return loads(s.iter)
        return loads(s)

    def root(s):
        if isinstance(s, (gast.Return, gast.Expr, gast.Assert, gast.Raise, gast.Break,
                          gast.Continue)):
            return True
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            target = s.targets[0] if isinstance(s, gast.Assign) else s.target
            while isinstance(target, gast.Subscript):
                target = target.value
            return has_stack_op(s) or isinstance(s.targets[0] if isinstance(s, gast.Assign)
                                                 else s.target, gast.Subscript) and \
                target.id in params
        return False

    # the statements do not change while marking: walk each once, not once per round
    rooted = {id(s) for s, _ in everything if root(s) or isinstance(s, gast.For) and
              s.target.id in live_after[id(s)]}   # (a loop variable read after the loop)
    inner = {id(s): [id(x) for x, _ in statements(s.body + s.orelse)] for s, _ in everything
             if isinstance(s, (gast.If, gast.For, gast.While))}
    stored = {id(s): stores(s) for s, _ in everything if id(s) not in inner}

    def wanted(s):
        if id(s) in rooted:
            return True
        if id(s) in inner:
            return any(x in needed for x in inner[id(s)])
        return bool(stored[id(s)] & names)

    changed = True
    while changed:
        changed = False
        for s, _ in everything:
            if id(s) not in needed and wanted(s):
                needed.add(id(s))
                names.update(own_loads(s))
                changed = True

    def sweep(block):
        out = []
        for s in block:
            if id(s) not in needed:
                continue
            if isinstance(s, gast.If):
                s.body, s.orelse = sweep(s.body) or [gast.Pass()], sweep(s.orelse)
            elif isinstance(s, (gast.For, gast.While)):
                s.body = sweep(s.body) or [gast.Pass()]
            out.append(s)
        return out

    fn.body = sweep(fn.body)
    return fn


# ---- fusion -----------------------------------------------------------------------------
def fuse_temporaries(fn, keep):
    while fuse_once(fn, keep):
        pass
    return fn


def fuse_once(fn, keep):
    record = {}
    liveness(fn.body, set(), record)
    fused = [0]
    seen = {}   # id(statement) -> (statement, its Load counts, its stores): walked once a pass

    def fuse(block):
        for s in block:
            if isinstance(s, gast.If):
                s.body, s.orelse = fuse(s.body), fuse(s.orelse)
            elif isinstance(s, (gast.For, gast.While)):
                s.body = fuse(s.body)
        k = 0
        while k < len(block):
            d = block[k]
            if simple_assign(d) and not has_stack_op(d.value) and \
                    try_fuse(block, k, record, d.targets[0].id in keep, seen):
                del block[k]
                fused[0] += 1
                continue
            k += 1
        return block

    fn.body = fuse(fn.body)
    return fused[0]


def walked(s, seen):
    """(Load counts by name, stores, has a stack op) of statement ``s``, computed once until it changes
    (a fusion pass asks this of every statement after each candidate: quadratic walks)."""
    entry = seen.get(id(s))
    if entry is None or entry[0] is not s:
        counts, stack_op = {}, False
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                counts[n.id] = counts.get(n.id, 0) + 1
            elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and \
                    n.func.attr in STACK_OPS:   # has_stack_op's test
                stack_op = True
        entry = seen[id(s)] = (s, counts, stores(s), stack_op)
    return entry[1:]


def try_fuse(block, k, record, kept, seen):
    """Write ``t = value`` (block[k]) into its reader(s). A copy ``t = u`` may have several
    readers; any other value exactly one. A ``kept`` name (the user's, and their adjoints) is
    only merged into a reader that assigns the same name again (``dx = a; dx = dx + b``)."""
    d = block[k]
    t, value = d.targets[0].id, d.value
    copy = isinstance(value, (gast.Name, gast.Constant))
    reads = loads(value)
    readers = []
    for j in range(k + 1, len(block)):
        s = block[j]
        counts, stored, stack_op = walked(s, seen)
        uses = counts.get(t, 0)
        if uses:
            if written_into(s, t):   # t[i] = v writes into t: it must stay a name
                return False
            if not isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) or \
                    (uses > 1 and not copy) or (stack_op and not isinstance(s, gast.Expr)):
                return False
            readers.append(s)
            redefines = simple_assign(s) and s.targets[0].id == t
            if kept and not redefines:
                return False
            if redefines or t not in record[id(s)]:
                break
            if not copy or stored & (reads | {t}):
                return False
            continue
        if stored & (reads | {t}) or isinstance(s, (gast.If, gast.For, gast.While)):
            return False
    else:
        return False
    for s in readers:
        substitute(s, t, value)
        seen.pop(id(s), None)
    return True


def written_into(stmt, t):
    """Whether ``stmt`` writes into an element of the array named ``t``."""
    target = stmt.targets[0] if isinstance(stmt, gast.Assign) else \
        stmt.target if isinstance(stmt, gast.AugAssign) else None
    while isinstance(target, gast.Subscript):
        target = target.value
        if isinstance(target, gast.Name) and target.id == t:
            return True
    return False


def substitute(stmt, name, value):
    class Replace(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id == name and isinstance(node.ctx, gast.Load):
                return value
            return node
    Replace().visit(stmt)


# ---- factoring ----------------------------------------------------------------------------
def factor_sums(fn):
    """``dx * a + dx * b * c`` becomes ``dx * (a + b * c)``: fused adjoints are sums of
    contributions that share the incoming adjoint; factoring it out saves a product per term."""
    for s, _ in statements(fn.body):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            s.value = factored(s.value)


def factored(expr):
    terms = sum_terms(expr, 1)
    if len(terms) < 2:
        return expr
    common = None
    for _, factors in terms:
        ids = {f.id for f in factors if isinstance(f, gast.Name)}
        common = ids if common is None else common & ids
    if not common:
        return expr
    shared = sorted(common)[0]
    rest = None
    for sign, factors in terms:
        k = next(i for i, f in enumerate(factors) if isinstance(f, gast.Name) and f.id == shared)
        others = factors[:k] + factors[k + 1:]
        term = product(others) if others else gast.Constant(value=1.0, kind=None)
        if rest is None:
            # -1.0 * term, not -term: the factor left may be a bool (a max's x_wins), which
            # numpy cannot negate; for a float it is the same value, signed zeros included
            rest = term if sign > 0 else gast.BinOp(
                left=gast.Constant(value=-1.0, kind=None), op=gast.Mult(), right=term)
        else:
            rest = gast.BinOp(left=rest, op=gast.Add() if sign > 0 else gast.Sub(), right=term)
    return gast.BinOp(left=gast.Name(id=shared, ctx=gast.Load(), annotation=None,
                                     type_comment=None), op=gast.Mult(), right=rest)


def sum_terms(expr, sign):
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub)):
        right_sign = sign if isinstance(expr.op, gast.Add) else -sign
        return sum_terms(expr.left, sign) + sum_terms(expr.right, right_sign)
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        return sum_terms(expr.operand, -sign)
    factor_sign, factors = product_factors(expr)
    return [(sign * factor_sign, factors)]


def product_factors(expr):
    """(sign, factors) of a product; negations inside it move to the sign."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, gast.Mult):
        ls, lf = product_factors(expr.left)
        rs, rf = product_factors(expr.right)
        return ls * rs, lf + rf
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        s, f = product_factors(expr.operand)
        return -s, f
    return 1, [expr]


def product(factors):
    out = factors[0]
    for f in factors[1:]:
        out = gast.BinOp(left=out, op=gast.Mult(), right=f)
    return out
