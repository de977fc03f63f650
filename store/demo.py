"""A deterministic demo customer base that behaves like a real one.

Purchases follow the BG/NBD process (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
each customer buys at rate λ ~ Gamma(shape r, rate α) per day while alive, and after every repeat
purchase drops out for good with probability p ~ Beta(a, b); the first order is the acquisition.
Spend follows the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV"): ν ~ Gamma(shape q,
rate γ) per customer, each order's value ~ Gamma(shape p, rate ν), so a customer's mean order value is
p/ν and the population's p·γ/(q − 1). Every acquisition channel has its own (r, α, a, b, p, q, γ) and
its own acquisition cost.

Mild purchase seasonality is a time-warp: customers live on operational time τ = Λ(t), with
Λ'(t) = 1 + A·cos(2π(t − peak)/365.25), and the process is exactly BG/NBD in τ (`operational_time`).

Customers are simulated in chunks of CHUNK, each from its own SeedSequence child, so the tables depend
only on (customers, seed, end, years).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, polygamma
from scipy.stats import norm

from i18n import _
from i18n.formats import number
from store import progress
from store.files import new_build
from store.schema import create_tables, read_metadata, write_metadata

CHUNK = 100_000  # customers per random stream: never depends on memory
YEAR = 365.25  # days
DAY_US = 86_400_000_000
LAMBDA_CAP = 0.25  # purchases per day: nobody buys more often than every 4 days on average


@dataclass(frozen=True)
class Channel:
    """One acquisition channel: how many customers it brings, what they cost, how they behave."""

    share: float  # share of all acquired customers
    growth: float  # yearly log-growth of its acquisitions
    cac: float  # acquisition cost per new customer (EUR)
    r: float  # purchase rate λ ~ Gamma(shape r, rate alpha), per day
    alpha: float
    a: float  # dropout probability after a repeat purchase ~ Beta(a, b)
    b: float
    p: float  # order value ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate gamma)
    q: float
    gamma: float

    @property
    def mean_order_value(self) -> float:
        return self.p * self.gamma / (self.q - 1)


# referral: cheap and loyal; social: cheap-ish but churny; search: expensive, decent;
# affiliate: deal-seekers with small baskets; organic: only a small content/SEO budget.
CHANNELS: dict[str, Channel] = {
    "search": Channel(0.30, 0.10, 70.0, r=1.5, alpha=38.0, a=2.4, b=40.0, p=6.0, q=4.0, gamma=33.0),
    "social": Channel(0.22, 0.45, 30.0, r=1.2, alpha=38.0, a=1.4, b=4.0, p=5.0, q=4.0, gamma=25.0),
    "affiliate": Channel(0.15, -0.05, 40.0, r=1.3, alpha=36.0, a=2.0, b=16.0, p=5.5, q=4.0, gamma=28.0),
    "referral": Channel(0.11, 0.30, 18.0, r=1.8, alpha=38.0, a=3.0, b=75.0, p=6.5, q=4.5, gamma=40.0),
    "organic": Channel(0.22, 0.20, 5.0, r=1.4, alpha=36.0, a=2.5, b=50.0, p=6.0, q=4.0, gamma=35.0),
}
# Acquisitions per calendar month (Jan…Dec), times each channel's growth: more in November and December.
ACQUISITION_MONTHS = (0.95, 0.85, 0.9, 0.9, 0.95, 0.9, 0.85, 0.8, 0.95, 1.0, 1.45, 1.5)
SEASON_AMPLITUDE = 0.2  # purchase intensity ±20% around the year, highest on SEASON_PEAK
SEASON_PEAK = (12, 1)  # (month, day)

REGIONS = {"FR": 0.42, "DE": 0.13, "BE": 0.11, "ES": 0.10, "IT": 0.10, "UK": 0.08, "CH": 0.06}
FRENCH_SPEAKING = {"FR": 0.9, "BE": 0.7, "CH": 0.6}  # chance a comment is in French (else 0.08)
SEGMENTS = ("consumer", "business")
MEMBERSHIPS = ("free", "premium")
# P(business) = expit(b0 + b1·z_spend), P(premium) = expit(b0 + b1·z_loyal): attributes follow the latent
# traits without changing the purchase process (z: standardised log spend and −log p).
SEGMENT_MODEL = (-2.2, 1.0)
MEMBERSHIP_MODEL = (-1.3, 0.9)

CATEGORIES = {  # share of favourite categories and gross margin rate
    "books": (0.22, 0.25), "electronics": (0.15, 0.15), "home": (0.20, 0.35),
    "fashion": (0.25, 0.50), "beauty": (0.18, 0.55),
}
COST_NOISE = 0.05  # cost = revenue × clip(1 − margin + N(0, COST_NOISE), 0, 1)
CROSS_SELL = (2.0, 5.0)  # Beta: each customer's chance that an order is outside the favourite category
ORDER_CHANNELS = {"web": 0.5, "app": 0.35, "store": 0.15}
ORDER_CHANNEL_LOYALTY = 0.8  # share of a customer's orders placed in their preferred channel
# Relative order intensity per hour of the day (0h…23h): quiet nights, lunch and evening peaks.
HOURLY = (0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.6, 3.6, 4.2, 4.6,
          5.2, 5.0, 4.4, 4.2, 4.3, 4.8, 5.6, 6.4, 7.0, 6.6, 4.6, 2.2)

SURVEY_NAMES = ("nps", "csat", "ces")
TOUCHPOINTS = ("relationship", "website", "checkout", "delivery", "returns", "support")
NPS_SHARE = 0.12  # share of customers answering the NPS survey, a few days after one of their orders
NPS_DELAY = (2.0, 4.0)  # answer delay: minimum + Exponential(mean), days
# NPS latent satisfaction = 0.8·z_loyal + 0.4·z_spend + 0.6·(alive at the end) + N(0, 1); its score 0–10
# comes from cuts at the normal quantiles of NPS_TARGET (the latent is roughly N(0.3, 1.5)), which gives
# about 49% promoters and 17% detractors: NPS ≈ +30.
NPS_WEIGHTS = (0.8, 0.4, 0.6)
NPS_TARGET = (0.02, 0.01, 0.015, 0.015, 0.02, 0.035, 0.055, 0.12, 0.22, 0.22, 0.27)
NPS_LATENT = (0.3, 1.5)
JOURNEY_RATE = {"csat": 0.025, "ces": 0.025}  # share of orders followed by each survey
JOURNEY_WEIGHTS = (0.30, 0.25, 0.25, 0.08, 0.12)  # website, checkout, delivery, returns, support
JOURNEY_DELAY = ((0.0, 0.1), (0.0, 0.05), (2.0, 2.0), (8.0, 6.0), (1.0, 4.0))  # minimum, mean: days
# CSAT latent = base + 0.5·z_loyal + N(0, 1), score 1 + #cuts passed; CES likewise with −0.4·z_loyal.
CSAT_BASE = (0.6, 0.5, 0.2, -0.8, 0.3)
CSAT_CUTS = (-1.6, -0.9, -0.2, 0.8)
CES_BASE = (-0.6, -0.4, 0.0, 0.9, 0.3)
CES_CUTS = (-1.0, -0.2, 0.6, 1.4)
ANONYMOUS = {"nps": 0.05, "csat": 0.10, "ces": 0.10}
COMMENT_RATE = {"nps": 0.5, "csat": 0.3, "ces": 0.3}  # plus COMMENT_UNHAPPY for unhappy answers
COMMENT_UNHAPPY = 0.2
PII_RATE = 0.004  # share of comments carrying an e-mail address or a phone number

# Verbatims per (touchpoint, group: 0 unhappy, 1 neutral, 2 happy): English then French.
COMMENTS: dict[tuple[str, int], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("relationship", 0): (
        ("Prices have gone up a lot this year, I'm shopping elsewhere now.",
         "Too many promotional e-mails and the quality has dropped.",
         "Customer service never answered my last two messages."),
        ("Les prix ont beaucoup augmenté, je vais voir ailleurs.",
         "Trop de mails publicitaires, et la qualité n'est plus au rendez-vous.",
         "Deux commandes en retard de suite, je ne recommanderai pas."),
    ),
    ("relationship", 1): (
        ("Decent choice, but nothing you can't find elsewhere.",
         "Fine overall, delivery could be faster."),
        ("Correct, sans plus. Les prix sont dans la moyenne.",
         "Bon site mais l'appli plante de temps en temps."),
    ),
    ("relationship", 2): (
        ("Great selection and always on time. I recommend you to all my friends.",
         "The loyalty programme is really worth it.",
         "Reliable, fair prices and a team that listens."),
        ("Toujours satisfait, livraison rapide et service client au top !",
         "Je recommande à tous mes proches, rien à redire.",
         "Très bon rapport qualité-prix, et le programme premium vaut le coup."),
    ),
    ("website", 0): (
        ("Search results are useless, I could not find the product.",
         "The app crashed twice while I was browsing.",
         "Pages load very slowly on my phone."),
        ("L'application plante dès que j'ouvre mon panier.",
         "Impossible de filtrer par taille, c'est pénible.",
         "Le site est lent et les photos ne chargent pas."),
    ),
    ("website", 1): (
        ("Site is OK but the filters could be better.",
         "Product descriptions are a bit short."),
        ("Navigation correcte, mais trop de pop-ups.",
         "Les fiches produits manquent de détails."),
    ),
    ("website", 2): (
        ("Easy to find what I wanted, nice clean site.",
         "The new app is fast and simple to use.",
         "Good product photos and honest reviews."),
        ("Site clair et agréable, j'ai trouvé tout de suite.",
         "La nouvelle appli est très pratique.",
         "Les avis clients m'ont bien aidé à choisir."),
    ),
    ("checkout", 0): (
        ("Payment failed three times before it went through.",
         "Shipping costs only appear at the very last step.",
         "The discount code did not work at checkout."),
        ("Le paiement a été refusé plusieurs fois sans explication.",
         "Frais de port découverts à la dernière étape, pas correct.",
         "Mon code promo n'a pas été pris en compte."),
    ),
    ("checkout", 1): (
        ("Checkout works, but too many steps.",
         "I had to create an account just to pay."),
        ("Paiement OK mais trop d'étapes.",
         "Pourquoi faut-il créer un compte pour commander ?"),
    ),
    ("checkout", 2): (
        ("Quick and easy checkout, paid in one click.",
         "The Apple Pay option is great.",
         "Clear summary of the order before paying."),
        ("Commande passée en deux minutes, parfait.",
         "Paiement rapide et sécurisé.",
         "Récapitulatif clair avant de payer, merci."),
    ),
    ("delivery", 0): (
        ("Parcel arrived a week late with no update.",
         "The box was damaged and one item was missing.",
         "The courier left the parcel outside in the rain."),
        ("Livraison avec une semaine de retard, aucun suivi.",
         "Colis abîmé et un article manquant.",
         "Le livreur n'est jamais passé, j'ai dû aller au dépôt."),
    ),
    ("delivery", 1): (
        ("Delivered on time but the tracking was not updated.",
         "Arrived a day late, not a big deal."),
        ("Livré à temps mais le suivi ne fonctionnait pas.",
         "Un jour de retard, rien de grave."),
    ),
    ("delivery", 2): (
        ("Delivered the next day, well packed.",
         "Fast delivery and the courier was very friendly.",
         "Arrived earlier than expected!"),
        ("Livraison ultra rapide et colis bien emballé.",
         "Reçu le lendemain, impeccable.",
         "Livreur très aimable, arrivé avant la date prévue."),
    ),
    ("returns", 0): (
        ("Returning an item is a nightmare: you need a printer for the label.",
         "Still waiting for my refund three weeks after the return.",
         "I had to pay for the return shipping myself."),
        ("Le retour est un vrai parcours du combattant.",
         "Toujours pas remboursé trois semaines après le retour.",
         "Retour payant et étiquette impossible à imprimer."),
    ),
    ("returns", 1): (
        ("Return accepted, but the refund took a while.",
         "The return process works but it is not obvious."),
        ("Retour accepté mais remboursement un peu long.",
         "Procédure de retour correcte, mais peu claire."),
    ),
    ("returns", 2): (
        ("Free and easy return, refund within two days.",
         "Dropping the parcel at a pick-up point was painless.",
         "Exchange done without any fuss."),
        ("Retour gratuit et remboursement rapide, bravo.",
         "Retour en point relais très simple.",
         "Échange fait sans aucune difficulté."),
    ),
    ("support", 0): (
        ("Support took ten days to answer my e-mail.",
         "The chatbot goes in circles, I never reached a human.",
         "Three different answers from three different agents."),
        ("Service client injoignable par téléphone.",
         "Le chatbot ne comprend rien, impossible de parler à quelqu'un.",
         "On m'a promis un rappel qui n'est jamais venu."),
    ),
    ("support", 1): (
        ("Support answered, but I had to explain everything twice.",
         "Helpful in the end, but a long wait on the phone."),
        ("Réponse obtenue, mais après deux relances.",
         "Conseiller aimable mais attente longue."),
    ),
    ("support", 2): (
        ("Great support: problem solved in one call.",
         "Very friendly agent who went the extra mile.",
         "Quick answer on the chat, thank you!"),
        ("Super service client, problème réglé en un appel.",
         "Conseillère très à l'écoute, merci !",
         "Réponse rapide sur le chat, parfait."),
    ),
}
# Personal data for the scrubbing feature to remove (addresses on example domains, fictitious numbers).
PII_COMMENTS = (
    "Nobody called me back. Call me at +33 6 12 34 56 78 please.",
    "Rappelez-moi au 06.12.34.56.78, merci.",
    "Please write to jean.dupont+sav@mail.example.fr about my refund.",
    "Écrivez-moi à marie.martin@example.com pour le remboursement.",
    "My number is (555) 123-4567, I'd like someone to call me.",
    "Contactez-moi au 01 23 45 67 89 s'il vous plaît.",
    "Send the invoice to j.smith@example.co.uk please.",
    "Joignable au +41 79 123 45 67 en journée.",
)


def _comment_bank() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Flat comment list, and per cell (touchpoint, group, language) its first index and count."""
    texts: list[str] = []
    starts, counts = [], []
    for touchpoint in TOUCHPOINTS:
        for group in range(3):
            for language in COMMENTS[touchpoint, group]:
                starts.append(len(texts))
                counts.append(len(language))
                texts.extend(language)
    return texts + list(PII_COMMENTS), np.array(starts), np.array(counts)


COMMENT_TEXTS, _CELL_START, _CELL_COUNT = _comment_bank()
_PII_START = len(COMMENT_TEXTS) - len(PII_COMMENTS)


# --- calendar ------------------------------------------------------------------------------------------


def window(end: str | date = "2026-10-31", years: int = 3) -> tuple[date, date]:
    """First and last day of the data: end − years years + 1 day, end."""
    end = date.fromisoformat(str(end))
    try:
        back = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        back = end.replace(year=end.year - years, day=28)
    return back + timedelta(days=1), end


def operational_time(t, start: date):
    """Operational time Λ(t) of calendar time t (days since the start of `start`): BG/NBD runs on it.

    Λ(t) = t + A/ω·(sin ω(t − peak) + sin ω·peak), ω = 2π/365.25: intensity 1 + A·cos ω(t − peak).
    """
    peak = (date(start.year, *SEASON_PEAK) - start).days
    omega = 2 * np.pi / YEAR
    return t + SEASON_AMPLITUDE / omega * (np.sin(omega * (np.asarray(t) - peak)) + np.sin(omega * peak))


_HOUR_CDF = np.concatenate([[0.0], np.cumsum(HOURLY) / np.sum(HOURLY)])


def _microseconds(t: np.ndarray, start_us: int) -> np.ndarray:
    """Timestamps (µs since epoch, whole seconds) of continuous days t since start.

    The day is floor(t); its fraction goes through the inverse CDF of HOURLY, which is increasing, so
    the time of day is realistic and events keep their simulated order.
    """
    day = np.floor(t)
    seconds = np.floor(np.interp(t - day, _HOUR_CDF, np.arange(25.0)) * 3600)
    return start_us + day.astype(np.int64) * DAY_US + seconds.astype(np.int64) * 1_000_000


# --- customers -----------------------------------------------------------------------------------------


def _array(field: str) -> np.ndarray:
    return np.array([getattr(c, field) for c in CHANNELS.values()])


def _latent_scales() -> dict[str, tuple[float, float]]:
    """Mean and sd over the channel mixture of −log p (loyalty) and log(p_gg/ν) (spend), exactly.

    For p ~ Beta(a, b): E log p = ψ(a) − ψ(a+b), Var = ψ'(a) − ψ'(a+b); for ν ~ Gamma(q, γ):
    E log ν = ψ(q) − log γ, Var = ψ'(q).
    """
    w, a, b, q, g, p = (_array(f) for f in ("share", "a", "b", "q", "gamma", "p"))
    w = w / w.sum()
    out = {}
    for name, mean, var in (
        ("loyal", -(digamma(a) - digamma(a + b)), polygamma(1, a) - polygamma(1, a + b)),
        ("spend", np.log(p) - digamma(q) + np.log(g), polygamma(1, q)),
    ):
        m = float(w @ mean)
        out[name] = (m, float(np.sqrt(w @ (var + mean**2) - m**2)))
    return out


_LATENT = _latent_scales()


def _acquisition_cdfs(start: date, days: int) -> np.ndarray:
    """Per channel, the cumulative distribution of the acquisition day: growth × month seasonality."""
    d = np.arange(days)
    month = (np.datetime64(start) + d).astype("datetime64[M]").astype(np.int64) % 12
    weights = np.exp(np.outer(_array("growth"), d / YEAR)) * np.array(ACQUISITION_MONTHS)[month]
    return np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)


def _customers(rng, n: int, cdfs: np.ndarray) -> dict[str, np.ndarray]:
    """Acquisition channel, day and time, latent traits and attributes of n customers."""
    k = len(CHANNELS)
    ch = rng.choice(k, size=n, p=_array("share") / _array("share").sum())
    u = rng.random(n)
    day = np.empty(n, dtype=np.int64)
    for c in range(k):
        mask = ch == c
        day[mask] = np.minimum(np.searchsorted(cdfs[c], u[mask], side="right"), cdfs.shape[1] - 1)
    s0 = day + rng.random(n)
    lam = np.minimum(rng.gamma(_array("r")[ch], 1 / _array("alpha")[ch]), LAMBDA_CAP)
    drop = rng.beta(_array("a")[ch], _array("b")[ch])
    nu = rng.gamma(_array("q")[ch], 1 / _array("gamma")[ch])
    z_loyal = (-np.log(drop) - _LATENT["loyal"][0]) / _LATENT["loyal"][1]
    z_spend = (np.log(_array("p")[ch] / nu) - _LATENT["spend"][0]) / _LATENT["spend"][1]
    cats = np.array([s for s, _share in CATEGORIES.values()])
    return {
        "ch": ch, "day": day, "s0": s0, "lam": lam, "drop": drop, "nu": nu,
        "z_loyal": z_loyal, "z_spend": z_spend,
        "region": rng.choice(len(REGIONS), size=n, p=list(REGIONS.values())),
        "segment": rng.random(n) < expit(SEGMENT_MODEL[0] + SEGMENT_MODEL[1] * z_spend),
        "membership": rng.random(n) < expit(MEMBERSHIP_MODEL[0] + MEMBERSHIP_MODEL[1] * z_loyal),
        "favourite": rng.choice(len(CATEGORIES), size=n, p=cats / cats.sum()),
        "cross_sell": rng.beta(*CROSS_SELL, size=n),
        "preferred": rng.choice(len(ORDER_CHANNELS), size=n, p=list(ORDER_CHANNELS.values())),
    }


# --- purchases -----------------------------------------------------------------------------------------


def _purchases(rng, cust: dict, horizon: int, start: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD purchase times of a chunk: (customer, calendar day) sorted by customer then time, dropped.

    Vectorised rounds over the customers still alive: draw the next gap in operational time; those whose
    next purchase falls after the window end stop; the others buy, then drop out with probability p.
    Work is proportional to the number of orders.
    """
    grid = np.arange(-1.0, horizon + 1.0, 1 / 24)
    warped = operational_time(grid, start)
    tau_end = operational_time(float(horizon), start)
    tau = operational_time(cust["s0"], start)
    n = tau.size
    dropped = np.zeros(n, dtype=bool)
    who, when = [np.arange(n)], [cust["s0"]]
    active = np.arange(n)
    while active.size:
        nxt = tau[active] + rng.exponential(size=active.size) / cust["lam"][active]
        inside = nxt < tau_end
        active, nxt = active[inside], nxt[inside]
        tau[active] = nxt
        who.append(active)
        when.append(np.interp(nxt, warped, grid))
        leaving = rng.random(active.size) < cust["drop"][active]
        dropped[active[leaving]] = True
        active = active[~leaving]
    who, when = np.concatenate(who), np.concatenate(when)
    order = np.argsort(who, kind="stable")  # rounds are chronological within a customer
    return who[order], when[order], dropped


def _orders(rng, cust: dict, who: np.ndarray) -> dict[str, np.ndarray]:
    """Revenue (Gamma-Gamma), cost, category and order channel of each purchase, in cents and codes."""
    m = who.size
    ch = cust["ch"][who]
    revenue = rng.gamma(_array("p")[ch], 1 / cust["nu"][who])
    revenue = np.maximum(np.round(revenue * 100), 1).astype(np.int64)
    cats = np.array([s for s, _share in CATEGORIES.values()])
    other = rng.choice(len(CATEGORIES), size=m, p=cats / cats.sum())
    category = np.where(rng.random(m) < cust["cross_sell"][who], other, cust["favourite"][who])
    margin = np.array([mg for _, mg in CATEGORIES.values()])[category]
    cost_share = np.clip(1 - margin + rng.normal(0, COST_NOISE, m), 0, 1)
    cost = np.round(revenue * cost_share).astype(np.int64)
    other = rng.choice(len(ORDER_CHANNELS), size=m, p=list(ORDER_CHANNELS.values()))
    channel = np.where(rng.random(m) < ORDER_CHANNEL_LOYALTY, cust["preferred"][who], other)
    return {"revenue": revenue, "cost": cost, "category": category, "channel": channel}


# --- feedback ------------------------------------------------------------------------------------------


def _nps(rng, cust: dict, who: np.ndarray, when: np.ndarray, dropped: np.ndarray) -> dict[str, np.ndarray]:
    """NPS answers of a sample of customers, a few days after one of their orders."""
    n = cust["s0"].size
    counts = np.bincount(who, minlength=n)
    first = np.cumsum(counts) - counts
    pick = first + np.floor(rng.random(n) * counts).astype(np.int64)
    t = when[pick] + NPS_DELAY[0] + rng.exponential(NPS_DELAY[1], n)
    w = NPS_WEIGHTS
    latent = w[0] * cust["z_loyal"] + w[1] * cust["z_spend"] + w[2] * ~dropped + rng.normal(size=n)
    cuts = norm.ppf(np.cumsum(NPS_TARGET)[:-1], *NPS_LATENT)
    score = np.searchsorted(cuts, latent)
    keep = rng.random(n) < NPS_SHARE
    return {
        "who": np.arange(n)[keep], "t": t[keep], "survey": np.zeros(keep.sum(), dtype=np.int64),
        "score": score[keep], "touchpoint": np.zeros(keep.sum(), dtype=np.int64),
        "group": np.select([score <= 6, score <= 8], [0, 1], 2)[keep],
    }


def _journey(rng, cust: dict, who: np.ndarray, when: np.ndarray, survey: int) -> dict[str, np.ndarray]:
    """CSAT (survey 1) or CES (survey 2) answers after a sample of orders, per journey step."""
    m = who.size
    keep = rng.random(m) < JOURNEY_RATE[SURVEY_NAMES[survey]]
    who, when = who[keep], when[keep]
    k = who.size
    step = rng.choice(len(JOURNEY_WEIGHTS), size=k, p=JOURNEY_WEIGHTS)
    delay = np.array(JOURNEY_DELAY)[step]
    t = when + delay[:, 0] + rng.exponential(size=k) * delay[:, 1]
    noise = rng.normal(size=k)
    if survey == 1:
        score = 1 + np.searchsorted(CSAT_CUTS, np.array(CSAT_BASE)[step] + 0.5 * cust["z_loyal"][who] + noise)
        group = np.select([score <= 2, score == 3], [0, 1], 2)
    else:
        score = 1 + np.searchsorted(CES_CUTS, np.array(CES_BASE)[step] - 0.4 * cust["z_loyal"][who] + noise)
        group = np.select([score >= 4, score == 3], [0, 1], 2)
    return {
        "who": who, "t": t, "survey": np.full(k, survey), "score": score, "touchpoint": step + 1,
        "group": group,
    }


def _comments(rng, fb: dict, region: np.ndarray) -> np.ndarray:
    """Index into COMMENT_TEXTS of each answer's comment (−1: none), by touchpoint, group and language."""
    k = fb["who"].size
    base = np.array([COMMENT_RATE[s] for s in SURVEY_NAMES])[fb["survey"]]
    rate = base + COMMENT_UNHAPPY * (fb["group"] == 0)
    has = rng.random(k) < rate
    french_share = np.array([FRENCH_SPEAKING.get(r, 0.08) for r in REGIONS])[region[fb["who"]]]
    french = (rng.random(k) < french_share).astype(np.int64)
    cell = (fb["touchpoint"] * 3 + fb["group"]) * 2 + french
    code = _CELL_START[cell] + np.floor(rng.random(k) * _CELL_COUNT[cell]).astype(np.int64)
    pii = rng.random(k) < PII_RATE
    code = np.where(pii, _PII_START + rng.integers(0, len(PII_COMMENTS), k), code)
    return np.where(has, code, -1)


def _feedback(rng, cust, who, when, dropped, horizon: int) -> dict[str, np.ndarray]:
    """All survey answers of a chunk answered before the window end, with anonymity and comments."""
    parts = [_nps(rng, cust, who, when, dropped)] + [_journey(rng, cust, who, when, s) for s in (1, 2)]
    fb = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    fb["comment"] = _comments(rng, fb, cust["region"])
    anonymous = np.array([ANONYMOUS[s] for s in SURVEY_NAMES])[fb["survey"]]
    fb["anonymous"] = rng.random(fb["who"].size) < anonymous
    inside = fb["t"] < horizon
    return {key: v[inside] for key, v in fb.items()}


# --- database ------------------------------------------------------------------------------------------

_STAGING = """
CREATE TEMP TABLE raw_customers (idx INTEGER, day INTEGER, us BIGINT, chan UTINYINT, region UTINYINT,
    segment UTINYINT, membership UTINYINT);
CREATE TEMP TABLE raw_orders (seq BIGINT, idx INTEGER, us BIGINT, revenue BIGINT, cost BIGINT,
    category UTINYINT, channel UTINYINT);
CREATE TEMP TABLE raw_feedback (seq BIGINT, idx INTEGER, anonymous BOOLEAN, us BIGINT, survey UTINYINT,
    score SMALLINT, touchpoint UTINYINT, comment INTEGER);
"""

# Identifiers follow time: customers by acquisition, orders and answers by timestamp (seq breaks ties).
_PUBLISH = (
    """CREATE TEMP TABLE ids AS
    SELECT idx, printf('C%07d', row_number() OVER (ORDER BY us, idx)) AS customer_id FROM raw_customers""",
    """INSERT INTO customers
    SELECT i.customer_id, $start::DATE + c.day, $channels[c.chan + 1], $regions[c.region + 1],
           $segments[c.segment + 1], $memberships[c.membership + 1]
    FROM raw_customers c JOIN ids i USING (idx) ORDER BY i.customer_id""",
    """INSERT INTO orders
    SELECT printf('O%09d', row_number() OVER (ORDER BY o.us, o.seq)), i.customer_id, make_timestamp(o.us),
           (o.revenue / 100)::DECIMAL(18, 2), (o.cost / 100)::DECIMAL(18, 2),
           $categories[o.category + 1], $order_channels[o.channel + 1]
    FROM raw_orders o JOIN ids i USING (idx) ORDER BY o.us, o.seq""",
    """INSERT INTO feedback
    SELECT printf('F%08d', row_number() OVER (ORDER BY f.us, f.seq)),
           CASE WHEN f.anonymous THEN NULL ELSE i.customer_id END, make_timestamp(f.us),
           $surveys[f.survey + 1], f.score, $touchpoints[f.touchpoint + 1],
           CASE WHEN f.comment >= 0 THEN $comments[f.comment + 1] END
    FROM raw_feedback f JOIN ids i USING (idx) ORDER BY f.us, f.seq""",
)


def _stage_chunk(con, ss: np.random.SeedSequence, first: int, n: int, start: date, horizon: int, cdfs):
    """Simulate customers [first, first + n) and append them to the staging tables; return (ch, day)."""
    rng = np.random.default_rng(ss)
    start_us = int((np.datetime64(start, "us") - np.datetime64(0, "us")).astype(np.int64))
    cust = _customers(rng, n, cdfs)
    who, when, dropped = _purchases(rng, cust, horizon, start)
    orders = _orders(rng, cust, who)
    fb = _feedback(rng, cust, who, when, dropped, horizon)
    seq0 = first << 32  # a prefix unique to the chunk: rows are numbered seq0, seq0 + 1…
    frames = {
        "raw_customers": {
            "idx": first + np.arange(n), "day": cust["day"], "us": _microseconds(cust["s0"], start_us),
            "chan": cust["ch"], "region": cust["region"], "segment": cust["segment"].astype(np.uint8),
            "membership": cust["membership"].astype(np.uint8),
        },
        "raw_orders": {
            "seq": seq0 + np.arange(who.size), "idx": first + who, "us": _microseconds(when, start_us),
            **orders,
        },
        "raw_feedback": {
            "seq": seq0 + np.arange(fb["who"].size), "idx": first + fb["who"], "anonymous": fb["anonymous"],
            "us": _microseconds(fb["t"], start_us), "survey": fb["survey"], "score": fb["score"],
            "touchpoint": fb["touchpoint"], "comment": fb["comment"],
        },
    }
    for table, columns in frames.items():
        con.register("chunk", pd.DataFrame(columns))
        con.execute(f"INSERT INTO {table} SELECT * FROM chunk")
        con.unregister("chunk")
    return cust["ch"], cust["day"]


def _marketing_spend(con, ss: np.random.SeedSequence, start: date, end: date, new: np.ndarray) -> None:
    """Monthly spend per channel: new customers × CAC × lognormal noise (mean 1, sd ≈ 15%)."""
    rng = np.random.default_rng(ss)
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    sigma = 0.15
    noise = np.exp(rng.normal(-sigma**2 / 2, sigma, new.shape))
    spend = np.round(new * _array("cac") * noise, 2)
    frame = pd.DataFrame({
        "month": np.repeat(months.astype("datetime64[D]"), len(CHANNELS)),
        "channel": np.tile(list(CHANNELS), months.size),
        "spend": spend.ravel(),
    })
    con.register("spend_frame", frame)
    con.execute(
        "INSERT INTO marketing_spend SELECT month::DATE, channel, spend::DECIMAL(18, 2) FROM spend_frame"
    )
    con.unregister("spend_frame")


def parameters(customers: int = 20_000, seed: int = 7, end: str = "2026-10-31", years: int = 3) -> dict:
    """Every generating parameter, as stored in the metadata under `demo`."""
    return {
        "customers": customers, "seed": seed, "end": str(end), "years": years, "chunk": CHUNK,
        "time_unit": "day",
        "process": "BG/NBD purchases (Fader, Hardie & Lee 2005) with Gamma-Gamma spend; the first order is "
        "the acquisition; rate λ ~ Gamma(shape r, rate alpha) per day, capped; dropout ~ Beta(a, b) after "
        "each repeat purchase; order value ~ Gamma(shape p, rate ν), ν ~ Gamma(shape q, rate gamma)",
        "lambda_cap_per_day": LAMBDA_CAP,
        "seasonality": {
            "amplitude": SEASON_AMPLITUDE, "peak": f"{SEASON_PEAK[0]:02d}-{SEASON_PEAK[1]:02d}",
            "warp": "operational time Λ(t) = t + A/ω·(sin ω(t − peak) + sin ω·peak), ω = 2π/365.25 days",
        },
        "channels": {k: {**asdict(c), "mean_order_value": c.mean_order_value} for k, c in CHANNELS.items()},
        "acquisition_months": ACQUISITION_MONTHS,
        "regions": REGIONS,
        "segment_model": SEGMENT_MODEL, "membership_model": MEMBERSHIP_MODEL,
        "categories": {k: {"share": s, "margin": m} for k, (s, m) in CATEGORIES.items()},
        "cost_noise": COST_NOISE, "cross_sell_beta": CROSS_SELL,
        "order_channels": ORDER_CHANNELS, "order_channel_loyalty": ORDER_CHANNEL_LOYALTY,
        "hourly": HOURLY,
        "feedback": {
            "nps_share": NPS_SHARE, "nps_delay_days": NPS_DELAY, "nps_weights": NPS_WEIGHTS,
            "nps_target": NPS_TARGET, "journey_rate": JOURNEY_RATE,
            "journey_weights": dict(zip(TOUCHPOINTS[1:], JOURNEY_WEIGHTS, strict=True)),
            "csat_base": CSAT_BASE, "csat_cuts": CSAT_CUTS, "ces_base": CES_BASE, "ces_cuts": CES_CUTS,
            "anonymous": ANONYMOUS, "comment_rate": COMMENT_RATE, "comment_unhappy": COMMENT_UNHAPPY,
            "pii_rate": PII_RATE, "comments": len(COMMENT_TEXTS),
        },
    }


def steps(customers: int) -> int:
    """The top-level progress steps `build_demo` reports: one per chunk of customers, the tables, the spend."""
    return -(-customers // CHUNK) + 2


def build_demo(
    path=None, *, customers: int = 20_000, seed: int = 7, end: str = "2026-10-31", years: int = 3,
    finish: Callable | None = None,
) -> dict:
    """Build and publish the demo database at `path`; return its metadata. `finish(con)` adds derived tables
    before publishing (store.files.new_build; `kpis.build.build_demo` passes the KPI layer's)."""
    if customers < 1 or years < 1:
        raise ValueError(_("the demo needs at least one customer and one year"))
    start, last = window(end, years)
    horizon = (last - start).days + 1
    cdfs = _acquisition_cdfs(start, horizon)
    month_of_day = (np.datetime64(start) + np.arange(horizon)).astype("datetime64[M]")
    month_of_day = (month_of_day - np.datetime64(start, "M")).astype(np.int64)
    k = len(CHANNELS)
    new = np.zeros((month_of_day[-1] + 1, k), dtype=np.int64)
    chunk_seeds, spend_seed = np.random.SeedSequence(seed).spawn(2)
    labels = {
        "start": start.isoformat(), "channels": list(CHANNELS), "regions": list(REGIONS),
        "segments": list(SEGMENTS), "memberships": list(MEMBERSHIPS), "categories": list(CATEGORIES),
        "order_channels": list(ORDER_CHANNELS), "surveys": list(SURVEY_NAMES),
        "touchpoints": list(TOUCHPOINTS),
        "comments": COMMENT_TEXTS,
    }
    progress.expect(steps(customers))
    with new_build(path, finish) as con:
        con.execute("SET enable_progress_bar = false")
        create_tables(con, customer_attributes=("segment", "membership"))
        con.execute(_STAGING)
        firsts = range(0, customers, CHUNK)
        # child i of chunk_seeds is SeedSequence(seed, spawn_key=(0, i)) whatever the number of chunks
        for ss, first in zip(chunk_seeds.spawn(len(firsts)), firsts, strict=True):
            n = min(CHUNK, customers - first)
            with progress.step(_("generating customers {first}–{last}").format(first=number(first + 1),
                                                                                last=number(first + n))):
                ch, day = _stage_chunk(con, ss, first, n, start, horizon, cdfs)
            new += np.bincount(month_of_day[day] * k + ch, minlength=new.size).reshape(new.shape)
        with progress.step(_("writing the customers, orders and survey answers")):
            for sql in _PUBLISH:
                con.execute(sql, {name: v for name, v in labels.items() if f"${name}" in sql})
        with progress.step(_("simulating the marketing spend")):
            _marketing_spend(con, spend_seed, start, last, new)
        write_metadata(
            con, currency="EUR", source="demo", demo=parameters(customers, seed, last.isoformat(), years),
            period={"start": start.isoformat(), "end": last.isoformat()},
        )
        return read_metadata(con)
