"""The report's charts: Altair specifications, rendered offline by vl-convert to one-page vector PDFs.

Each chart is sized in points (1 Vega pixel = 1 PDF point) to the width it takes on the page, so its 8-point
labels print at 8 points; layout.py places the pages with pypdf (fpdf2 cannot read vl-convert's SVG). The
charts use the report's own font (report/fonts), registered with vl-convert, so nothing depends on the fonts
of the machine that builds the PDF.
"""

from __future__ import annotations

import math
import threading

import altair as alt
import pandas as pd
import vl_convert as vlc

from i18n import _, formats
from kpis import REGISTRY, Group, rebased_trend
from report.fonts import CHART_FAMILY, FONTS

BLUE, TEAL, ORANGE, RED, GREEN, GREY = "#1f5fa8", "#2a9d8f", "#e07b00", "#c0392b", "#1b7a3e", "#9aa5b1"
# Cool colours for the customer, warm ones for volume and cost (as on the dashboard's equity-vs-volume page).
PALETTES = {Group.EQUITY: ["#1f5fa8", "#2a9d8f", "#7b4fb5"], Group.VOLUME: ["#e07b00", "#c0392b", "#9c6b30"]}
_fonts = threading.Lock()
_registered = False


def _register_fonts() -> None:
    global _registered
    with _fonts:
        if not _registered:
            vlc.register_font_directory(str(FONTS))
            _registered = True


def render(chart: alt.TopLevelMixin, width: float, height: float) -> bytes:
    """The chart as a one-page PDF of exactly width × height points (axes, legend and title included), its numbers
    and dates in the current language's formats (i18n.formats.chart_locale; Vega's own in English)."""
    _register_fonts()
    chart = chart.properties(width=width, height=height,
                             autosize=alt.AutoSizeParams(type="fit", contains="padding"), padding=4)
    chart = chart.configure(font=CHART_FAMILY, background="white").configure_view(stroke=None).configure_axis(
        labelFontSize=7.5, titleFontSize=8, labelColor="#333333", titleColor="#333333", gridColor="#e8e8e8",
        domainColor="#9aa5b1", tickColor="#9aa5b1", titleFontWeight="normal",
    ).configure_legend(labelFontSize=7.5, titleFontSize=8, symbolSize=60).configure_title(
        fontSize=9, anchor="start", fontWeight="bold", color="#222222")
    chosen = formats.chart_locale()
    locale = {"format_locale": chosen["number"], "time_format_locale": chosen["time"]} if chosen else {}
    return vlc.vegalite_to_pdf(chart.to_dict(validate=False), **locale)  # built here, checked by the tests


EVENT = "#7b4fb5"  # events (kpis.events) on every time chart: a violet rule for a day, a band for a range


def event_layers(marks: pd.DataFrame, x: str, sort: list | None = None, x2: str | None = None,
                 size: float = 11) -> list:
    """Layers drawing events on a chart: on a chart of periods, `marks` from kpis.events.on_periods with `x` the
    column the chart's axis reads (a band per period a range touches, a rule on a day's period); on a time axis,
    from kpis.events.on_days with x="start" and x2="end". Each carries its number (the list under the chart) and
    its text on hover. An empty list when there is no event."""
    if marks is None or marks.empty:
        return []
    kind = ":T" if x2 else ":O"
    position = alt.X(f"{x}{kind}", sort=sort, title=None) if not x2 else alt.X(f"{x}:T", title=None)
    tooltip = [alt.Tooltip("text:N", title=_("Event"))]
    ranges, days = marks[marks["range"]], marks[~marks["range"]]
    layers = []
    if not ranges.empty:
        band = alt.Chart(ranges).mark_rect(color=EVENT, opacity=0.12)
        layers.append(band.encode(x=position, x2=f"{x2}:T", tooltip=tooltip) if x2 else
                      band.encode(x=position, tooltip=tooltip))
    if not days.empty:
        layers.append(alt.Chart(days).mark_rule(color=EVENT, strokeDash=[3, 2], strokeWidth=1.5).encode(
            x=position, tooltip=tooltip))
    firsts = marks.drop_duplicates("number")
    layers.append(alt.Chart(firsts).mark_text(color=EVENT, fontWeight="bold", fontSize=size, dy=-2,
                                              baseline="top").encode(x=position, y=alt.value(2),
                                                                     text="number:N", tooltip=tooltip))
    return layers


def indexed_trend(trend: pd.DataFrame, keys: list[str], labels: dict[str, str],
                  marks: pd.DataFrame | None = None) -> alt.LayerChart | None:
    """Each KPI indexed to 100 at its first period with a value: customer KPIs solid, volume and cost dashed; the
    events of `marks` (kpis.events.on_periods over the trend's periods) drawn behind."""
    lines = rebased_trend(trend, keys)
    if lines.empty:
        return None
    lines["period"] = lines["period"].map(labels)
    shown = [k for k in keys if REGISTRY[k].label in set(lines["kpi"])]
    domain, colours = [], []
    for group in (Group.EQUITY, Group.VOLUME):
        members = [k for k in shown if REGISTRY[k].group is group]
        domain += [REGISTRY[k].label for k in members]
        colours += PALETTES[group][:len(members)]
    order = [labels[p] for p in trend["period"]]
    x = alt.X("period:O", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True))
    y = alt.Y("index:Q", title=_("Index (first period = 100)"), scale=alt.Scale(zero=False))
    colour = alt.Color("kpi:N", title=None, scale=alt.Scale(domain=domain, range=colours),
                       legend=alt.Legend(orient="bottom", columns=3, labelLimit=220, symbolType="stroke",
                                         symbolStrokeWidth=2.5, columnPadding=24))
    dash = alt.StrokeDash("family:N", title=None, legend=None,
                          scale=alt.Scale(domain=[_(Group.EQUITY.value), _(Group.VOLUME.value)],
                                          range=[[1, 0], [5, 3]]))
    base = alt.Chart(lines).encode(x=x, y=y, color=colour)
    hundred = alt.Chart(pd.DataFrame({"y": [100]})).mark_rule(color=GREY, strokeDash=[2, 2]).encode(y="y:Q")
    if marks is not None and not marks.empty:
        marks = marks.assign(period=marks["period"].map(labels))
    return alt.layer(*event_layers(marks, "period", order, size=7.5), hundred,
                     base.mark_line(strokeWidth=2).encode(strokeDash=dash), base.mark_point(filled=True, size=22))


def cohort_heatmap(cells: pd.DataFrame) -> alt.LayerChart | None:
    """Share of each monthly cohort active n months after acquisition (suppressed cohorts left blank)."""
    cells = cells.dropna(subset=["rate"])
    cells = cells[cells["age"] >= 1]  # age 0 is 100 % by construction: it says nothing
    if cells.empty:
        return None
    cells = cells.assign(label=[formats.number(100 * r) for r in cells["rate"]])
    x = alt.X("age:O", title=_("Months since acquisition"), axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("cohort:O", title=_("Acquisition month"), sort="ascending")
    top = float(cells["rate"].max()) or 1.0
    rect = alt.Chart(cells).mark_rect(stroke="white", strokeWidth=1).encode(
        x=x, y=y, color=alt.Color("rate:Q", title=_("Active"), scale=alt.Scale(scheme="blues", domain=[0, top]),
                                  legend=alt.Legend(format=".0%", orient="right", gradientLength=120)))
    text = alt.Chart(cells).mark_text(fontSize=7).encode(
        x=x, y=y, text="label:N",
        color=alt.condition(alt.datum.rate > top * 0.55, alt.value("white"), alt.value("#222222")))
    return alt.layer(rect, text)


def lorenz(curve: pd.DataFrame, top_share: float | None, top: float) -> alt.LayerChart:
    """The concentration curve read as "the top x % of buyers bring y % of revenue", with the equality line."""
    line = alt.Chart(curve).mark_area(line={"color": BLUE, "strokeWidth": 2}, color=BLUE, opacity=0.12).encode(
        x=alt.X("top_customer_share:Q", title=_("Share of buyers, most valuable first"),
                axis=alt.Axis(format=".0%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0]), scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("revenue_share:Q", title=_("Share of the period's revenue"), axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])))
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(color=GREY, strokeDash=[3, 3]).encode(
        x="x:Q", y="y:Q")
    layers = [diagonal, line]
    if top_share is not None:
        point = pd.DataFrame({"x": [top], "y": [top_share]})
        layers.append(alt.Chart(point).mark_point(filled=True, size=45, color=RED).encode(x="x:Q", y="y:Q"))
        # The label sits below the equality line, where the curve never goes.
        text = "● " + _("the top {top} of buyers bring {share} of revenue").format(
            top=formats.percent(top, 0), share=formats.percent(top_share, 1))
        label = pd.DataFrame({"x": [0.36], "y": [0.10], "text": [text]})
        layers.append(alt.Chart(label).mark_text(align="left", fontSize=8, color=RED).encode(
            x="x:Q", y="y:Q", text="text:N"))
    return alt.layer(*layers)


def channel_ratio(channels: pd.DataFrame) -> alt.LayerChart | None:
    """CLV / CAC per acquisition channel, with the 1× line below which acquisition destroys value."""
    data = channels.dropna(subset=["clv_cac"])
    if data.empty:
        return None
    values = sorted(data["clv_cac"], reverse=True)
    # One channel far above the rest (organic traffic costs almost nothing) would flatten every other bar: the
    # axis then stops at 1.5 × the second highest and the outlier's bar is cut, its label saying so.
    cap = max(1.5 * values[1], 3.0) if len(values) > 1 and values[0] > 4 * max(values[1], 0.25) else None
    data = data.assign(label=[(_("{ratio}× (off scale)") if cap and v > cap else "{ratio}×").format(
                                  ratio=formats.number(v, 1)) for v in data["clv_cac"]],
                       shown=[min(v, cap) if cap else v for v in data["clv_cac"]])
    x = alt.X("channel:N", sort=alt.EncodingSortField("clv_cac", order="descending"), title=None,
              axis=alt.Axis(labelAngle=0))
    y = alt.Y("shown:Q", title=_("CLV ÷ CAC (×)"), scale=alt.Scale(domain=[0, cap * 1.08]) if cap else alt.Undefined)
    bars = alt.Chart(data).mark_bar(color=TEAL, size=26).encode(x=x, y=y)
    text = alt.Chart(data).mark_text(dy=-5, fontSize=7.5, color="#222222").encode(x=x, y=y, text="label:N")
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color=RED, strokeDash=[4, 3]).encode(y="y:Q")
    return alt.layer(bars, text, one)


def effort(table: pd.DataFrame, peak: str | None) -> alt.Chart | None:
    data = table.dropna(subset=["ces"])
    if data.empty:
        return None
    data = data.assign(label=[f"{formats.number(v, 2)} ({formats.number(n)})"
                              for v, n in zip(data["ces"], data["ces_answers"], strict=True)])
    y = alt.Y("touchpoint:N", sort="-x", title=None)
    x = alt.X("ces:Q", title=_("Mean effort (1 = easy, 5 = hard)"), scale=alt.Scale(domain=[1, 5]))
    bars = alt.Chart(data).mark_bar(size=12, clip=True).encode(  # the scale starts at 1, the lowest score
        x=x, y=y, color=alt.condition(alt.datum.touchpoint == (peak or ""), alt.value(RED), alt.value(GREY)))
    text = alt.Chart(data).mark_text(align="left", dx=3, fontSize=7.5).encode(x=x, y=y, text="label:N")
    return alt.layer(bars, text)


def tracking(curve: pd.DataFrame, split, marks: pd.DataFrame | None = None) -> alt.LayerChart:
    """The model check's weekly cumulative repeat purchases: actual against the model, split marked; the events of
    `marks` (kpis.events.on_days) behind."""
    long = curve.melt(id_vars=["date"], value_vars=["actual", "model"], var_name="series", value_name="purchases")
    series = [_("Actual"), _("Model")]
    long["series"] = long["series"].map(dict(zip(["actual", "model"], series, strict=True)))
    long["date"] = pd.to_datetime(long["date"])
    lines = alt.Chart(long).mark_line(strokeWidth=1.8).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", labelOverlap=True)),
        y=alt.Y("purchases:Q", title=_("Cumulative repeat purchases"), axis=alt.Axis(format="~s")),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=series, range=[BLUE, ORANGE]),
                        legend=alt.Legend(orient="top-left")),
        strokeDash=alt.StrokeDash("series:N", legend=None,
                                  scale=alt.Scale(domain=series, range=[[1, 0], [5, 3]])))
    rule = alt.Chart(pd.DataFrame({"date": [pd.Timestamp(split)], "text": [_("holdout starts")]}))
    return alt.layer(*event_layers(marks, "start", x2="end", size=7.5), lines,
                     rule.mark_rule(color=GREY, strokeDash=[2, 2]).encode(x="date:T"),
                     rule.mark_text(align="left", dx=3, dy=-4, fontSize=7, color="#555555", baseline="bottom").encode(
                         x="date:T", y=alt.value(12), text="text:N"))


def waterfall(bridge: pd.DataFrame, start: str, end: str, currency_symbol: str = "€") -> alt.LayerChart:
    """A bridge (kpis.revenue_bridge / equity_bridge) as a waterfall: the comparison's total, each part as a step up
    (green) or down (red), the period's total, each bar labelled with its amount.

    The totals stand on a floor below the lowest level reached (the axis says where it starts), so that the steps,
    small beside the totals, stay readable."""
    levels, running = [bridge.attrs["reference"]], bridge.attrs["reference"]
    steps = []
    for label, value in zip(bridge["label"], bridge["value"], strict=True):
        steps.append({"step": label, "low": min(running, running + value), "high": max(running, running + value),
                      "amount": value, "kind": "up" if value >= 0 else "down"})
        running += value
        levels.append(running)
    top, bottom = max(levels), min(levels)
    floor = max(0.0, bottom - max(top - bottom, 0.05 * abs(top)) * 1.2) if bottom >= 0 else bottom
    floor = 0.0 if 0 < floor < 0.25 * bottom else floor  # hardly above zero: start at zero
    if floor > 0:  # a round number: two significant digits, rounded down
        step = 10 ** (math.floor(math.log10(floor)) - 1)
        floor = math.floor(floor / step) * step
    data = pd.DataFrame([{"step": start, "low": floor, "high": bridge.attrs["reference"],
                          "amount": bridge.attrs["reference"], "kind": "total"}, *steps,
                         {"step": end, "low": floor, "high": bridge.attrs["value"], "amount": bridge.attrs["value"],
                          "kind": "total"}])
    order = list(data["step"])
    x = alt.X("step:N", sort=order, title=None,
              axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')", labelLimit=120, labelFontSize=9,
                            labelOverlap=False))  # every step named, French's longer words included
    colour = alt.Color("kind:N", legend=None, scale=alt.Scale(domain=["total", "up", "down"],
                                                             range=[BLUE, GREEN, RED]))
    title = (_("Amount ({symbol}) — axis from {floor}").format(symbol=currency_symbol, floor=formats.number(floor))
             if floor else _("Amount ({symbol})").format(symbol=currency_symbol))
    y = alt.Y("low:Q", title=title,
              scale=alt.Scale(zero=False, domain=[floor, top + 0.08 * (top - floor)]))
    bars = alt.Chart(data).mark_bar(size=30).encode(
        x=x, y=y, y2="high:Q", color=colour,
        tooltip=[alt.Tooltip("step:N", title=_("Part")), alt.Tooltip("amount:Q", title=_("Amount"), format=",.0f")])
    labels = alt.Chart(data).mark_text(dy=-6, fontSize=8).encode(
        x=x, y="high:Q", text=alt.Text("amount:Q", format=",.0f"))
    return alt.layer(bars, labels)


def contribution_bars(frame: pd.DataFrame, title: str = "") -> alt.Chart:
    """Each segment's contribution to a change (kpis.contributions) as a diverging bar; for rates, the rate and mix
    effects stacked. Bars are selectable (`pick`, by segment)."""
    change, rate, mix = _("change"), _("own rate"), _("mix (weight)")
    if "rate_effect" in frame:
        long = pd.concat([frame.assign(effect=rate, amount=frame["rate_effect"]),
                          frame.assign(effect=mix, amount=frame["mix_effect"])])
    else:
        long = frame.assign(effect=change, amount=frame["contribution"])
    long = long.assign(segment=long["segment"].astype(str))
    pick = alt.selection_point(name="pick", fields=["segment"], on="click", empty=False)
    order = list(frame.sort_values("contribution", ascending=False)["segment"].astype(str))
    return alt.Chart(long).properties(height=alt.Step(26)).mark_bar(cursor="pointer").encode(
        y=alt.Y("segment:N", sort=order, title=None),
        x=alt.X("amount:Q", title=title or _("Contribution to the change")),
        color=alt.Color("effect:N", title=None, scale=alt.Scale(domain=[change, rate, mix],
                                                               range=[BLUE, TEAL, ORANGE]),
                        legend=alt.Legend(orient="bottom") if "rate_effect" in frame else None),
        tooltip=[alt.Tooltip("segment:N", title=_("Segment")), alt.Tooltip("effect:N", title=_("Effect")),
                 alt.Tooltip("amount:Q", title=_("Contribution"), format=",.4~g")],
    ).add_params(pick)


def valuation_waterfall(parts: pd.DataFrame, currency_symbol: str = "€") -> alt.LayerChart:
    """kpis.valuation's parts as a waterfall: existing customers, + future customers' margin, − their acquisition
    cost, = the customer-based value."""
    rows = parts.set_index("part")
    steps = pd.DataFrame({"label": [rows.loc["future_value", "label"], rows.loc["future_acquisition_spend", "label"]],
                          "value": [rows.loc["future_value", "value"], -rows.loc["future_acquisition_spend", "value"]]})
    steps.attrs.update(reference=float(rows.loc["existing", "value"]), value=float(rows.loc["total", "value"]))
    return waterfall(steps, str(rows.loc["existing", "label"]), str(rows.loc["total", "label"]), currency_symbol)


def tornado(sensitivities: pd.DataFrame, currency_symbol: str = "€") -> alt.Chart:
    """The total's change per assumption moved down (low) and up (high), largest range first."""
    lower, higher = _("lower"), _("higher")
    long = pd.concat([sensitivities.assign(side=lower, change=sensitivities["low_change"]),
                      sensitivities.assign(side=higher, change=sensitivities["high_change"])])
    assumption = _("Assumption")
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("label:N", sort=list(sensitivities["label"]), title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("change:Q", title=_("Change of the total ({symbol})").format(symbol=currency_symbol)),
        color=alt.Color("side:N", title=assumption, scale=alt.Scale(domain=[lower, higher], range=[ORANGE, BLUE]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("label:N", title=assumption), alt.Tooltip("side:N", title=_("Moved")),
                 alt.Tooltip("change:Q", title=_("Change of the total"), format=",.0f")],
    ).properties(height=alt.Step(30))
