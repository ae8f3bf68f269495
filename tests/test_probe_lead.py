"""Which of the compared runs probes best, and whether the probe can tell: "which is better, run 2 or run 4?" got a
table and no answer. The lead of the best probe over the runner-up is judged against its standard error, paired on
the same validation rows where both probes kept their per-row record (ssl_runtime/probe.row_record), else unpaired.
All on constructed probe records: the arithmetic is under test, not what training learns."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from agent.answers import tool_result_text
from ssl_runtime.probe import gain_se, paired_se, row_record, rows_correct
from tools.insights import probe_lead


@pytest.mark.parametrize("bits", ["", "0", "1", "0010110", "1" * 9, "0" * 17 + "1", "10" * 2000])
def test_a_row_record_packs_and_unpacks_its_bits_exactly(bits):
    record = row_record(bits, "data", 3)
    assert rows_correct(record) == bits and record["n"] == len(bits)
    assert row_record(bits, "other data", 3)["id"] != record["id"]  # other images: other rows


def test_the_paired_error_is_the_gain_s_error_and_needs_the_same_rows():
    a, b = "1101101111" * 4, "1001101011" * 4
    assert paired_se(a, b) == gain_se({"probe/correct": a}, {"probe/correct": b})
    diffs = [int(x) - int(y) for x, y in zip(a, b, strict=True)]
    mean = sum(diffs) / len(diffs)
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
    assert paired_se(a, b) == pytest.approx(sd / math.sqrt(len(diffs)))
    assert paired_se(a, b[:-1]) is None and paired_se(None, b) is None


def probe(bits: str, data: str = "digits", sample: tuple[int, int] = (100, 100)) -> dict:
    return {"probe/acc": bits.count("1") / len(bits), "num_val": len(bits), "probe/rows": row_record(bits, data, 80),
            "sample": {"images": sample[0], "available": sample[1]}}


def test_a_lead_of_many_paired_rows_is_resolved_and_a_few_flipped_rows_are_not():
    n = 400
    base = "1" * 300 + "0" * 100  # 75%
    better = "1" * 340 + "0" * 60  # 85%: 40 rows more right, none less
    close = "1" * 296 + "0" * 4 + "1" * 6 + "0" * 94  # 75.5%: 6 rows gained, 4 lost
    lead = probe_lead({"2": probe(base), "4": probe(better), "5": probe(close)})
    assert (lead["best"], lead["second"], lead["paired"], lead["rows"]) == ("4", "5", True, n)
    assert lead["lead"] == pytest.approx(0.85 - 0.755) and lead["resolved"]
    near = probe_lead({"2": probe(base), "5": probe(close)})
    assert (near["best"], near["paired"], near["resolved"]) == ("5", True, False)
    assert near["se"] == pytest.approx(paired_se(close, base))


def test_probes_of_other_rows_get_the_unpaired_error_and_one_probe_no_lead():
    a, b = probe("1" * 90 + "0" * 10, data="one draw"), probe("1" * 80 + "0" * 20, data="another draw")
    lead = probe_lead({"1": a, "2": b})
    assert not lead["paired"] and lead["se"] == pytest.approx(math.sqrt(0.9 * 0.1 / 100 + 0.8 * 0.2 / 100))
    assert probe_lead({"1": a}) is None and probe_lead({"1": a, "2": {"probe/acc": None}}) is None


def test_the_comparison_says_which_probe_leads_and_whether_the_probe_can_tell(tmp_path, monkeypatch):
    from conftest import tiny_config

    from tools.agent_tools import ToolBox
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue

    monkeypatch.setenv("SSLPILOT_AUTOSTART", "0")
    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    runs = [enqueue(home, tiny_config()) for _ in range(3)]
    records = {runs[0].id: probe("1" * 300 + "0" * 100, sample=(500, 1797)),
               runs[1].id: probe("1" * 296 + "0" * 4 + "1" * 6 + "0" * 94, sample=(500, 1797))}
    for run in runs[:2]:
        (Path(run.run_dir) / "probe.json").write_text(json.dumps(records[run.id]))
        reg.sync(run.id)
    out = ToolBox(home).compare_runs(run_ids=[r.id for r in runs])
    assert out["probe_lead"]["best"] == runs[1].id and not out["probe_lead"]["resolved"]
    text = tool_result_text("compare_runs", out)
    assert f"Best linear probe: run {runs[1].id} (75.5%), 0.5 points above run {runs[0].id}" in text
    assert "cannot tell these runs apart" in text and "eval.max_images" in text  # a sample: more images would help


def test_the_compare_page_says_which_probe_leads(tmp_path, monkeypatch):
    from conftest import tiny_config
    from ui_browser import page_loader

    from ssl_runtime.run_folder import RunFolder
    from tools.home import Home
    from tools.registry import Registry
    from tools.runs import enqueue

    home = Home.resolve(tmp_path / "home")
    reg = Registry(home)
    runs = [enqueue(home, tiny_config()) for _ in range(2)]
    for run, bits in zip(runs, ("1" * 300 + "0" * 100, "1" * 360 + "0" * 40), strict=True):
        folder = RunFolder(run.run_dir)
        folder.log_metrics({"step": 10, "loss": 5.0})
        (folder.path / "probe.json").write_text(json.dumps({**probe(bits), "knn/acc": 0.5}))
        folder.set_status("succeeded")
        reg.sync(run.id)
    at = page_loader(home.root, monkeypatch)("runs")
    picker = next(m for m in at.multiselect if m.label == "runs to compare")
    picker.set_value([r.id for r in runs]).run()
    assert not at.exception, at.exception
    said = [c.value for c in at.caption if c.value.startswith("Best linear probe")]
    assert said and f"run {runs[1].id} (90.0%), 15.0 points above run {runs[0].id}" in said[0]
    assert "the better encoder" in said[0]


def test_a_tie_on_the_probe_names_no_best_run():
    from agent.answers import probe_lead_text

    tie = {"best": "1", "second": "3", "best_acc": 0.9638, "second_acc": 0.9638, "lead": 0.0, "se": 0.0104,
           "paired": True, "rows": 359, "resolved": False, "sampled": False}
    text = probe_lead_text(tie)
    assert text.startswith("Runs 1 and 3 tie on the linear probe (96.4%)") and "Best linear probe" not in text
    text = probe_lead_text({**tie, "best_acc": 0.9666, "lead": 0.0028})  # one image apart: a leader, unresolved
    assert text.startswith("Best linear probe: run 1 (96.7%), 0.3 points above run 3") and "cannot tell" in text
