"""What every benchmark writes: ``results.json`` and a markdown ``table.md`` in its folder."""

from __future__ import annotations

import json
import os
from typing import Any, Sequence


def write_json(out: str, results: Any) -> None:
    """``<out>/results.json`` (rewritten as rows arrive, so a stopped run keeps them)."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)


def write_table(out: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``<out>/table.md`` from a header and rows of cells; printed and returned."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    table = '\n'.join(lines)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'table.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    return table
