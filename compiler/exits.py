"""Exits: `return`, `break` and `continue` inside loops and branches become flags, so the IR
has one return at the end and at most one trailing `if flag: break` per loop."""
import gast

from .nodes import assign, const, if_, name, not_


def walk_no_loops(stmts):
    """Statements of ``stmts`` and their branches, not entering nested loops or functions."""
    for s in stmts:
        yield s
        if isinstance(s, gast.If):
            yield from walk_no_loops(s.body)
            yield from walk_no_loops(s.orelse)


def contains(stmts, kinds, enter_loops):
    for s in stmts:
        if isinstance(s, kinds):
            return True
        if isinstance(s, gast.If) and contains(s.body + s.orelse, kinds, enter_loops):
            return True
        if enter_loops and isinstance(s, (gast.For, gast.While)) and contains(s.body, kinds, True):
            return True
    return False


def lower_returns(stmts, ret, flag, in_loop):
    out = []
    for i, s in enumerate(stmts):
        if isinstance(s, gast.Return):
            out.append(assign(ret, s.value if s.value is not None else const(None), s.lineno))
            out.append(assign(flag, const(True), s.lineno))
            if in_loop:
                out.append(gast.Break())
            return out
        returns = contains([s], gast.Return, True)
        if isinstance(s, gast.If):
            s.body = lower_returns(s.body, ret, flag, in_loop)
            s.orelse = lower_returns(s.orelse, ret, flag, in_loop)
        elif isinstance(s, (gast.For, gast.While)):
            s.body = lower_returns(s.body, ret, flag, True)
        out.append(s)
        if returns:
            rest = lower_returns(stmts[i + 1:], ret, flag, in_loop)
            if in_loop and isinstance(s, (gast.For, gast.While)):
                out.append(if_(name(flag), [gast.Break()], lineno=s.lineno))
                out.extend(rest)
            elif in_loop:  # the returning branch already breaks out of the loop
                out.extend(rest)
            elif rest:
                out.append(if_(not_(name(flag)), rest, lineno=s.lineno))
            return out
    return out


def lower_loop_exits(loop, fresh):
    """Give ``loop`` a body without break/continue, but for one trailing `if broke: break`."""
    has_break = contains(loop.body, gast.Break, False)
    has_continue = contains(loop.body, gast.Continue, False)
    if not (has_break or has_continue):
        return [], loop
    broke = fresh("broke") if has_break else None
    skip = fresh("skip") if has_continue else None
    flags = [f for f in (broke, skip) if f]
    guard_test = not_(name(flags[0])) if len(flags) == 1 else not_(
        gast.BoolOp(op=gast.Or(), values=[name(f) for f in flags]))

    def guard(stmts):
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, gast.Break):
                out.append(assign(broke, const(True)))
                return out
            if isinstance(s, gast.Continue):
                out.append(assign(skip, const(True)))
                return out
            exits = isinstance(s, gast.If) and contains([s], (gast.Break, gast.Continue), False)
            if exits:
                s.body, s.orelse = guard(s.body), guard(s.orelse)
            out.append(s)
            if exits:
                rest = guard(stmts[i + 1:])
                if rest:
                    out.append(if_(guard_test, rest, lineno=s.lineno))
                return out
        return out

    body = guard(loop.body)
    if skip:
        body.insert(0, assign(skip, const(False)))
    if broke:
        body.append(if_(name(broke), [gast.Break()]))
    loop.body = body
    return ([assign(broke, const(False))] if broke else []), loop
