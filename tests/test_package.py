import importlib


def test_package_layout_maps_top_level_folders():
    # compiler/ and runtime/ are installed as tapeflow.compiler and tapeflow.runtime.
    for name in ("tapeflow", "tapeflow.compiler", "tapeflow.runtime", "tapeflow.runtime.rules"):
        assert importlib.import_module(name).__name__ == name
    from tapeflow.runtime.rules import RULES
    assert RULES["Sin"].name == "Sin"
