"""Server-rendered SVG figures: the case timeline and the cohort's before/after figure.

Plain SVG built from the records, no JavaScript: it prints as it shows and passes the site's CSP,
which forbids inline style, so every colour is a presentation attribute (fill=, stroke=). Each
mark carries a class (`mark administration`, `mark event`, `bar course`, `point pga`, `pair`) and a
<title>, so tests count marks and screen readers and tooltips can read them.
"""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..case_records import records_of
from ..models import MscRoute, RelationToMsc, Timepoint
from ..models.common import DAYS_PER_MONTH, plain_number
from ..timing import Moment, describe
from .summary import MEASURES, before_after, disease_activity

GRADE_COLOURS = {1: "#f1c40f", 2: "#e67e22", 3: "#c0392b", 4: "#7b241c", 5: "#000000"}
UNGRADED = "#7f8c8d"
ROUTE_SHAPES = {
    MscRoute.INTRAVENOUS: "circle",
    MscRoute.INTRAOSSEOUS: "square",
    MscRoute.INTRA_ARTICULAR: "square",
    MscRoute.INTRANASAL: "triangle",
    MscRoute.LYMPH_NODE: "diamond",
}
PGA_COLOUR, ACTIVITY_COLOUR, COURSE_COLOUR, MSC_COLOUR = "#1f77b4", "#8e44ad", "#95a5a6", "#16a085"
PHYSICIAN_COLOUR = "#d35400"
WIDTH, LEFT, RIGHT, LANE = 860, 190, 20, 18
UNKNOWN_BAND, UNKNOWN_GAP = 84, 12  # the band right of the axis for records without a time


def _months(day):
    return float(Decimal(day) / DAYS_PER_MONTH)


def _shape(kind, x, y, size, fill, css, title):
    t = f"<title>{escape(title)}</title>"
    if kind == "square":
        return (
            f'<rect class="{css}" x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}" '
            f'fill="{fill}" stroke="#222" stroke-width="0.8">{t}</rect>'
        )
    if kind == "triangle":
        points = f"{x:.1f},{y - size:.1f} {x - size:.1f},{y + size:.1f} {x + size:.1f},{y + size:.1f}"
        return f'<polygon class="{css}" points="{points}" fill="{fill}" stroke="#222" stroke-width="0.8">{t}</polygon>'
    if kind == "diamond":
        points = f"{x:.1f},{y - size:.1f} {x + size:.1f},{y:.1f} {x:.1f},{y + size:.1f} {x - size:.1f},{y:.1f}"
        return f'<polygon class="{css}" points="{points}" fill="{fill}" stroke="#222" stroke-width="0.8">{t}</polygon>'
    return (
        f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="{size}" fill="{fill}" stroke="#222" '
        f'stroke-width="0.8">{t}</circle>'
    )


def _text(x, y, text, anchor="start", size=11, fill="#222", weight=None):
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="sans-serif" text-anchor="{anchor}" '
        f'fill="{fill}"{bold}>{escape(text)}</text>'
    )


def _svg(width, height, label, body, css):
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="figure {css}" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _unknown_slot(record):
    """Where a record without a time sits in the 'time unknown' band: by what the source says of its
    relation to MSC (an assessment's timepoint, a therapy's relation, an event's administration)."""
    relation = getattr(record, "timepoint", None) or getattr(record, "relation_to_msc", None)
    if relation in (Timepoint.BEFORE_MSC, RelationToMsc.BEFORE):
        return "before"
    if relation in (Timepoint.AFTER_MSC, Timepoint.FOLLOW_UP, RelationToMsc.AFTER):
        return "after"
    if getattr(record, "administration_id", None):
        return "after"
    return "unknown"


UNKNOWN_WORDS = {"before": "before MSC, time unknown", "after": "after MSC, time unknown", "unknown": "time unknown"}


def case_timeline(records):
    """Medication courses as bars, MSC administrations by route, events by grade, patient and
    physician global and disease activity as lines, on one axis of months from the first MSC.

    A record without a time is never drawn at a made-up time: it goes in the 'time unknown' band
    right of the axis, before, after or between by its relation to MSC. `records` is a CaseRecords."""
    patient, admins, courses = records.patient, records.administrations, records.courses
    events, assessments, when = records.events, records.assessments, records.days

    times = [0]
    for c in courses:
        times += [d for d in (when(c, "start"), when(c, "stop")) if d is not None]
    times += [d for d in (when(a) for a in admins) if d is not None]
    times += [d for d in (when(e, "onset") for e in events) if d is not None]
    times += [d for d in (when(a) for a in assessments) if d is not None]
    lo, hi = _months(min(times)) - 1, _months(max(times)) + 1
    if hi - lo < 6:
        hi = lo + 6
    plot = WIDTH - LEFT - RIGHT - UNKNOWN_BAND - UNKNOWN_GAP
    band_left = LEFT + plot + UNKNOWN_GAP
    slots = {"before": band_left + 16, "unknown": band_left + UNKNOWN_BAND / 2, "after": band_left + UNKNOWN_BAND - 16}

    def x(day):
        return LEFT + (_months(day) - lo) / (hi - lo) * plot

    score_top = 30 + LANE * (len(courses) + 2) + 20
    height = score_top + 130
    body = [f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>']

    # The band for records without a time, apart from the axis so that nothing in it reads as a date.
    body.append(
        f'<rect class="band time-unknown" x="{band_left}" y="22" width="{UNKNOWN_BAND}" height="{height - 42}" '
        'fill="#f2f2f2" stroke="#bbb" stroke-dasharray="2 2"><title>Records without a time, placed before or '
        "after MSC where the source says so</title></rect>"
    )
    body.append(_text(band_left + UNKNOWN_BAND / 2, 14, "Time unknown", "middle", 10, weight="bold"))
    body.append(_text(slots["before"], height - 6, "before", "middle", 9))
    body.append(_text(slots["after"], height - 6, "after", "middle", 9))

    # Axis: months from the first MSC, with a vertical line at 0.
    step = next(s for s in (1, 3, 6, 12, 24, 60, 120) if (hi - lo) / s <= 12)
    tick = int(lo // step) * step
    while tick <= hi:
        if tick >= lo:
            tx = LEFT + (tick - lo) / (hi - lo) * plot
            body.append(f'<line x1="{tx:.1f}" y1="22" x2="{tx:.1f}" y2="{height - 20}" stroke="#e5e5e5"/>')
            body.append(_text(tx, height - 6, str(tick), "middle", 10))
        tick += step
    zero = x(0)
    body.append(
        f'<line x1="{zero:.1f}" y1="22" x2="{zero:.1f}" y2="{height - 20}" stroke="{MSC_COLOUR}" '
        'stroke-dasharray="4 3"/>'
    )
    body.append(_text(LEFT + plot / 2, 14, "Months from the first MSC administration", "middle", 11, weight="bold"))

    # Medication courses; one without any time is a short bar in the band.
    y = 30
    for c in courses:
        start, stop = when(c, "start"), when(c, "stop")
        name = c.drug_detail if c.drug == "other" else c.get_drug_display()
        fill = "#f5b041" if c.is_confounder else COURSE_COLOUR
        if start is None and stop is None and not c.is_ongoing:
            x1, x2, dashed = band_left + 4, band_left + UNKNOWN_BAND - 4, ' stroke-dasharray="3 2"'
            title = f"{c}: {'stopped, ' if c.was_stopped else ''}{UNKNOWN_WORDS['unknown']}"
            css = "bar course time-unknown"
        else:
            x1 = x(start) if start is not None else LEFT
            x2 = x(stop) if stop is not None else LEFT + plot
            dashed = ' stroke-dasharray="3 2"' if stop is None and not c.is_ongoing else ""
            title = f"{name}: {describe(Moment.of(c, 'start'))} to " + (
                "ongoing" if c.is_ongoing else describe(Moment.of(c, "stop"))
            )
            css = "bar course"
        body.append(
            f'<rect class="{css}" x="{x1:.1f}" y="{y + 3}" width="{max(x2 - x1, 2):.1f}" height="{LANE - 6}" '
            f'fill="{fill}" stroke="#555" stroke-width="0.6"{dashed}><title>{escape(title)}</title></rect>'
        )
        body.append(_text(LEFT - 6, y + LANE - 5, name[:28], "end", 10))
        y += LANE

    # MSC administrations, by route.
    body.append(_text(LEFT - 6, y + LANE - 5, "MSC administrations", "end", 10, weight="bold"))
    for a in admins:
        d = when(a)
        shape = ROUTE_SHAPES.get(a.route, "circle")
        title = f"MSC #{a.sequence} {a.get_route_display().lower()}, {describe(Moment.of(a))}"
        if d is None:
            body.append(
                _shape(shape, slots["unknown"], y + LANE / 2, 5, MSC_COLOUR, "mark administration time-unknown", title)
            )
        else:
            body.append(_shape(shape, x(d), y + LANE / 2, 5, MSC_COLOUR, "mark administration", title))
    y += LANE

    # Adverse events and flares, coloured by grade; a flare names the withdrawals that preceded it.
    body.append(_text(LEFT - 6, y + LANE - 5, "Adverse events, flares", "end", 10, weight="bold"))
    for e in events:
        d = when(e, "onset")
        colour = GRADE_COLOURS.get(e.ctcae_grade, UNGRADED)
        grade = f"grade {e.ctcae_grade}" if e.ctcae_grade else "not graded"
        shape = "diamond" if e.is_flare else "circle"
        title = f"{e.description} ({grade}{', serious' if e.is_serious else ''}), {describe(Moment.of(e, 'onset'))}"
        withdrawn = [str(c) for c in e.preceding_withdrawals.all()]
        if withdrawn:
            title += f"; after stopping {', '.join(withdrawn)}"
        if d is None:
            body.append(
                _shape(shape, slots[_unknown_slot(e)], y + LANE / 2, 6, colour, "mark event time-unknown", title)
            )
        else:
            body.append(_shape(shape, x(d), y + LANE / 2, 6, colour, "mark event", title))

    # Scores: patient and physician global (0-10) and the disease-activity measure, as lines; a
    # score without a time is a point in the band, joined to nothing.
    measure_name = disease_activity(records)[0]
    measure_field = next((f for f, n in MEASURES if n == measure_name), None)
    top, bottom = score_top, score_top + 100
    body.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot}" y2="{bottom}" stroke="#999"/>')
    body.append(_text(LEFT - 6, top + 10, "Scores", "end", 10, weight="bold"))
    series = [
        ("patient_global", "Patient global (0-10)", PGA_COLOUR, "pga", Decimal(10)),
        ("physician_global", "Physician global (0-10)", PHYSICIAN_COLOUR, "physician-global", Decimal(10)),
    ]
    if measure_field:
        values = [getattr(a, measure_field) for a in assessments if getattr(a, measure_field) is not None]
        series.append((measure_field, measure_name, ACTIVITY_COLOUR, "activity", max([Decimal(10), *values])))
    for index, (field, label, colour, css, scale) in enumerate(series):
        scored = [a for a in assessments if getattr(a, field) is not None]
        points = sorted((when(a), getattr(a, field)) for a in scored if when(a) is not None)
        coords = [(x(d), bottom - float(v / scale) * 90) for d, v in points]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (d, v), (px, py) in zip(points, coords, strict=True):
            body.append(
                f'<circle class="point {css}" cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(label)} {plain_number(v)} at {_months(d):.1f} months</title></circle>"
            )
        for a in scored:
            if when(a) is None:
                v, slot = getattr(a, field), _unknown_slot(a)
                body.append(
                    f'<circle class="point {css} time-unknown" cx="{slots[slot]:.1f}" '
                    f'cy="{bottom - float(v / scale) * 90:.1f}" r="3.5" fill="{colour}">'
                    f"<title>{escape(label)} {plain_number(v)}, {UNKNOWN_WORDS[slot]}</title></circle>"
                )
        body.append(_text(LEFT - 6, top + 26 + 14 * index, f"— {label}", "end", 10, colour))
    label = f"Timeline of case {patient.study_id}: therapies, MSC administrations, adverse events and scores"
    return _svg(WIDTH, height, label, body, "case-timeline")


def cohort_figure(cases):
    """PGA and disease activity before and after MSC, one paired line per patient (a queryset or a
    list of cases, or of their CaseRecords)."""
    cases = records_of(cases)
    panels = [
        ("PGA (0-10)", lambda p: before_after(p, "patient_global"), "pga"),
        ("Disease activity", None, "activity"),
    ]
    width, panel_w, top, height = 860, 360, 40, 300
    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for index, (title, reader, css) in enumerate(panels):
        left = 60 + index * (panel_w + 70)
        pairs = []
        for records in cases:
            if reader:
                before, after, name = *reader(records), "PGA"
            else:
                name, before, after = disease_activity(records)
            if before is not None or after is not None:
                pairs.append((records.patient, name, before, after))
        scale = max([Decimal(10), *[v for _, _, b, a in pairs for v in (b, a) if v is not None]])
        bottom = top + 200

        def y(v, bottom=bottom, scale=scale):
            return bottom - float(v / scale) * 190

        bx, ax = left + 60, left + panel_w - 120
        body.append(_text(left + panel_w / 2 - 40, 20, title, "middle", 12, weight="bold"))
        body.append(f'<line x1="{left}" y1="{bottom}" x2="{left + panel_w - 60}" y2="{bottom}" stroke="#999"/>')
        body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>')
        for tick in (0, scale / 2, scale):
            body.append(_text(left - 6, y(tick) + 4, plain_number(Decimal(tick).quantize(Decimal("0.1"))), "end", 10))
        body.append(_text(bx, bottom + 18, "before MSC", "middle", 10))
        body.append(_text(ax, bottom + 18, "after MSC", "middle", 10))
        for n, (p, name, before, after) in enumerate(pairs):
            colour = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"][n % 7]
            text = f"{p.study_id}: {name} {plain_number(before) if before is not None else '?'} → " + (
                plain_number(after) if after is not None else "?"
            )
            if before is not None and after is not None:
                body.append(
                    f'<line class="pair {css}" x1="{bx}" y1="{y(before):.1f}" x2="{ax}" y2="{y(after):.1f}" '
                    f'stroke="{colour}" stroke-width="2"><title>{escape(text)}</title></line>'
                )
            for xx, v in ((bx, before), (ax, after)):
                if v is not None:
                    body.append(
                        f'<circle class="point {css}" cx="{xx}" cy="{y(v):.1f}" r="4" fill="{colour}">'
                        f"<title>{escape(text)}</title></circle>"
                    )
            if after is not None:
                body.append(_text(ax + 8, y(after) + 4, f"{p.study_id} ({name})"[:30], "start", 9, colour))
    label = "PGA and disease activity before and after MSC, one line per patient"
    return _svg(width, height, label, body, "cohort-figure")
