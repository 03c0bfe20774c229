"""The case model, its vocabularies and its readers."""
