"""Trainable text classifier for citizen feedback (issue 4): train, evaluate, load, hot-swap."""

from service.classifier.artifact import ArtifactMetadata, LoadedModel, ModelHolder, load_model
from service.classifier.model import ModelConfig, Prediction, TextClassifier

__all__ = [
    "ArtifactMetadata",
    "LoadedModel",
    "ModelConfig",
    "ModelHolder",
    "Prediction",
    "TextClassifier",
    "load_model",
]
