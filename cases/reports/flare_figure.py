"""The Kaplan-Meier curve of flare-free time after stopping a therapy, as server-rendered SVG in the style of
cases.reports.figures: presentation attributes only (the CSP forbids inline style), no script, a class and
a <title> on each mark (`step km` for the curve, `mark censored` for each censored stop)."""

from django.utils.html import escape

from .figures import _svg, _text

WIDTH, HEIGHT, LEFT, TOP, PLOT_W, PLOT_H = 560, 260, 60, 20, 460, 180
CURVE_COLOUR = "#1f77b4"


def flare_free_figure(summary):
    """The step curve of cases.reports.safety.time_to_flare's summary, a tick for each censored stop."""
    curve, censored = summary["curve"], summary["censored_days"]
    last = max([day for day, _ in curve] + censored + [1])
    bottom = TOP + PLOT_H

    def x(day):
        return LEFT + PLOT_W * day / last

    def y(probability):
        return bottom - PLOT_H * probability

    body = [f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    body.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + PLOT_W}" y2="{bottom}" stroke="#999"/>')
    body.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#999"/>')
    for p in (0, 0.5, 1):
        body.append(_text(LEFT - 6, y(p) + 4, f"{p:.1f}", "end", 10))
    for day in (0, last / 2, last):
        body.append(_text(x(day), bottom + 16, f"{day:.0f}", "middle", 10))
    body.append(_text(LEFT + PLOT_W / 2, bottom + 34, "days after stopping the therapy", "middle", 10))
    body.append(_text(LEFT - 44, TOP - 6, "flare-free", "start", 10))
    end_day = last if summary["stops"] else 0
    for (day, p), (next_day, next_p) in zip(curve, [*curve[1:], (end_day, None)], strict=True):
        title = f"flare-free {p:.2f} from day {day}"
        body.append(
            f'<line class="step km" x1="{x(day):.1f}" y1="{y(p):.1f}" x2="{x(next_day):.1f}" y2="{y(p):.1f}" '
            f'stroke="{CURVE_COLOUR}" stroke-width="2"><title>{escape(title)}</title></line>'
        )
        if next_p is not None:
            body.append(
                f'<line x1="{x(next_day):.1f}" y1="{y(p):.1f}" x2="{x(next_day):.1f}" y2="{y(next_p):.1f}" '
                f'stroke="{CURVE_COLOUR}" stroke-width="2"/>'
            )
    for day in censored:
        p = next(prob for d, prob in reversed(curve) if d <= day)
        body.append(
            f'<line class="mark censored" x1="{x(day):.1f}" y1="{y(p) - 5:.1f}" x2="{x(day):.1f}" '
            f'y2="{y(p) + 5:.1f}" stroke="#222" stroke-width="1.5"><title>censored at day {day}</title></line>'
        )
    label = (
        f"Flare-free time after stopping a therapy (Kaplan-Meier): {summary['stops']} stops, "
        f"{summary['flares']} followed by a flare, {summary['censored']} censored at the end of follow-up"
    )
    return _svg(WIDTH, HEIGHT, label, body, "flare-free-figure")
