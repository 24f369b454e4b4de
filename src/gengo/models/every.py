"""Imports every built-in model (what the fork server preloads when the model is not known)."""

from gengo.models import MODELS  # noqa: F401
