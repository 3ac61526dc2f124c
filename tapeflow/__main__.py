"""``python -m tapeflow build ...`` / ``show ...``: the same as the ``tapeflow`` console script."""
from .cli import main

raise SystemExit(main())
