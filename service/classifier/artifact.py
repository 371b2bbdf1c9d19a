"""Versioned model artifacts (joblib file + JSON sidecar) and a holder that hot-swaps them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from service.classifier.model import TextClassifier

FORMAT_VERSION = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArtifactMetadata:
    """What the sidecar JSON records about one trained model."""

    model_version: str
    created_at: str
    data_sha256: str
    n_rows: int
    text_column: str
    label_column: str
    context_columns: list[str]
    labels: list[str]
    metrics: dict[str, Any]
    model_config: dict[str, Any]
    temperature: float
    aux_label_column: str = ""
    format_version: int = FORMAT_VERSION
    artifact_sha256: str = ""
    libraries: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArtifactMetadata:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class LoadedModel:
    model: TextClassifier
    metadata: ArtifactMetadata
    path: Path


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def new_model_version(label_column: str, data_sha256: str, created: datetime) -> str:
    # ASCII only: the version lands in logs, metrics labels and file names.
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in label_column.lower())
    slug = "-".join(part for part in slug.split("-") if part) or "model"
    return f"{slug}-{created:%Y%m%dT%H%M%SZ}-{data_sha256[:8]}"


def library_versions() -> dict[str, str]:
    # A pickle is only trusted to load under the scikit-learn/numpy it was written with.
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_bytes(path: Path, write: Any) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    write(Path(tmp))
    return Path(tmp)


def save_model(model: TextClassifier, path: Path, metadata: ArtifactMetadata) -> ArtifactMetadata:
    """Write model and sidecar; the model file is replaced last, so a watcher never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = _atomic_write_bytes(path, lambda p: joblib.dump(model, p))
    final_meta = ArtifactMetadata.from_json(
        {
            **asdict(metadata),
            "artifact_sha256": _sha256_file(tmp_model),
            "libraries": library_versions(),
        }
    )
    text = json.dumps(asdict(final_meta), ensure_ascii=False, indent=2)
    tmp_meta = _atomic_write_bytes(path, lambda p: p.write_text(text, encoding="utf-8"))
    for tmp in (tmp_model, tmp_meta):
        # mkstemp creates 0600 files; workers often run as another user than the trainer.
        tmp.chmod(0o644)
    os.replace(tmp_meta, sidecar_path(path))
    os.replace(tmp_model, path)
    # Return what a reader will see (JSON turns tuples into lists).
    return ArtifactMetadata.from_json(json.loads(text))


def load_model(path: Path | str) -> LoadedModel:
    """Load a trusted artifact (joblib unpickles code: never load files from untrusted sources)."""
    path = Path(path)
    meta = ArtifactMetadata.from_json(json.loads(sidecar_path(path).read_text(encoding="utf-8")))
    if meta.format_version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: artifact format {meta.format_version}, expected {FORMAT_VERSION}"
        )
    if meta.artifact_sha256 and _sha256_file(path) != meta.artifact_sha256:
        raise ValueError(f"{path}: model file does not match its sidecar (partial copy?)")
    model = joblib.load(path)
    if not isinstance(model, TextClassifier):
        raise TypeError(f"{path}: not a TextClassifier artifact")
    model.featurizer.ready()
    return LoadedModel(model=model, metadata=meta, path=path)


class ModelHolder:
    """Gives a worker the current model and swaps in a new artifact when the file changes."""

    def __init__(self, path: Path | str, *, check_interval_s: float = 5.0) -> None:
        self.path = Path(path)
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._current = load_model(self.path)
        self._checked_at = time.monotonic()

    def _file_stamp(self) -> tuple[int, int, int]:
        stat = self.path.stat()
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def get(self) -> LoadedModel:
        """The current model, reloaded first if the file changed since the last check."""
        if time.monotonic() - self._checked_at >= self.check_interval_s:
            self.reload_if_changed()
        return self._current

    def reload_if_changed(self) -> bool:
        with self._lock:
            self._checked_at = time.monotonic()
            try:
                stamp = self._file_stamp()
                if stamp == self._stamp:
                    return False
                fresh = load_model(self.path)
            except Exception as exc:
                # A broken or half-copied artifact must not take the worker down: keep serving.
                log.warning("classifier.reload.failed path=%s error=%s", self.path, exc)
                return False
            self._stamp, self._current = stamp, fresh
            log.info("classifier.reload.done version=%s", fresh.metadata.model_version)
            return True


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
