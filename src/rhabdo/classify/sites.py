"""Primary-site rules: favourable or unfavourable, per source, read from knowledge data.

The current rule (``CURRENT_SCHEME``) is the COG modified TNM definition (Crane et al.,
Pediatr Blood Cancer 2022, as tabled in PDQ 2025 Table 3, with COG's later ruling that the
biliary tract is unfavourable).  Other schemes are kept beside it because the sources differ
on biliary tract, kidney and eyelid: the historical IRS tables (PDQ 2009/2014) and EpSSG
RMS 2005.  ``site_views`` lists every scheme's ruling for one site so that a finding can show
where they disagree for this patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rhabdo.case.vocab import PrimarySite
from rhabdo.classify.tables import site_scheme

CURRENT_SCHEME = "cog_current"
HISTORICAL_IRS_SCHEME = "irs_pdq_2014"
EPSSG_SCHEME = "epssg_rms2005"
STAGING_SCHEMES = (CURRENT_SCHEME, HISTORICAL_IRS_SCHEME)
ALL_SCHEMES = (CURRENT_SCHEME, HISTORICAL_IRS_SCHEME, EPSSG_SCHEME)


@dataclass(frozen=True)
class SiteRuling:
    """What one scheme says about one site."""

    scheme: str
    label: str
    site: PrimarySite
    favourable: bool
    orbit: bool
    note: str | None
    citations: tuple[str, ...]


@cache
def site_ruling(site: PrimarySite, scheme: str = CURRENT_SCHEME) -> SiteRuling:
    """The ruling of ``scheme`` on ``site`` (favourable?, counts as orbit?, with its note).

    Cached: the knowledge tables are read once per process and never change while it runs.
    """
    entry, rule = site_scheme(scheme)
    return SiteRuling(
        scheme=scheme,
        label=rule.label,
        site=site,
        favourable=site in rule.favourable_sites,
        orbit=site in rule.orbit_sites,
        note=rule.site_notes.get(site),
        citations=tuple(entry.citations),
    )


def is_favourable_site(site: PrimarySite) -> bool:
    """Whether ``site`` is a favourable site for IRS/COG TNM staging (current COG/PDQ rule).

    Favourable: orbit, head and neck non-parameningeal (eyelid included), genitourinary
    other than bladder, prostate and kidney.  Biliary tract is unfavourable (COG's current
    ruling).  Source: Crane 2022 via PDQ 2025 Table 3 (``site.cog_current``).
    """
    return site_ruling(site, CURRENT_SCHEME).favourable


def favourable_site_citations() -> list[str]:
    """Citation keys behind ``is_favourable_site``."""
    return list(site_ruling(PrimarySite.ORBIT, CURRENT_SCHEME).citations)


def is_orbit(site: PrimarySite, scheme: str = CURRENT_SCHEME) -> bool:
    """Whether ``site`` counts as "orbit" in orbit-only rules of ``scheme``."""
    return site_ruling(site, scheme).orbit


def site_views(site: PrimarySite, schemes: tuple[str, ...] = ALL_SCHEMES) -> list[SiteRuling]:
    """Every listed scheme's ruling on ``site``."""
    return [site_ruling(site, s) for s in schemes]


def schemes_disagree(site: PrimarySite, schemes: tuple[str, ...] = STAGING_SCHEMES) -> bool:
    """True when the listed schemes do not all rule ``site`` the same way."""
    return len({r.favourable for r in site_views(site, schemes)}) > 1
