"""Write template.yaml with other parameter defaults, for linters that take no overrides.

`sam validate --lint` and checkov read one template with its defaults; `make template`
runs them again on this copy so that both values of a switch (SnapStart) are checked.
Only the `Default:` line of each named parameter changes, so the copy keeps the
template's short-form tags and comments.

Run: .venv/bin/python -m scripts.template_variant OUT.yaml NAME=VALUE [...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def with_defaults(text: str, values: dict[str, str]) -> str:
    """`text` with the Default of each parameter in `values` set to its value."""
    for name, value in values.items():
        block = re.compile(rf"(^  {re.escape(name)}:\n(?:    .*\n)*?    Default: ).*$", re.M)
        text, found = block.subn(rf"\g<1>{value}", text, count=1)
        if not found:
            raise SystemExit(f"no parameter {name} with a Default in {TEMPLATE.name}")
    return text


def main(argv: list[str]) -> int:
    out, *pairs = argv
    values = dict(pair.split("=", 1) for pair in pairs)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # Beside the template, so that CodeUri/ContentUri paths still resolve.
    Path(out).write_text(with_defaults(TEMPLATE.read_text(encoding="utf-8"), values))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
