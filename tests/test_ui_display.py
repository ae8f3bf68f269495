"""What a person sees: no raw None, no empty parentheses, counts as integers, badges whole, imported runs with a
verdict on arrival, and a compare view that opens on runs with curves (AppTest, and Chromium for the screenshot)."""

from __future__ import annotations

import json

import pytest
from conftest import tiny_config
from ui_browser import ARTIFACTS, browser_tab, page_loader

from ui import display


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A run with curves; an imported CSV run that names no method, data or device; and, newest, a queued run with
    no curves yet."""
    from ssl_runtime.run_folder import RunFolder
    from tools.home import Home
    from tools.imports import import_path
    from tools.registry import Registry
    from tools.runs import enqueue

    root = tmp_path_factory.mktemp("display")
    h = Home.resolve(root / "home")
    trained = enqueue(h, tiny_config("simclr"))
    folder = RunFolder(trained.run_dir)
    folder.set_status("running", "running", embedding_dim=32, health_samples=128, total_steps=40)
    for i in range(1, 5):
        folder.log_metrics({"step": 10 * i, "loss": 5.0 - i, "health/std": 0.1 + 0.01 * i, "health/rank": 10.0 + i})
    folder.write_summary({"status": "succeeded", "embedding_dim": 32, "health_samples": 128, "steps": 40})
    folder.set_status("succeeded")
    Registry(h).sync(trained.id)
    csv = root / "metrics.csv"
    csv.write_text("step,train_loss,train_z_std\n" + "".join(f"{s},{5 - s / 100},{0.05 - s / 10000}\n"
                                                             for s in range(10, 210, 10)))
    (imported,) = import_path(h, str(csv))
    rising = enqueue(h, tiny_config("simclr"))  # a LiDAR curve still rising: the run page forecasts it
    folder = RunFolder(rising.run_dir)
    for step in range(100, 1001, 100):
        folder.log_metrics({"step": step, "health/lidar": 60.0 - 900.0 * step ** -0.5, "health/rank": 20.0})
    Registry(h).sync(rising.id)
    probed = enqueue(h, tiny_config("simclr"))  # kept checkpoints whose probes are already kept beside them
    folder = RunFolder(probed.run_dir)
    folder.set_status("running", "running", total_steps=1000)
    folder.checkpoints.mkdir(parents=True, exist_ok=True)
    for step in range(100, 1001, 100):
        (folder.checkpoints / f"step_{step}.pt").write_bytes(b"")
        folder.log_metrics({"step": step, "health/lidar": 30.0, "health/rank": 20.0})  # flat: LiDAR has plateaued
        with folder.checkpoint_probes.open("a") as f:
            f.write(json.dumps({"step": step, "probe/acc": 0.9 - 5.0 * step ** -0.5}) + "\n")
    Registry(h).sync(probed.id)
    queued = enqueue(h, tiny_config("byol"))
    return {"home": h, "trained": trained.id, "imported": imported.id, "rising": rising.id, "queued": queued.id,
            "probed": probed.id}


@pytest.fixture
def page(home, monkeypatch):
    return page_loader(home["home"].root, monkeypatch)


def test_display_helpers():
    assert display.text(None) == display.MISSING and display.text(float("nan")) == display.MISSING
    assert display.text(512.0) == "512" and display.text(0.25) == "0.25"
    assert display.run_label({"run_id": "7", "method": "", "dataset": None}) == "7"
    assert display.run_label({"run_id": "7", "method": "", "dataset": None, "source": "csv"}) == "7 · imported (csv)"
    assert display.run_label({"run_id": "3", "method": "dino", "dataset": "shapes"}) == "3 · dino on shapes"
    df = display.table([{"run_id": "1", "steps": 512.0, "device": None}, {"run_id": "2", "steps": None,
                                                                          "device": "cpu"}],
                       ["run_id", "steps", "device"])
    assert str(df["steps"].dtype) == "Int64" and df["steps"].tolist()[0] == 512
    assert df["device"].tolist() == ["", "cpu"]


def test_imported_run_has_a_verdict_on_arrival(home):
    from tools.registry import Registry

    assert Registry(home["home"]).get(home["imported"]).verdict is not None


def test_runs_table_has_no_none_and_integer_counts(page, home):
    at = page("runs")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    cells = [str(v) for col in table.columns if not str(table[col].dtype).startswith("datetime") for v in table[col]]
    assert not [c for c in cells if c in ("None", "nan", "NaN", "<NA>")], cells  # the grid would draw these
    steps = dict(zip(table["run_id"], table["steps"], strict=True))
    assert steps[home["trained"]] == "40 / 40" and steps[home["queued"]] == "0 / ?"  # integers, never 40.0
    options = at.multiselect[-1].options  # the compare picker, labelled without empty parentheses
    assert options and not [o for o in options if "()" in o], options


def test_compare_opens_on_runs_with_curves(page, home):
    at = page("runs")
    picker = next(m for m in at.multiselect if m.label == "runs to compare")
    assert home["queued"] not in picker.value and home["trained"] in picker.value
    assert at.get("vega_lite_chart"), "the compare view opened on empty charts"


def test_run_page_label_and_whole_badges(page, home):
    at = page("run", run=home["imported"])
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown) + "\n".join(t.value for t in at.title)
    assert "()" not in text and "None" not in text
    assert "-badge[" in text  # status and verdict as markdown badges: as wide as their words


def test_run_page_shows_the_forecast_and_its_verdict(page, home):
    at = page("run", run=home["rising"])
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert ":green-badge[train longer]" in text and "health/lidar is forecast to gain" in text
    charts = at.get("vega_lite_chart")
    assert any("forecast with an 80% band" in json.dumps(c.proto.spec if hasattr(c.proto, "spec") else str(c.proto))
               for c in charts), len(charts)
    at = page("run", run=home["trained"])  # four points: too few to forecast, and it says so
    assert "No forecast: only 4 measurements" in "\n".join(c.value for c in at.caption)


def test_run_page_forecasts_the_probe_of_kept_checkpoints_on_request(page, home):
    at = page("run", run=home["probed"])
    assert not at.exception, at.exception
    assert "health/lidar is forecast" in "\n".join(m.value for m in at.markdown)  # label-free by default
    at.toggle(key="forecast_probe").set_value(True).run()
    text = "\n".join(m.value for m in at.markdown)
    assert not at.exception and "probe/acc is forecast to gain" in text and "learning rate's area" in text
    at = page("run", run=home["trained"])  # no kept checkpoints: asked for, it says why
    at.toggle(key="forecast_probe").set_value(True).run()
    assert "kept no intermediate checkpoints" in "\n".join(w.value for w in at.warning)


def test_compare_ranks_runs_of_one_method_without_labels(page, home):
    at = page("runs")
    picker = next(m for m in at.multiselect if m.label == "runs to compare")
    picker.set_value([home["trained"], home["rising"]]).run()
    assert not at.exception, at.exception
    ranked = next(d for d in at.dataframe if "rank" in d.value.columns).value
    assert list(ranked["run"]) == [f"run {home['rising']}", f"run {home['trained']}"]  # RankMe 20 > 14
    assert any("Decided by rank of each run's last health step" in c.value for c in at.caption)
    picker = next(m for m in at.multiselect if m.label == "runs to compare")
    picker.set_value([home["trained"], home["queued"]]).run()  # simclr and byol: refused, and said why
    assert any("No label-free ranking" in c.value and "view retrieval ranks simclr, byol" in c.value and
               f"run {home['queued']} ha" in c.value for c in at.caption)  # why: nothing to measure the queued run on


def test_browser_screenshot_of_the_compare_view(home):
    """`sslpilot ui` in Debian's Chromium: the Runs page's compare view draws its curves; the screenshot is kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "compare_view.png"
    with browser_tab(home["home"].root, "runs", height=1600) as tab:
        tab.get_by_text("Compare").first.wait_for(timeout=120_000)
        tab.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first \
            .wait_for(timeout=120_000)
        tab.wait_for_timeout(1500)
        body = tab.inner_text("body")
        tab.screenshot(path=str(shot), full_page=True)
    assert shot.exists() and shot.stat().st_size > 20_000
    assert "()" not in body and "None" not in body, json.dumps(body[:2000])


def test_compare_shows_both_readings_of_a_paired_order(tmp_path, monkeypatch):
    """Finished runs whose view retrieval and cluster consistency are already kept beside them: the compare page's
    ranking shows both readings and each run's mean place (1 the best), without embedding anything."""
    from ssl_runtime.run_folder import RunFolder, write_json_atomic
    from tools.home import Home
    from tools.ranking import MEASURE, _stamp
    from tools.registry import Registry
    from tools.runs import enqueue

    h = Home.resolve(tmp_path / "home")
    ids = []
    for retrieval, clusters in ((0.04, 0.31), (0.035, 0.42), (0.03, 0.40)):
        run = enqueue(h, tiny_config("simclr"))
        folder = RunFolder(run.run_dir)
        folder.log_metrics({"step": 10, "health/lidar": 10.0, "health/rank": 10.0})
        folder.encoder.mkdir(parents=True, exist_ok=True)
        (folder.encoder / "config.json").write_text("{}")
        write_json_atomic(folder.view_health, {f"encoder|{_stamp(folder.encoder)}|{MEASURE}": {
            "health/view_retrieval": retrieval, "health/cluster_consistency": clusters}})
        folder.set_status("succeeded")
        Registry(h).sync(run.id)
        ids.append(run.id)
    at = page_loader(h.root, monkeypatch)("runs")
    next(m for m in at.multiselect if m.label == "runs to compare").set_value(ids).run()
    assert not at.exception, at.exception
    ranked = next(d for d in at.dataframe if "rank" in d.value.columns).value
    assert list(ranked["run"]) == [f"run {ids[1]}", f"run {ids[0]}", f"run {ids[2]}"]  # places 1.5, 2, 2.5
    assert list(ranked["mean place"]) == [1.5, 2.0, 2.5] and list(ranked["cluster consistency"])[0] == 0.42
    assert any("their ranks averaged" in c.value for c in at.caption)
