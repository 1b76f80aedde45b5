"""/drift through AppTest and its URL state: generated data shown beside the truth, pasted data,
hostile input keeping the last good data, hostile links, no NaN."""

from __future__ import annotations

import math

import pytest
from test_app import assert_no_nan

from explorer.text import unescape_markdown
from views.state import AppState
from views.state.drift import DriftState


def open_drift(params: dict | None = None):
    from streamlit.testing.v1 import AppTest
    from test_app import APP, TIMEOUT

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    at.switch_page("views/drift.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def normal_kl(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def test_state_round_trip_and_hostile_links():
    s = AppState().with_(drift=DriftState(source="data", shift=-2.5, scale=3.0, extra_weight=0.3,
                                          extra_mean=7.0, extra_sd=0.25, n_ref=500,
                                          n_live=50_000, seed=42, binning="fd", bins=25,
                                          eps=1e-6, k=4, resamples=50))
    back, warnings = AppState.from_query(s.to_query())
    assert back == s and warnings == []
    hostile = {"xs": "<script>alert(1)</script>", "xh": "NaN", "xc": "0", "xw": "0.95",
               "xn": "7", "xe": "0.5", "xb": "x" * 5000, "xk": "1e999", "xj": "2.5",
               "xr": "-1", "xz": "1e9"}
    state, warnings = AppState.from_query(hostile)
    assert state.drift == DriftState()
    text = " ".join(warnings)
    for key in hostile:
        assert f"Ignored {key}" in text, key
    assert "scale factor must be a number in [0.01, 100], got 0" in text


def test_generated_view_shows_every_estimate_beside_the_truth():
    # a Normal target shifted by 1: KL both ways = ½, J = 1
    at = open_drift({"c": "n:1:0:1", "xh": "1", "xn": "10000", "xl": "10000"})
    rows = {r["estimate"]: r for r in table(at)}
    assert float(rows["KL(ref‖live)"]["true"]) == pytest.approx(normal_kl(0, 1, 1, 1), rel=1e-4)
    assert float(rows["PSI"]["true"]) == pytest.approx(1.0, rel=1e-4)
    knn = float(rows["kNN KL(ref‖live)"]["nats"])
    assert knn == pytest.approx(0.5, abs=0.05)
    lo, hi = (float(v) for v in rows["kNN KL(ref‖live)"]["interval"].split(" – "))
    assert lo < knn < hi
    assert float(rows["PSI"]["p (no drift)"]) == pytest.approx(1 / 151, rel=1e-3)  # 150 splits fit
    assert "above 0.25: a major shift" in " ".join(unescape_markdown(i.value) for i in at.info)
    assert_no_nan(at)


def test_bad_typed_values_keep_the_last_good_state():
    at = open_drift()
    at.number_input(key="x_shift").set_value(5000.0).run()
    assert not at.exception
    errs = [unescape_markdown(e.value) for e in at.error]
    assert any("shift must be a number in [-1000, 1000], got 5000" in e for e in errs), errs
    assert at.session_state["_kl_state"].drift.shift == 0.5
    assert len(table(at)) == 6


def test_pasted_data_with_bad_rows_and_a_bad_paste_that_keeps_the_last_good_data():
    at = open_drift({"xs": "data"})
    assert any("Upload or paste both samples" in i.value for i in at.info)
    ref = "value\n" + "\n".join(str(0.01 * i + (i % 7) * 0.013) for i in range(200))
    live = "value\n" + "\n".join(["n/a", "", "inf"] + [str(0.5 + 0.011 * i) for i in range(150)])
    at.text_area(key="x_paste_ref").set_value(ref).run()
    at.text_area(key="x_paste_live").set_value(live).run()
    assert not at.exception
    rows = table(at)
    assert len(rows) == 6 and "true" not in rows[0]  # no truth for the visitor's data
    notes = " ".join(unescape_markdown(c.value) for c in at.caption)
    assert "2 row(s) dropped" in notes and "row 2: 'n/a'" in notes
    before = rows
    at.text_area(key="x_paste_live").set_value("value\nx\ny\n").run()
    errs = [unescape_markdown(e.value) for e in at.error]
    assert any("pasted live values" in e and "need at least 5" in e for e in errs), errs
    assert table(at) == before  # the last good data is still analysed
    assert_no_nan(at)


def test_example_and_empty_bins():
    at = open_drift({"xs": "data", "xe": "0", "xb": "equal-width", "xk": "50"})
    at.button[0].click().run()
    rows = {r["estimate"]: r for r in table(at)}
    assert rows["KL(ref‖live)"]["nats"] in ("∞", "inf") or any(
        "no value in bin" in unescape_markdown(e.value) for e in at.error)
    assert rows["kNN KL(ref‖live)"]["nats"] != "—"  # the example is continuous data
    assert_no_nan(at)


def test_uploaded_files_good_and_hostile():
    at = open_drift({"xs": "data"})
    good_ref = "when;value\n" + "\n".join(f"t{i};{math.sin(i) * 3 + i / 100:.6f}"
                                          for i in range(300))
    good_live = "value\n" + "\n".join(f"{math.cos(i) * 3 + 1 + i / 90:.6f}" for i in range(200))
    at.file_uploader(key="x_file_ref").upload("ref.csv", good_ref.encode(), "text/csv").run()
    at.file_uploader(key="x_file_live").upload("live.csv", good_live.encode(), "text/csv").run()
    assert not at.exception
    assert at.selectbox(key="x_col_ref").value == "value"  # the numeric column of 'when;value'
    before = table(at)
    assert len(before) == 6
    hostile = [(b"", "live.csv: the file is empty"),
               (b"\xff\xfe\x00\x01", "live.csv: not UTF-8 text"),
               (b"v\n" + b"3\n" * 50, "every value is 3"),
               (b"a,b\nx,y\nz,w\n", "no column has enough numbers"),
               (b"1" * (6 * 2**20), "over the 5 MB limit")]
    for data, message in hostile:
        at.file_uploader(key="x_file_live").set_value(("live.csv", data, "text/csv")).run()
        assert not at.exception
        errs = [unescape_markdown(e.value) for e in at.error]
        assert any(message in e for e in errs), (message, errs)
        assert table(at) == before  # the last good data is still analysed
    link = str(dict(at.query_params))
    assert "xs" in link and "3." not in link and "value" not in link  # no data in the link
