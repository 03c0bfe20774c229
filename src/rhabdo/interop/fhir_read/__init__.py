"""Readers of FHIR R4 / mCODE resources, one module per kind of record (see
``rhabdo.interop.fhir_import``, which runs them)."""
