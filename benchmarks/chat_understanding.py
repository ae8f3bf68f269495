"""How well the chat reads messages: per-tool accuracy of agent/understand.py against the rules sslpilot used
before (benchmarks/legacy_intents.py), on the held-out sets and the older regression set.

    python benchmarks/chat_understanding.py

Each set is read against the same home of five runs (tests/understanding_eval.py). Prints one table per set,
the most frequent confusions, and the misses with the lowest confidence last.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import ROOT, table

sys.path.insert(0, str(ROOT / "tests"))

from understanding_eval import WORLD, legacy_reader, load, regression_world, score  # noqa: E402


def main() -> None:
    from agent.intent_model import get_model
    from agent.understand import understand

    photos = Path(tempfile.mkdtemp())
    model = get_model(tempfile.mkdtemp())
    sets = [("held-out A", "intents_heldout.jsonl", lambda m, c: understand(m, c, WORLD, model)),
            ("held-out B", "intents_heldout_b.jsonl", lambda m, c: understand(m, c, WORLD, model)),
            ("held-out C", "intents_heldout_c.jsonl", lambda m, c: understand(m, c, WORLD, model)),
            ("held-out D", "intents_heldout_d.jsonl", lambda m, c: understand(m, c, WORLD, model)),
            ("held-out E", "intents_heldout_e.jsonl", lambda m, c: understand(m, c, WORLD, model, cwd=photos)),
            ("held-out F", "intents_heldout_f.jsonl", lambda m, c: understand(m, c, WORLD, model, cwd=photos)),
            ("regression (old set)", "intents.jsonl",
             lambda m, c: understand(m, c, regression_world(c), model, path_exists=lambda p: True))]
    for title, name, read in sets:
        rows = load(name, photos)
        new, old = score(rows, read), score(rows, legacy_reader())
        body = [[label, n, f"{acc:.2f}", f"{old['per_label'].get(label, (0.0, n))[0]:.2f}"]
                for label, (acc, n) in new["per_label"].items()]
        body.append(["all", new["n"], f"{new['accuracy']:.3f}", f"{old['accuracy']:.3f}"])
        print(f"\n## {title}: {name} ({new['n']} messages)\n")
        print(table(["expected", "n", "classifier + slots", "old rules"], body))
        confused = [(k, v) for k, v in new["confusion"].most_common() if k[0] != k[1]][:6]
        if confused:
            print("\nconfusions (expected -> got): " + ", ".join(f"{a} -> {b} x{n}" for (a, b), n in confused))
        for m in sorted(new["misses"], key=lambda m: -m["confidence"])[:8]:
            print(f"- miss: {m['message']!r}: expected {m['want']} {m['want_args'] or ''}, got {m['got']} "
                  f"{m['got_args'] or ''} (confidence {m['confidence']})")


if __name__ == "__main__":
    main()
