"""Tests of clinical-trial matching (issue 5)."""
