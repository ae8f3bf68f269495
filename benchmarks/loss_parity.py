"""Each SSL loss of the runtime against its published formula (tests/loss_formulas.py) on seeded inputs.

    python benchmarks/loss_parity.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from loss_formulas import parity_rows  # noqa: E402


def main() -> None:
    print("| loss | sslpilot | formula | relative difference |\n|---|---|---|---|")
    for name, ours, formula in parity_rows(seed=0):
        print(f"| {name} | {ours:.10f} | {formula:.10f} | {abs(ours - formula) / max(abs(formula), 1e-12):.1e} |")


if __name__ == "__main__":
    main()
