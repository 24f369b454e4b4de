"""The core: counter-based randomness, declarations, arrays, vocabularies, errors (no I/O, no UI)."""
