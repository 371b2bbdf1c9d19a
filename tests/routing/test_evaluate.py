"""`route eval`: scoring semantics and the accuracy targets on the Altai sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.routing.cli import main
from service.routing.decision import Decision, RouteInput
from service.routing.engine import Router
from service.routing.evaluate import Example, evaluate, score
from tests.routing.conftest import DATA_DIR

TARGETS = {
    "authority_accuracy": 0.95,
    "category_accuracy": 0.85,
    "actionable_accuracy": 0.97,
    "priority_accuracy": 0.95,
}


def _decision(status: str, authority: str | None, category: str | None) -> Decision:
    return Decision(
        actionable=status != "rejected",
        not_actionable_reason="spam" if status == "rejected" else None,
        category=category,
        priority=None if status == "rejected" else "normal",
        place=None,
        place_source=None,
        distance_km=None,
        authority_code=authority,
        confidence=0.9,
        runner_up=None,
        suggestions=(),
        reasons=(),
        status=status,
        version="test",
    )


def _example(authority: str, category: str, actionable: bool = True) -> Example:
    return Example(RouteInput("x"), category, authority, "normal", actionable)


def test_triage_is_right_only_where_no_authority_is_expected() -> None:
    result = score(
        [_example("", "roads_potholes"), _example("d_aleysky", "roads_potholes")],
        [_decision("triage", None, "roads_potholes"), _decision("triage", None, "roads_potholes")],
    )
    assert result["authority_accuracy"] == 0.5
    assert result["category_accuracy"] == 1.0
    assert result["triage_share"] == 1.0


def test_non_actionable_rows_score_on_rejection() -> None:
    rows = [_example("", "", actionable=False), _example("", "", actionable=False)]
    result = score(
        rows, [_decision("rejected", None, None), _decision("routed", "c_biysk", "econ_trade")]
    )
    assert result["authority_accuracy"] == 0.5
    assert result["actionable_accuracy"] == 0.5
    assert result["priority_accuracy"] == 1.0
    assert result["category_accuracy"] == 0.0  # no actionable rows to score


@pytest.mark.parametrize("name", ["altai_dev.csv", "altai_holdout.csv"])
def test_altai_sets_meet_the_targets(router: Router, name: str) -> None:
    result = evaluate(DATA_DIR / name, router)
    assert result["n"] >= (250 if "dev" in name else 80)
    for key, target in TARGETS.items():
        assert result[key] >= target, (key, result)
    assert result["triage_share"] <= 0.10
    assert result["items_per_s"] > 0


def test_cli_route_prints_the_decision(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["--text", "в Кашино нет воды", "--channel", "widget", "--page-id", "vk:club_d_aleysky"]
        )
        == 0
    )
    decision = json.loads(capsys.readouterr().out)
    assert (decision["authority_code"], decision["priority"], decision["status"]) == (
        "d_aleysky",
        "high",
        "routed",
    )


def test_cli_eval_prints_metrics(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sample = tmp_path / "one.csv"
    columns = (
        "channel,page_id,category_hint,lat,lon,address,text,"
        "expected_category,expected_authority,expected_priority,expected_actionable"
    )
    row = "comment,vk:club_c_biysk,,,,,нет воды второй день,zhkh_water_outage,c_biysk,high,true"
    sample.write_text(f"{columns}\n{row}\n", encoding="utf-8")
    assert main(["eval", "--input", str(sample)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n"] == 1
    assert metrics["authority_accuracy"] == 1.0
    assert set(metrics) >= {
        "category_accuracy",
        "priority_accuracy",
        "actionable_accuracy",
        "triage_share",
        "items_per_s",
    }


def test_cli_rejects_half_a_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--text", "яма", "--lat", "52.1"]) == 2
    assert "--lat" in capsys.readouterr().err


HEADER = (
    "channel,page_id,category_hint,lat,lon,address,text,"
    "expected_category,expected_authority,expected_priority,expected_actionable"
)
ROW = "comment,vk:club_gov_altai,,,,,яма на дороге,roads_potholes,,normal,true"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (HEADER.replace("expected_authority", "expected_authrity") + "\n" + ROW,
         "missing column(s) ['expected_authority']"),
        (HEADER.replace(",text,", ",Text,") + "\n" + ROW, "missing column(s) ['text']"),
        (HEADER + "\n" + ROW.replace(",true", ",yes"), "line 2: expected_actionable must be"),
        (HEADER + "\n" + ROW.replace("comment,", "sms,", 1), "line 2: channel must be one of"),
        (HEADER + "\n" + ROW.replace(",,,,,", ",,abc,,,", 1), "line 2: could not convert"),
        (HEADER + "\n", "no rows to evaluate"),
    ],
)  # fmt: skip
def test_a_csv_it_cannot_read_right_is_refused_not_scored(tmp_path, capsys, content, says):
    """A misspelled column read as empty in every row changed the figures with exit 0."""
    path = tmp_path / "eval.csv"
    path.write_text(content + "\n", encoding="utf-8")
    assert main(["eval", "--input", str(path)]) == 2
    assert says in capsys.readouterr().err


def test_an_input_column_left_out_is_empty_and_others_are_noted(tmp_path, capsys):
    header = HEADER.replace("address,", "") + ",note"
    path = tmp_path / "eval.csv"
    row = ROW.replace(",,,,,", ",,,,", 1) + ",from the pilot"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    assert main(["eval", "--input", str(path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 1 and "['note'] are not read" in captured.err
