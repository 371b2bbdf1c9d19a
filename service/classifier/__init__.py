"""Trainable text classifier for citizen feedback (issue 4): train, evaluate, load, hot-swap.

Names are resolved lazily: the API and the router import `service.classifier.serving` without
paying for scikit-learn until a model artifact is actually loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArtifactMetadata": "service.classifier.artifact",
    "LoadedModel": "service.classifier.artifact",
    "ModelHolder": "service.classifier.artifact",
    "load_model": "service.classifier.artifact",
    "ModelConfig": "service.classifier.model",
    "Prediction": "service.classifier.model",
    "TextClassifier": "service.classifier.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
