"""tapeflow as a GradBench tool: ``python bench/gradbench/tool.py`` (from any directory).

Reads one JSON message per line on stdin and writes one JSON response per message on stdout
(GradBench's protocol: start, define, evaluate, analysis). ``define`` imports the eval's module
from this folder (``lse`` -> ``lse.py``); a module that sets ``NOT_DONE`` answers
``success: false`` with that reason. ``evaluate`` calls the module's function of that name,
which returns the output and its timings (see runs.py). Anything else goes to stderr.
"""
import importlib
import importlib.util
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "tapeflow_gradbench"   # not "gradbench": that is the eval side's own package


def package():
    """This folder imported as a package of its own name, so modules import each other."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, os.path.join(HERE, "__init__.py"), submodule_search_locations=[HERE])
        pkg = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = pkg
        spec.loader.exec_module(pkg)
    return sys.modules[PACKAGE]


def load(name):
    """The eval module ``name`` (ValueError if there is none)."""
    package()
    if not name.isidentifier() or name in ("runs", "tool", "descent", "peers") or \
            not os.path.exists(os.path.join(HERE, name + ".py")):
        raise ValueError(f"tapeflow has no module for the eval {name!r}")
    return importlib.import_module(f"{PACKAGE}.{name}")


def respond(message):
    kind = message.get("kind")
    response = {"id": message["id"]}
    if kind == "start":
        response["tool"] = "tapeflow"
    elif kind == "define":
        try:
            module = load(message["module"])
        except Exception as e:
            return response | {"success": False, "error": "".join(traceback.format_exception(e))}
        reason = getattr(module, "NOT_DONE", None)
        if reason:
            return response | {"success": False, "error": f"not done: {reason}"}
        response["success"] = True
    elif kind == "evaluate":
        try:
            fn = getattr(load(message["module"]), message["function"], None)
            if not isinstance(fn, importlib.import_module(f"{PACKAGE}.runs").Measured):
                raise ValueError(f"module {message['module']!r} has no function "
                                 f"{message['function']!r}")
            output, timings = fn(message["input"])
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            return response | {"success": False, "error": "".join(traceback.format_exception(e))}
        response |= {"success": True, "output": output, "timings": timings}
    return response


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(respond(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
