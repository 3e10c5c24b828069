"""The performance goals, checked against one report's figures: bench/RESULTS.md opens with them.

A goal names a figure of one benchmark (a regular expression matched at the start of its name),
which of its measures counts (value, p95 or ratio), and the bound. Where a goal is not met, the
report says what stands in the way; that text may quote other figures of the same report as
[[benchmark|figure|measure]], so the reason is a measurement of this run, not a number written
once and left to age.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench import Figure

Measure = str  # "value", "p50", "p95" or "ratio"


@dataclass(frozen=True)
class Goal:
    benchmark: str
    figure: str  # a regular expression, matched at the start of the figure's name
    target: float
    at_most: bool  # True: the measure must be <= target; False: >= target
    text: str  # the goal in plain words
    measure: Measure = "value"
    obstacle: str = ""  # what stands in the way when it is not met, with [[...]] quotes

    def bound(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {_number(self.target)}"


@dataclass(frozen=True)
class Outcome:
    goal: Goal
    measured: float | None  # None: the figure is not in this report
    unit: str

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        if self.goal.at_most:
            return self.measured <= self.goal.target
        return self.measured >= self.goal.target


def _number(value: float) -> str:
    if value != 0 and abs(value) < 10:
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def figure_find(figures: Sequence[Figure], pattern: str) -> Figure | None:
    return next((figure for figure in figures if re.match(pattern, figure.name)), None)


def measure_of(
    figure: Figure,
    measure: Measure,
    figures: Sequence[Figure],
    ratio: Callable[[Figure, Sequence[Figure]], float | None],
) -> float | None:
    if measure == "ratio":
        return ratio(figure, figures)
    return getattr(figure, measure)


_QUOTE = re.compile(r"\[\[([^|\]]+)\|([^|\]]+)(?:\|([a-z0-9]+))?\]\]")


def goals_check(
    by_benchmark: Mapping[str, Sequence[Figure]],
    ratio: Callable[[Figure, Sequence[Figure]], float | None],
    goals: Sequence[Goal] | None = None,
) -> list[tuple[Outcome, str]]:
    """Each goal's outcome, with its obstacle text (quotes filled in) when it is not met."""

    def quote(match: re.Match) -> str:
        benchmark, start, measure = match.group(1), match.group(2), match.group(3) or "value"
        figures = by_benchmark.get(benchmark, ())
        figure = figure_find(figures, start)
        value = measure_of(figure, measure, figures, ratio) if figure else None
        if value is None:
            return "(not measured)"
        unit = "×" if measure == "ratio" else f" {figure.unit}"
        return f"{_number(value)}{unit}"

    results = []
    for goal in GOALS if goals is None else goals:
        figures = by_benchmark.get(goal.benchmark, ())
        figure = figure_find(figures, goal.figure)
        measured = measure_of(figure, goal.measure, figures, ratio) if figure else None
        unit = "×" if goal.measure == "ratio" else (figure.unit if figure else "")
        outcome = Outcome(goal=goal, measured=measured, unit=unit)
        obstacle = _QUOTE.sub(quote, goal.obstacle) if outcome.met is False else ""
        results.append((outcome, obstacle))
    return results


def goals_markdown(results: Sequence[tuple[Outcome, str]]) -> str:
    lines = [
        "## Goals",
        "",
        "| goal | benchmark | measured | bound | met | what stands in the way |",
        "|---|---|---:|---:|---|---|",
    ]
    for outcome, obstacle in results:
        goal = outcome.goal
        measured = "" if outcome.measured is None else f"{_number(outcome.measured)}"
        measure = "" if goal.measure == "value" else f"{goal.measure} "
        met = {True: "yes", False: "**no**", None: "not measured"}[outcome.met]
        unit = outcome.unit if outcome.unit == "×" else f" {outcome.unit}"
        lines.append(
            f"| {goal.text} | {goal.benchmark} | {measured}{unit if measured else ''} "
            f"| {measure}{goal.bound()}{unit} | {met} | {obstacle} |"
        )
    return "\n".join([*lines, ""])


_DENSE_SCREEN = (
    "A grid cell of 173-184 CSS px is 368-519 device pixels on this screen: the 256 px copy "
    "would be blurry, so the browser rightly takes the 512 px one "
    "([[gallery_page|thumbnail 512 px, mean]] each, 50 of them). A WebP sized to the cell "
    "(384 px) would still weigh about 21 KB, 1 MB for 50; a smaller format (AVIF, about half) "
    "or a lower quality is what would close it."
)

_CPU_PER_PICTURE = (
    "CPU, not waiting: each picture costs [[throughput|web CPU a picture, simulator {mode}]] in "
    "gunicorn (its submit and its person's polls, one a second), "
    "[[throughput|worker-cpu CPU a picture, simulator {mode}]] and "
    "[[throughput|worker-io CPU a picture, simulator {mode}]] in the workers. 450 a minute is "
    "7.5 pictures a second: at these costs nearly all of the 2 cores' 2,000 ms of CPU a second "
    "in our processes alone, before the simulator and the 50 clients have theirs."
)

GOALS: tuple[Goal, ...] = (
    Goal(
        "gallery_api",
        "newest, page 1",
        15.0,
        at_most=True,
        measure="p95",
        text="Gallery API, page 1 of 30 (20,000 of 100,000 images)",
        obstacle="The page's one SQL query is not it (the keyset query takes "
        "[[gallery_api|SQL at 10,000: keyset|p50]] even 10,000 deep): the rest is Django and "
        "DRF serialising 30 images, on a 2-core machine that also runs PostgreSQL.",
    ),
    Goal(
        "gallery_api",
        "newest, 10,000 deep",
        15.0,
        at_most=True,
        measure="p95",
        text="Gallery API, 10,000 deep",
        obstacle="The keyset query stays at [[gallery_api|SQL at 10,000: keyset|p50]]; the "
        "time is serialisation, as on page 1 ([[gallery_api|newest, page 1|p95]]).",
    ),
    Goal(
        "gallery_api",
        "SQL at 10,000: keyset",
        1 / 22,
        at_most=True,
        measure="ratio",
        text="Keyset SQL against OFFSET at 10,000 deep (22× faster before)",
        obstacle="The keyset query is the same as before, and fast: "
        "[[gallery_api|SQL at 10,000: keyset|p50]]. The ratio moves with OFFSET's cost, "
        "[[gallery_api|SQL at 10,000: OFFSET|p50]] here for 10,000 rows PostgreSQL has "
        "in its cache: a faster OFFSET, not a slower keyset, keeps the ratio at "
        "[[gallery_api|SQL at 10,000: keyset|ratio]].",
    ),
    Goal(
        "webhooks",
        "accepted/s, 10 senders",
        1000.0,
        at_most=False,
        text="Signed webhooks accepted per second, 10 senders, 0 lost, 0 double",
        obstacle="Every part shares the 2 cores: gunicorn spends "
        "[[webhooks|gunicorn CPU per answer, 10 senders]] of CPU per answer, the 10 senders, "
        "PostgreSQL, Redis and the worker applying the events the rest. 1,000/s would need "
        "under 2 ms of CPU per webhook for all of them together.",
    ),
    Goal(
        "webhooks",
        "gunicorn CPU per answer, 10 senders",
        1.0,
        at_most=True,
        text="CPU per webhook in the web process",
        obstacle="What a webhook cannot do without, measured alone, is already "
        "[[webhooks|floor CPU]] (the HMAC, the INSERT and, half of it, Celery's send); "
        "gunicorn's own request handling costs about as much as Django's.",
    ),
    Goal(
        "webhooks",
        "answer, 10 senders",
        20.0,
        at_most=True,
        measure="p95",
        text="Webhook answer at 10 senders",
        obstacle="Requests queue behind gunicorn's threads: [[webhooks|accepted/s, 10 senders]] "
        "accepted.",
    ),
    Goal(
        "throughput",
        r"\d+ users, simulator memory",
        450.0,
        at_most=False,
        text="Pictures per minute, 50 people waiting, simulator in memory",
        obstacle=_CPU_PER_PICTURE.format(mode="memory"),
    ),
    Goal(
        "throughput",
        r"\d+ users, simulator data-dir",
        450.0,
        at_most=False,
        text="Pictures per minute, 50 people waiting, simulator on disk (as make run)",
        obstacle=_CPU_PER_PICTURE.format(mode="data-dir"),
    ),
    Goal(
        "throughput",
        "submit answer, simulator memory",
        50.0,
        at_most=True,
        measure="p95",
        text="Submit answer under that load (simulator in memory)",
        obstacle="The submit waits for a core like everything else: the machine is short of "
        "CPU at this load (see the rows above); its own work is at most 11 SQL statements "
        "(tests/gallery/test_submit_path.py) and a broker PING.",
    ),
    Goal(
        "preprocess",
        r"person, \d+ processes, ours",
        0.25,
        at_most=True,
        measure="ratio",
        text="Dataset pipeline (normalise + quality) against plain decode + resize, photos of a "
        "person, both cores (4× faster)",
        obstacle="What is left per photo is the JPEG decode at 1/4 scale and the face search "
        r"at 512 px; plain itself is [[preprocess|person, \d+ processes, plain]] on both cores.",
    ),
    Goal(
        "preprocess",
        r"person, \d+ processes, ours",
        1200.0,
        at_most=True,
        text="20 phone photos of a person through the pipeline, both cores",
    ),
    Goal(
        "preprocess",
        r"mixed, \d+ processes, ours",
        0.25,
        at_most=True,
        measure="ratio",
        text="The same, a mixed set where 17 of 20 photos have no face",
        obstacle="A photo without a frontal face is searched again at 1152 px for a small "
        r"face (about 57 ms each): [[preprocess|mixed, \d+ processes, ours]] against "
        r"[[preprocess|person, \d+ processes, ours]] for photos of a person. Only a cheaper "
        "small-face search would close it, and it must find the same faces on the "
        "calibration set.",
    ),
    Goal(
        "preprocess",
        r"person, \d+ processes, consent",
        0.25,
        at_most=True,
        measure="ratio",
        text="The same with face identity vectors (owner's consent given; the likeness issue "
        "came after this goal)",
        obstacle="Each face's 128-number vector costs about 100 ms in dlib's network on the "
        r"CPU (this dlib build has no BLAS): [[preprocess|person, \d+ processes, consent]] "
        r"against [[preprocess|person, \d+ processes, ours]] without them.",
    ),
    Goal(
        "gallery_page",
        "1280 px x1: page",
        600.0,
        at_most=True,
        text="Gallery page of 50 pictures on a laptop (1×)",
    ),
    Goal(
        "gallery_page",
        "390 px x2: page",
        600.0,
        at_most=True,
        text="Gallery page of 50 pictures on a phone (2×)",
    ),
    Goal(
        "gallery_page",
        "390 px x3: page",
        600.0,
        at_most=True,
        text="Gallery page of 50 pictures on a phone (3×)",
        obstacle=_DENSE_SCREEN,
    ),
    Goal(
        "gallery_page",
        "1280 px x2: page",
        600.0,
        at_most=True,
        text="Gallery page of 50 pictures on a laptop (2×)",
        obstacle=_DENSE_SCREEN,
    ),
    Goal(
        "simple_image",
        r"\d+ waiters$",
        1.25,
        at_most=True,
        measure="ratio",
        text="The gallery API while 50 callers wait on POST /api/v1/image/{model} (time "
        "against the gallery alone)",
        obstacle="The callers hold gunicorn threads while they wait; the gallery's requests "
        "queue for the rest: [[simple_image|idle|p95]] p95 alone, "
        r"[[simple_image|\d+ waiters$|p95]] with them.",
    ),
    Goal(
        "completion",
        "final webhook to 4 pictures listed",
        500.0,
        at_most=True,
        text="Final webhook to 4 pictures listed, with moderation and likeness",
        obstacle="Each output is downloaded, decoded, thumbnailed, classified "
        "([[classifier|astronaut: image_classify|p50]] for NudeNet) and scored for likeness "
        "([[likeness|output 1024 px + likeness|p50]] with dlib's face search and vector); "
        "four outputs on the cpu worker's 2 processes, which share the 2 cores with the web "
        "process and the simulator.",
    ),
)
