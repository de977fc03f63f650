"""Voice of the customer: NPS, CSAT and CES declared in the KPI registry, and what the numbers need beside them.

Modules (the public functions are exported by the `kpis` package):
  declarations  score groups and the registry entries (nps, csat, ces, shares, answer counts)
  noise         95% margins of error for NPS and CSAT, and whether a change is within the noise
  journey       CES and CSAT per touchpoint, and the step where effort peaks
  verbatims     scrubbed comments by period, survey, group, touchpoint, segment and text; themes
  value         retention and spend of promoters, passives and detractors; revenue at risk

This package's __init__ imports nothing: kpis.catalog imports `declarations` before the engine exists.
"""
