"""Effort and satisfaction per step of the customer journey, and the step where effort peaks."""

from __future__ import annotations

import pandas as pd

from i18n import formats, ngettext
from kpis.database import scope as scope_of

MIN_ANSWERS = 20  # fewest CES answers a touchpoint needs before it can be named the effort peak


def touchpoints_asked(db, period, survey: str, filters: dict | None = None) -> tuple[str, ...]:
    """The journey steps where the survey got at least one answer in the period and segment (one query)."""
    f = scope_of(db, period, filters).feedback
    asked = f.filter(f.survey == survey).select("touchpoint").distinct().order_by("touchpoint")
    return tuple(str(t) for t in db.frame(asked)["touchpoint"] if t is not None)


def effort_by_touchpoint(db, period, filters: dict | None = None) -> pd.DataFrame:
    """CES and CSAT per touchpoint for the period and segment, the highest effort first.

    Columns: touchpoint, ces_answers, ces (mean effort 1–5, lower is better; NaN without CES answers),
    high_effort_share (CES answers scoring 4–5 ÷ CES answers), csat_answers, csat (answers scoring 4–5 ÷
    CSAT answers; NaN without CSAT answers). Only touchpoints with a CES or CSAT answer in the period.
    """
    f = scope_of(db, period, filters, None).feedback
    f = f.filter(f.survey.isin(["ces", "csat"]))
    ces, csat = f.survey == "ces", f.survey == "csat"
    table = f.group_by("touchpoint").aggregate(
        ces_answers=f.count(where=ces),
        ces=f.score.cast("float64").mean(where=ces),
        high_effort=f.count(where=ces & (f.score >= 4)),
        csat_answers=f.count(where=csat),
        satisfied=f.count(where=csat & (f.score >= 4)),
    )
    frame = db.frame(table)
    frame["high_effort_share"] = (frame["high_effort"] / frame["ces_answers"]).where(frame["ces_answers"] > 0)
    frame["csat"] = (frame["satisfied"] / frame["csat_answers"]).where(frame["csat_answers"] > 0)
    frame = frame.sort_values(["ces", "touchpoint"], ascending=[False, True], na_position="last")
    columns = ["touchpoint", "ces_answers", "ces", "high_effort_share", "csat_answers", "csat"]
    return frame[columns].reset_index(drop=True)


def effort_peak(db, period, min_answers: int = MIN_ANSWERS, filters: dict | None = None) -> dict | None:
    """The touchpoint where effort peaks: the highest mean CES among those with ≥ min_answers CES answers.

    Returns dict(touchpoint, ces, answers, text) — text says it plainly in the current language, e.g. "Effort peaks
    at returns: mean effort 3.6 out of 5 (90 answers)." — or None when no touchpoint has enough answers.
    """
    table = effort_by_touchpoint(db, period, filters)
    enough = table[(table["ces_answers"] >= min_answers) & table["ces"].notna()]
    if enough.empty:
        return None
    top = enough.iloc[0]  # sorted by CES, highest first; ties broken by touchpoint name
    answers = int(top["ces_answers"])
    text = ngettext("Effort peaks at {touchpoint}: mean effort {ces} out of 5 ({answers} answer).",
                    "Effort peaks at {touchpoint}: mean effort {ces} out of 5 ({answers} answers).", answers).format(
        touchpoint=top["touchpoint"], ces=formats.number(top["ces"], 1), answers=formats.number(answers))
    return {"touchpoint": top["touchpoint"], "ces": float(top["ces"]), "answers": int(top["ces_answers"]),
            "text": text}
