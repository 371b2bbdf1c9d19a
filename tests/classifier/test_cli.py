from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.classifier.cli import main

BASE = ["--text-column", "text", "--label-column", "executor", "--context-column", "district"]


def test_train_then_eval(
    tmp_path: Path, csv_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models" / "exec.joblib"
    assert main(["train", "--input", str(csv_path), *BASE, "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.exists() and Path(str(out) + ".json").exists()
    assert summary["n_rows"] == 240 and summary["n_labels"] == 5
    assert set(summary["heldout"]) >= {"n", "accuracy", "macro_f1", "items_per_s", "ece", "brier"}
    assert summary["heldout"]["accuracy"] >= 0.9

    assert main(["eval", "--model", str(out), "--input", str(csv_path), *BASE]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"n", "accuracy", "macro_f1", "items_per_s"} <= set(result)
    assert result["n"] == 240 and result["accuracy"] >= 0.95
    assert isinstance(result["items_per_s"], float) and result["items_per_s"] > 0


def test_eval_needs_the_models_context_columns(
    tmp_path: Path, csv_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exec.joblib"
    assert (
        main(["train", "--input", str(csv_path), *BASE, "--out", str(out), "--holdout", "0"]) == 0
    )
    capsys.readouterr()
    code = main(
        [
            "eval",
            "--model",
            str(out),
            "--input",
            str(csv_path),
            "--text-column",
            "text",
            "--label-column",
            "executor",
        ]
    )
    assert code == 2
    assert "district" in capsys.readouterr().err


def test_missing_column_is_a_clear_error(
    tmp_path: Path, csv_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "--input",
            str(csv_path),
            "--text-column",
            "body",
            "--label-column",
            "executor",
            "--out",
            str(tmp_path / "m.joblib"),
        ]
    )
    assert code == 2
    assert "missing column" in capsys.readouterr().err


def test_from_db_rows_are_used_when_the_hook_returns_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import service.classifier.db_examples as db

    streets = ["ленина", "мира", "садовая", "лесная", "школьная", "новая", "речная", "полевая"]
    rows = [(f"яма на дороге, улица {s}", "roads", {"district": "А"}) for s in streets]
    rows += [(f"не горит фонарь, улица {s}", "light", {"district": "Б"}) for s in streets]
    monkeypatch.setattr(db, "load_db_examples", lambda *_: rows)
    assert main(["train", "--from-db", *BASE, "--out", str(tmp_path / "m.joblib")]) == 0
    assert json.loads(capsys.readouterr().out)["n_rows"] == 16
