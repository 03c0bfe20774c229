"""Primary-site rules (rhabdo.classify.sites) and the classification knowledge file."""

from __future__ import annotations

import pytest

from rhabdo.case.vocab import PrimarySite
from rhabdo.classify.sites import (
    ALL_SCHEMES,
    CURRENT_SCHEME,
    EPSSG_SCHEME,
    HISTORICAL_IRS_SCHEME,
    favourable_site_citations,
    is_favourable_site,
    is_orbit,
    schemes_disagree,
    site_ruling,
    site_views,
)
from rhabdo.classify.tables import classification_table
from rhabdo.knowledge import sources

S = PrimarySite

# PDQ 2025 Table 3 (after Crane 2022): orbit; head and neck excluding parameningeal;
# genitourinary non-bladder/non-prostate.  PDQ 2025 biliary-tree section: COG now classifies
# biliary as unfavourable.  PDQ 2009/2014 Table 1: kidney excluded from favourable GU sites.
CURRENT_FAVOURABLE = {
    S.ORBIT: True,
    S.EYELID: True,  # head and neck, non-parameningeal
    S.HEAD_NECK_NON_PARAMENINGEAL: True,
    S.PARAMENINGEAL: False,
    S.BLADDER: False,
    S.PROSTATE: False,
    S.KIDNEY: False,
    S.PARATESTICULAR: True,
    S.VULVA_VAGINA_UTERUS: True,
    S.OTHER_GENITOURINARY: True,
    S.BILIARY: False,
    S.EXTREMITY: False,
    S.TRUNK: False,
    S.RETROPERITONEUM: False,
    S.PERINEUM_PERIANAL: False,
    S.THORAX: False,
    S.OTHER: False,
}


def test_expectation_table_covers_every_site() -> None:
    assert set(CURRENT_FAVOURABLE) == set(PrimarySite)


@pytest.mark.parametrize("site", list(PrimarySite))
def test_is_favourable_site_current_cog(site: PrimarySite) -> None:
    assert is_favourable_site(site) is CURRENT_FAVOURABLE[site]


@pytest.mark.parametrize("site", list(PrimarySite))
def test_historical_irs_rule_differs_only_for_biliary(site: PrimarySite) -> None:
    """PDQ 2009/2014 Table 1: biliary tract favourable; otherwise as today."""
    expected = True if site is S.BILIARY else CURRENT_FAVOURABLE[site]
    assert site_ruling(site, HISTORICAL_IRS_SCHEME).favourable is expected
    assert schemes_disagree(site) is (site is S.BILIARY)


@pytest.mark.parametrize("site", list(PrimarySite))
def test_epssg_site_rule(site: PrimarySite) -> None:
    """NCT00379457: orbit, H&N non-PM, GU non-BP favourable; biliary, kidney -> other."""
    assert site_ruling(site, EPSSG_SCHEME).favourable is CURRENT_FAVOURABLE[site]


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@pytest.mark.parametrize("site", list(PrimarySite))
def test_orbit_only_rules_take_orbit_literally(scheme: str, site: PrimarySite) -> None:
    assert is_orbit(site, scheme) is (site is S.ORBIT)


@pytest.mark.parametrize("site", [S.BILIARY, S.KIDNEY, S.EYELID])
def test_disputed_sites_carry_a_note(site: PrimarySite) -> None:
    assert site_ruling(site, CURRENT_SCHEME).note


def test_site_views_lists_every_scheme() -> None:
    views = site_views(S.BILIARY)
    assert [v.scheme for v in views] == list(ALL_SCHEMES)
    assert [v.favourable for v in views] == [False, True, False]


def test_favourable_site_citations_resolve() -> None:
    keys = favourable_site_citations()
    assert "crane_2022" in keys and "pdq_rms_hp_2025" in keys
    registry = sources()
    assert all(k in registry for k in keys)


def test_every_classification_citation_resolves() -> None:
    registry = sources()
    for e in classification_table():
        for key in e.citations:
            assert key in registry, (e.id, key)


def test_unverified_entries_state_their_gap() -> None:
    for e in classification_table():
        if not e.verified:
            assert e.evidence_gap, e.id
