"""Clinical-trial matching: which trials a patient may fit, criterion by criterion.

Public API: ``match_trials(case, trials=None)`` (None = the bundled, curated set),
``load_trials()`` for the bundled set, ``load_trial_file(path)`` for a file in the same
format, and ``import_ctgov(document)`` / ``import_ctgov_file(path)`` for ClinicalTrials.gov
API v2 records.
"""

from rhabdo.trials.importer import TrialImportError, import_ctgov, import_ctgov_file
from rhabdo.trials.matcher import disease_settings, match_trial, match_trials
from rhabdo.trials.model import (
    CriterionOutcome,
    CriterionResult,
    DiseaseSetting,
    EligibilityCriteria,
    Evidence,
    Trial,
    TrialMatch,
    TrialPhase,
    TrialStatus,
    Verdict,
)
from rhabdo.trials.registry import load_trial_file, load_trials, parse_trials

__all__ = [
    "CriterionOutcome",
    "CriterionResult",
    "DiseaseSetting",
    "EligibilityCriteria",
    "Evidence",
    "Trial",
    "TrialImportError",
    "TrialMatch",
    "TrialPhase",
    "TrialStatus",
    "Verdict",
    "disease_settings",
    "import_ctgov",
    "import_ctgov_file",
    "load_trial_file",
    "load_trials",
    "match_trial",
    "match_trials",
    "parse_trials",
]
