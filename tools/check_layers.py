"""Check that imports point one way: tapeflow/ -> compiler/ -> runtime/ (DESIGN.md).

Rules, read from every module's imports with ast (nothing is imported or run):
  * runtime/ imports neither the compiler nor the facade (tapeflow/...);
  * compiler/ does not import the facade: tapeflow (top level), tapeflow.cli,
    tapeflow.compiler.api, .vjp (the API calls the pipeline, never the other way);
  * no cycle among compiler modules through module-level imports.
Imports inside functions (done lazily, to keep llvmlite out of `import tapeflow`) may close a
cycle; they are listed with --verbose, not failed. Prints each violation; exit status 1 if any.

    python tools/check_layers.py [ROOT] [--verbose]
"""
import ast
import os
import sys

# source folder -> the package it is imported as (pyproject's package-dir)
PACKAGES = {"tapeflow": "tapeflow", "compiler": "tapeflow.compiler",
            "runtime": "tapeflow.runtime"}
# the API modules: they call the pipeline and each other, and no pass imports them
FACADE = ("tapeflow", "tapeflow.cli", "tapeflow.compiler.api",
          "tapeflow.compiler.transforms",   # jvp, jacfwd, hessian, hvp
          "tapeflow.compiler.vjp")          # vjp, jacrev


def modules(root):
    """{module name: path} for every .py file under the three source folders."""
    out = {}
    for folder, package in PACKAGES.items():
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for f in sorted(files):
                if not f.endswith(".py"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), base)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                out[".".join([package] + rel)] = os.path.join(dirpath, f)
    return out


def imports(name, path, is_package):
    """(imported module, line, at module level?) for each import in the file, resolved to
    absolute names; `from a import b` counts as importing a.b when a.b is a module."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = name if is_package else name.rpartition(".")[0]
    top_level = {id(n) for n in tree.body}
    # statements under a module-level if/try still run at import time
    for n in tree.body:
        if isinstance(n, (ast.If, ast.Try)):
            top_level |= {id(s) for s in ast.walk(n) if isinstance(s, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno, id(node) in top_level, ()))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append((target, node.lineno, id(node) in top_level,
                          tuple(a.name for a in node.names)))
    return found


def layer(module):
    if module == "tapeflow.compiler" or module.startswith("tapeflow.compiler."):
        return "compiler"
    if module == "tapeflow.runtime" or module.startswith("tapeflow.runtime."):
        return "runtime"
    if module == "tapeflow" or module.startswith("tapeflow."):
        return "tapeflow"
    return None


def facade(module):
    return module in FACADE


def check(root):
    """(violations, function-level cycle edges) as lists of printable lines."""
    mods = modules(root)
    violations, lazy = [], []
    edges = {}        # compiler module -> {compiler module it imports at module level: line}
    for name, path in sorted(mods.items()):
        rel = os.path.relpath(path, root)
        for target, line, top, names in imports(name, path, path.endswith("__init__.py")):
            # `from pkg import mod` imports pkg.mod
            targets = [f"{target}.{n}" for n in names if f"{target}.{n}" in mods] or [target]
            for t in targets:
                src, dst = layer(name), layer(t)
                if src == "runtime" and dst in ("compiler", "tapeflow"):
                    violations.append(f"{rel}:{line}: runtime imports {t} (the runtime depends "
                                      f"on nothing else here)")
                elif src == "compiler" and facade(t) and not facade(name):
                    violations.append(f"{rel}:{line}: compiler module {name} imports the "
                                      f"facade {t}")
                if src == dst == "compiler" and t in mods and t != name:
                    if top:
                        edges.setdefault(name, {})[t] = line
                    else:
                        lazy.append((name, t, rel, line))
    for cycle in cycles(edges):
        path = " -> ".join(cycle + [cycle[0]])
        violations.append(f"import cycle at module level: {path}")
    every = {a: dict(b) for a, b in edges.items()}
    for a, b, _, line in lazy:
        every.setdefault(a, {})[b] = line
    reach = {m: reachable(every, m) for m in mods}
    lazy_cycles = [f"{rel}:{line}: {a} imports {b} inside a function (closes a cycle)"
                   for a, b, rel, line in lazy if a in reach.get(b, ())]
    return violations, lazy_cycles


def reachable(edges, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def loop_through(edges, comp):
    """A shortest import loop from the first module of a cycle back to it, staying inside."""
    start = min(comp)
    paths, todo = {start: [start]}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges.get(v, ())):
            if w == start:
                return paths[v]
            if w in comp and w not in paths:
                paths[w] = paths[v] + [w]
                todo.append(w)
    return sorted(comp)


def cycles(edges):
    """One representative cycle per strongly connected component (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(loop_through(edges, set(comp)))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    verbose = "--verbose" in argv
    args = [a for a in argv if a != "--verbose"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    violations, lazy = check(root)
    for v in violations:
        print(v)
    if verbose:
        for v in lazy:
            print(f"allowed: {v}")
    if violations:
        print(f"check_layers: {len(violations)} violation(s)")
        return 1
    print(f"check_layers: ok ({len(lazy)} function-level import(s) closing a cycle, allowed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
