"""The trained category model as the router sees it: a reading per text, hot-swapped from disk."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.classifier.artifact import LoadedModel, ModelHolder

log = logging.getLogger(__name__)
TOP_K = 5


@dataclass(frozen=True, slots=True)
class ModelReading:
    """The model's best labels with calibrated probabilities, and which model said so."""

    version: str
    top: tuple[tuple[str, float], ...]
    labels: frozenset[str]  # every label the model knows


class ArtifactTextModel:
    """Reads an artifact path that may not exist yet: the router runs on rules until it does,
    then picks the model up (and every retrained file after it) without a restart."""

    def __init__(self, path: Path | str, *, check_interval_s: float = 5.0) -> None:
        self.path = Path(path)
        self.check_interval_s = check_interval_s
        self._holder: ModelHolder | None = None
        self._lock = threading.Lock()
        self._looked_at = -float("inf")
        self._try_open()

    def _try_open(self) -> None:
        with self._lock:
            self._looked_at = time.monotonic()
            if self._holder is not None or not self.path.exists():
                return
            # Imported here: scikit-learn costs a second and ~60 MB, paid only once a model exists.
            from service.classifier.artifact import ModelHolder

            try:
                self._holder = ModelHolder(self.path, check_interval_s=self.check_interval_s)
            except Exception as exc:
                # A corrupt first artifact leaves the rules in charge; the next look retries.
                log.warning("classifier.open.failed path=%s error=%s", self.path, exc)
                return
            loaded = self._holder.get()
            # The first prediction builds lazy caches (~30 ms): pay it here, not on an item.
            loaded.model.predict_one("проверка связи")
            log.info("classifier.open.done version=%s", loaded.metadata.model_version)

    def current(self) -> LoadedModel | None:
        if self._holder is None and time.monotonic() - self._looked_at >= self.check_interval_s:
            self._try_open()
        return self._holder.get() if self._holder is not None else None

    def read(self, text: str) -> ModelReading | None:
        loaded = self.current()
        if loaded is None:
            return None
        prediction = loaded.model.predict_one(text, top_k=TOP_K)
        return ModelReading(loaded.metadata.model_version, prediction.top, loaded.model.label_set)
