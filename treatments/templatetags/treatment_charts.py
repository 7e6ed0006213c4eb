"""Server-side pain chart: an inline SVG drawn with attributes only (no script, no style attribute)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from treatments.selectors import QuestionnaireTrend, TreatmentOutcome

register = template.Library()

BAR_WIDTH = 14
GROUP_WIDTH = 40
POINT_HEIGHT = 12  # pixels per pain point, so 10 points = 120
TOP = 10
LEFT = 28


@register.inclusion_tag("treatments/includes/pain_chart.html")
def pain_chart(outcome: TreatmentOutcome, chart_id: str) -> dict[str, Any]:
    """Two bars per session (before, after) on a 0-10 axis, with a baseline line."""
    floor = TOP + 10 * POINT_HEIGHT
    bars = []
    for index, session in enumerate(outcome.sessions):
        x = LEFT + 8 + index * GROUP_WIDTH
        bars.append(
            {
                "session": session,
                "number": index + 1,
                "label_x": x + BAR_WIDTH,
                "before": _bar(x, session.pain_before, floor),
                "after": _bar(x + BAR_WIDTH + 2, session.pain_after, floor),
            }
        )
    width = LEFT + 16 + len(outcome.sessions) * GROUP_WIDTH
    return {
        "outcome": outcome,
        "chart_id": chart_id,
        "bars": bars,
        "width": max(width, 200),
        "height": floor + 24,
        "floor": floor,
        "label_y": floor + 16,
        "left": LEFT,
        "gridlines": [{"value": value, "y": floor - value * POINT_HEIGHT} for value in (0, 5, 10)],
        "baseline_y": floor - outcome.baseline * POINT_HEIGHT,
    }


def _bar(x: int, score: int, floor: int) -> dict[str, int]:
    height = max(score * POINT_HEIGHT, 1)  # a 0 still shows a hairline so the gap reads as "0"
    return {"x": x, "y": floor - height, "width": BAR_WIDTH, "height": height, "score": score}


SCORE_HEIGHT = 120
POINT_GAP = 48


@register.inclusion_tag("treatments/includes/questionnaire_chart.html")
def questionnaire_chart(trend: QuestionnaireTrend, chart_id: str) -> dict[str, Any]:
    """The scores as a line of dots on the instrument's scale; dashed = first score, dotted =
    the score a meaningful improvement reaches."""
    instrument = trend.instrument
    low, high = Decimal(instrument.scale_min), Decimal(instrument.scale_max)
    floor = TOP + SCORE_HEIGHT

    def y(score: Decimal) -> int:
        return int(floor - (score - low) * SCORE_HEIGHT / (high - low))

    dots = [
        {"x": LEFT + 20 + index * POINT_GAP, "y": y(point.score), "point": point, "number": index + 1}
        for index, point in enumerate(trend.points)
    ]
    return {
        "trend": trend,
        "chart_id": chart_id,
        "dots": dots,
        "line": " ".join(f"{dot['x']},{dot['y']}" for dot in dots),
        "width": max(LEFT + 40 + len(dots) * POINT_GAP, 200),
        "height": floor + 24,
        "left": LEFT,
        "label_y": floor + 16,
        "first_y": y(trend.first),
        "meaningful_y": y(trend.meaningful_score),
        "gridlines": [
            {"value": value, "y": y(Decimal(value))} for value in (instrument.scale_min, instrument.scale_max)
        ],
    }
