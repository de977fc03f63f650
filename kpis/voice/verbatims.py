"""What customers say: scrubbed comments to browse and search, the latest ones, and their themes.

Every comment goes through kpis.scrub.scrub before it leaves this module, and no result carries a
customer id or any other column that could name a person: answered_at, survey, score, group,
touchpoint and the scrubbed comment, nothing else. Filters: period (None = all answers), survey, score
group (kpis.voice.declarations.SCORE_GROUPS), touchpoint, customer segment (anonymous answers only when
the segment is everyone) and a case-insensitive text search.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import ibis
import pandas as pd

from i18n import N_, _
from kpis.database import KPIError
from kpis.database import scope as scope_of
from kpis.scrub import scrub
from kpis.voice.declarations import SCORE_GROUPS, group_expr, unhappy_and_happy

COLUMNS = ["answered_at", "survey", "score", "group", "touchpoint", "comment"]
MAX_LIMIT = 1000
_EVER, _NEVER = date(1900, 1, 1), date(2200, 1, 1)


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple | set) else (value,)


def _commented(db, period, touchpoint, filters: dict) -> ibis.Table:
    """Answers with a comment in the scope, with their group; period None means every answer."""
    params = None if touchpoint is None else {"touchpoint": touchpoint}
    if period is None:
        scope = scope_of(db, db.data_end.strftime("%Y") if db.data_end else "2000", filters, params)
        f = scope.feedback_between(_EVER, _NEVER)
    else:
        f = scope_of(db, period, filters, params).feedback
    f = f.filter(f.comment.notnull() & (f.comment.strip() != ""))
    return f.mutate(group=group_expr(f))


def _check(surveys: tuple, groups: tuple) -> None:
    unknown = [s for s in surveys if s not in SCORE_GROUPS]
    if unknown:
        raise KPIError(f"unknown survey {', '.join(map(repr, unknown))}: use one of {', '.join(SCORE_GROUPS)}")
    allowed = [g for s in (surveys or SCORE_GROUPS) for g, _low, _high in SCORE_GROUPS[s]]
    wrong = [g for g in groups if g not in allowed]
    if wrong:
        raise KPIError(f"unknown group {', '.join(map(repr, wrong))}"
                       + (f" for survey {', '.join(surveys)}" if surveys else "")
                       + f": use one of {', '.join(dict.fromkeys(allowed))}")


def verbatims(db, period=None, *, survey=None, group=None, touchpoint: str | None = None,
              search: str | None = None, limit: int = 50, filters: dict | None = None) -> pd.DataFrame:
    """Scrubbed comments, newest first: columns answered_at, survey, score, group, touchpoint, comment.

    survey: "nps", "csat", "ces" (or a list); group: "promoter", "passive", "detractor" (NPS),
    "satisfied", "neutral", "dissatisfied" (CSAT), "low effort", "neutral", "high effort" (CES), or a
    list; touchpoint: one journey step; search: text the scrubbed comment must contain, case ignored
    (sent to the database as a literal, never pasted into SQL; what scrubbing removed cannot be found);
    limit: at most this many rows (1..1000). Customer filters as for every KPI.
    """
    surveys, groups = _as_tuple(survey), _as_tuple(group)
    _check(surveys, groups)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise KPIError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    needle = (search or "").strip().lower()
    f = _commented(db, period, touchpoint, filters)
    if surveys:
        f = f.filter(f.survey.isin(surveys))
    if groups:
        f = f.filter(f.group.isin(groups))
    if needle:
        f = f.filter(f.comment.lower().contains(ibis.literal(needle, type="string")))
    f = f.select("feedback_id", *COLUMNS).order_by([ibis.desc("answered_at"), ibis.desc("feedback_id")])
    if not needle:
        frame = db.frame(f.limit(limit))
        frame["comment"] = [scrub(c) for c in frame["comment"]]
        return frame[COLUMNS]
    # The search runs again on the scrubbed text (what scrubbing removed cannot be found), so a page of
    # the database's matches can hold fewer rows than asked: read on until `limit` rows or no more.
    page, offset, kept, found = max(4 * limit, 200), 0, [], 0
    while found < limit:
        frame = db.frame(f.limit(page, offset=offset))
        frame["comment"] = [scrub(c) for c in frame["comment"]]
        hits = frame[_mask([needle in c.lower() for c in frame["comment"]], frame)]
        kept.append(hits)
        found += len(hits.index)
        if len(frame.index) < page:
            break
        offset += page
    return pd.concat(kept, ignore_index=True).head(limit)[COLUMNS]


def _mask(flags: list[bool], frame: pd.DataFrame) -> pd.Series:
    """A boolean row selector, empty lists included (frame[[]] would select no columns instead)."""
    return pd.Series(flags, index=frame.index, dtype=bool)


def latest_comments(db, period=None, n: int = 3, filters: dict | None = None) -> dict[str, pd.DataFrame]:
    """For the executive view: the n most recent detractor and promoter comments (scrubbed)."""
    return {g: verbatims(db, period, survey="nps", group=g, limit=n, filters=filters)
            for g in ("detractor", "promoter")}


# --- themes --------------------------------------------------------------------------------------------

# Keyword families, English and French. Matching is on whole words, case and accents ignored; a keyword
# ending in * also matches any word it begins ("refund*": refund, refunds, refunded); spaces match any
# run of spaces.
THEMES: dict[str, tuple[str, ...]] = {
    "delivery": ("deliver*", "parcel*", "package*", "courier*", "shipping", "shipment*", "tracking", "late",
                 "delay*", "arriv*", "livraison*", "livreur*", "livreuse*", "livrer", "livree*", "colis",
                 "retard*", "transporteur*", "suivi", "expedition*", "point relais"),
    "price": ("price*", "pricing", "expensive", "overpriced", "cheap*", "cost*", "prix", "cher", "chere*",
              "chers", "tarif*", "cout*", "couteu*"),
    "returns": ("return*", "refund*", "exchange*", "retour*", "rembours*", "echange*", "renvoi*", "renvoy*"),
    "support": ("support", "customer service", "agent*", "chatbot*", "hotline", "helpdesk", "call", "called",
                "phone", "service client*", "service apres-vente", "sav", "conseill*", "rappel*", "injoignable",
                "telephone"),
    "app": ("app", "apps", "appli", "applis", "application*", "bug*", "crash*", "freez*", "frozen", "bogue*",
            "beug*", "plante", "plantent", "plantage*", "fige*"),
    "quality": ("quality", "broken", "damaged", "defect*", "faulty", "qualite", "casse*", "abime*",
                "defectueu*", "endommage*"),
    "website": ("website*", "site", "sites", "web", "navigation", "search", "filter*", "page*", "recherche*",
                "filtre*", "fiche*"),
    "payment": ("payment*", "pay", "paying", "paid", "checkout", "discount code", "promo code", "paiement*",
                "payer", "code promo", "panier"),
}
THEME_LABELS = {"delivery": N_("delivery"), "price": N_("price"), "returns": N_("returns"), "support": N_("support"),
                "app": N_("app"), "quality": N_("quality"), "website": N_("website"), "payment": N_("payment")}


def theme_label(theme: str) -> str:
    """A theme (a THEMES key, what `themes` rows carry) in words, in the current language ("delivery" / "livraison")."""
    return _(THEME_LABELS[theme]) if theme in THEME_LABELS else theme


_TOKENS = re.compile(r"\[(?:email|phone|iban|card|id)\]")


def fold(text: str) -> str:
    """Lower case without accents: "Qualité" → "qualite"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _pattern(words: tuple[str, ...]) -> re.Pattern:
    parts = [r"\s+".join(map(re.escape, fold(w).rstrip("*").split())) + (r"\w*" if w.endswith("*") else "")
             for w in words]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


_PATTERNS = {theme: _pattern(words) for theme, words in THEMES.items()}


def themes_of(comment: str) -> list[str]:
    """The themes a (scrubbed) comment mentions, in THEMES order; masked tokens like [phone] are ignored."""
    text = fold(_TOKENS.sub(" ", comment or ""))
    return [theme for theme, pattern in _PATTERNS.items() if pattern.search(text)]


def themes(db, period=None, *, survey: str = "nps", by_touchpoint: bool = False, touchpoint: str | None = None,
           examples: int = 2, filters: dict | None = None) -> pd.DataFrame:
    """How often each theme comes up in unhappy versus happy comments (detractors vs promoters for NPS).

    Method (transparent on purpose): each scrubbed comment is folded to lower case without accents,
    masked tokens are dropped, and it belongs to every theme of THEMES one of whose keywords it contains
    as a whole word (or word beginning, for keywords ending in *). A comment can have several themes or
    none. For the survey's two ends — NPS detractor vs promoter, CSAT dissatisfied vs satisfied, CES
    high effort vs low effort; the middle group is left out — the table gives, per theme (and per
    touchpoint when by_touchpoint), the number of comments mentioning it, their share of that group's
    comments, the group's comments the share is out of, and up to `examples` of the most recent ones
    (scrubbed). Columns, for NPS: theme, [touchpoint,] detractor_comments, detractor_share, promoter_comments,
    promoter_share, detractor_examples, promoter_examples, detractor_total, promoter_total; for CSAT and CES the
    group names replace detractor and promoter (spaces as underscores: high_effort_share). Sorted by the unhappy
    share, highest first.
    """
    _check((survey,), ())
    unhappy, happy = unhappy_and_happy(survey)
    f = _commented(db, period, touchpoint, filters)
    f = f.filter((f.survey == survey) & f.group.isin([unhappy, happy]))
    f = f.select("touchpoint", "group", "comment", "answered_at", "feedback_id")
    frame = db.frame(f.order_by([ibis.desc("answered_at"), ibis.desc("feedback_id")]))
    frame["comment"] = [scrub(c) for c in frame["comment"]]
    frame["themes"] = [themes_of(c) for c in frame["comment"]]
    keys = ["touchpoint"] if by_touchpoint else []
    cells = frame[keys].drop_duplicates().to_dict("records") if keys else [{}]
    rows = []
    for cell in cells:
        mine = frame[frame["touchpoint"] == cell["touchpoint"]] if keys else frame
        for theme in THEMES:
            row = {"theme": theme, **cell}
            for g in (unhappy, happy):
                name = g.replace(" ", "_")
                said = mine[mine["group"] == g]
                hits = said[_mask([theme in t for t in said["themes"]], said)]
                row[f"{name}_comments"] = len(hits.index)
                total = len(said.index)
                row[f"{name}_share"] = len(hits.index) / total if total else float("nan")
                row[f"{name}_total"] = total
                row[f"{name}_examples"] = list(hits["comment"].head(examples))
            rows.append(row)
    u, h = unhappy.replace(" ", "_"), happy.replace(" ", "_")
    columns = ["theme", *keys, f"{u}_comments", f"{u}_share", f"{h}_comments", f"{h}_share",
               f"{u}_examples", f"{h}_examples", f"{u}_total", f"{h}_total"]
    table = pd.DataFrame(rows, columns=columns)
    if by_touchpoint:
        table = table[(table[f"{u}_comments"] > 0) | (table[f"{h}_comments"] > 0)]
    order = [*keys, f"{u}_share", f"{u}_comments", "theme"]
    ascending = [True] * len(keys) + [False, False, True]
    return table.sort_values(order, ascending=ascending, na_position="last").reset_index(drop=True)
