"""Reads for the operator dashboard: activity, failures, credits, GPU time, the review queue.

Every figure is one aggregate query (grouped by day with TruncDate, or by reason, or by user),
so the dashboard costs the same few queries whatever the size of the tables. Days without any
row are filled with zeros here, not in the database. Days are UTC calendar days, like the
plans' daily limits.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, CharField, Count, F, FloatField, Min, Q, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accounts.models import CreditEntry, User
from core.models import JobStatus
from gallery.models import GeneratedImage, Generation, ImageDecision, ImageReport, ImageScan
from trainings.models import TrainingRun

# Failure texts (`error_message`, written by core.remote_jobs and each kind's
# `plain_error_message`) grouped into a few reasons an operator can act on. The first reason
# whose words appear in the text wins; the words are those of the messages we write.
FAILURE_REASONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Unsafe content", ("safety checker", "unsafe", "nsfw")),
    ("Out of GPU memory", ("out of memory", "out of gpu memory")),
    ("Photos unusable", ("could not read the photos", "dataset of this run", "usable photos")),
    ("Replicate did not answer", ("did not answer", "unavailable", "timed out", "timeout")),
    ("No output stored", ("without any picture", "without producing", "could not be fetched")),
    ("Invalid input", ("invalid",)),
)
OTHER_REASON = "Other"


@dataclass(frozen=True)
class Period:
    """The days the dashboard covers: `days` UTC days ending today (included)."""

    days: int
    today: date

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=UTC)

    @property
    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]


def period_ending_today(*, days: int) -> Period:
    return Period(days=days, today=timezone.now().astimezone(UTC).date())


@dataclass
class JobDay:
    day: date
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    gpu_seconds: float = 0.0


@dataclass
class CreditDay:
    day: date
    granted: int = 0
    spent: int = 0
    refunded: int = 0


@dataclass
class CostDay:
    day: date
    training_seconds: float = 0.0
    generation_seconds: float = 0.0
    training_cost: Decimal = Decimal("0")
    generation_cost: Decimal = Decimal("0")

    @property
    def total_cost(self) -> Decimal:
        return self.training_cost + self.generation_cost


@dataclass
class ReviewQueue:
    waiting: int
    oldest_at: datetime | None
    open_reports: int
    oldest_report_at: datetime | None

    @property
    def oldest_age(self) -> timedelta | None:
        return timezone.now() - self.oldest_at if self.oldest_at else None


@dataclass
class ReviewDay:
    """The review queue's traffic on one day: pictures the safety scan or a prompt rule held,
    reports opened on shown pictures (what comes in), and moderators' decisions (what goes)."""

    day: date
    held: int = 0
    reported: int = 0
    decided: int = 0


@dataclass
class BusyUser:
    user_id: int
    public_id: str
    email: str
    count: int


@dataclass
class Dashboard:
    period: Period
    user: User | None
    trainings: list[JobDay]
    generations: list[JobDay]
    failures: list[tuple[str, int, int]]  # reason, trainings, generations
    credits: list[CreditDay]
    costs: list[CostDay]
    review_queue: ReviewQueue | None
    review_days: list[ReviewDay] = field(default_factory=list)
    top_generators: list[BusyUser] = field(default_factory=list)
    top_spenders: list[BusyUser] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return sum((day.total_cost for day in self.costs), Decimal("0"))


def _day():
    return TruncDate("created_at", tzinfo=UTC)


def _predict_seconds():
    """GPU seconds Replicate reported for a job (`metrics.predict_time`), 0 when it has none."""
    return Coalesce(Sum(Cast(KT("metrics__predict_time"), FloatField())), 0.0)


def _jobs_by_day(model, *, period: Period, user: User | None) -> list[JobDay]:
    """Jobs started on each day, and how those ended; GPU time is counted on the day the job
    started, so a day's figures stay together."""
    jobs = model.objects.filter(created_at__gte=period.since)
    if user is not None:
        jobs = jobs.filter(owner=user)
    rows = (
        jobs.annotate(day=_day())
        .values("day")
        .order_by("day")
        .annotate(
            started=Count("pk"),
            succeeded=Count("pk", filter=Q(status=JobStatus.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=JobStatus.FAILED)),
            gpu_seconds=_predict_seconds(),
        )
    )
    by_day = {row["day"]: row for row in rows}
    days = []
    for day in period.dates:
        row = by_day.get(day)
        if row is None:
            days.append(JobDay(day=day))
        else:
            days.append(
                JobDay(
                    day=day,
                    started=row["started"],
                    succeeded=row["succeeded"],
                    failed=row["failed"],
                    gpu_seconds=float(row["gpu_seconds"]),
                )
            )
    return days


def failure_reason_expression():
    """The reason a failed job's `error_message` falls under, computed by the database."""
    whens = [
        When(
            _any_of(words),
            then=Value(reason),
        )
        for reason, words in FAILURE_REASONS
    ]
    return Case(*whens, default=Value(OTHER_REASON), output_field=CharField())


def _any_of(words: tuple[str, ...]) -> Q:
    condition = Q()
    for word in words:
        condition |= Q(error_message__icontains=word)
    return condition


def failure_reason_of(message: str) -> str:
    """The same grouping in Python, for one message (the admin and tests use it)."""
    text = message.lower()
    for reason, words in FAILURE_REASONS:
        if any(word in text for word in words):
            return reason
    return OTHER_REASON


def _failures_by_reason(model, *, period: Period, user: User | None) -> dict[str, int]:
    failed = model.objects.filter(created_at__gte=period.since, status=JobStatus.FAILED)
    if user is not None:
        failed = failed.filter(owner=user)
    rows = (
        failed.annotate(reason=failure_reason_expression())
        .values("reason")
        .order_by("reason")
        .annotate(count=Count("pk"))
    )
    return {row["reason"]: row["count"] for row in rows}


def failures_by_reason(*, period: Period, user: User | None = None) -> list[tuple[str, int, int]]:
    """(reason, failed trainings, failed generations), most frequent first; 2 queries."""
    trainings = _failures_by_reason(TrainingRun, period=period, user=user)
    generations = _failures_by_reason(Generation, period=period, user=user)
    reasons = [reason for reason, _ in FAILURE_REASONS] + [OTHER_REASON]
    rows = [
        (reason, trainings.get(reason, 0), generations.get(reason, 0))
        for reason in reasons
        if trainings.get(reason) or generations.get(reason)
    ]
    return sorted(rows, key=lambda row: -(row[1] + row[2]))


def credits_by_day(*, period: Period, user: User | None = None) -> list[CreditDay]:
    """Credits granted (sign-up, purchases, administrators), spent (a capture settles its
    reservation: the reserved amount is spent) and refunded, per day; 1 query."""
    entries = CreditEntry.objects.filter(created_at__gte=period.since)
    if user is not None:
        entries = entries.filter(user=user)
    rows = (
        entries.annotate(day=_day())
        .values("day")
        .order_by("day")
        .annotate(
            granted=Sum("amount", filter=Q(kind=CreditEntry.Kind.GRANT), default=0),
            spent=Sum(
                -F("reservation__amount"), filter=Q(kind=CreditEntry.Kind.CAPTURE), default=0
            ),
            refunded=Sum("amount", filter=Q(kind=CreditEntry.Kind.REFUND), default=0),
        )
    )
    by_day = {row["day"]: row for row in rows}
    return [
        CreditDay(
            day=day,
            granted=by_day[day]["granted"],
            spent=by_day[day]["spent"],
            refunded=by_day[day]["refunded"],
        )
        if day in by_day
        else CreditDay(day=day)
        for day in period.dates
    ]


def gpu_cost_by_day(*, trainings: list[JobDay], generations: list[JobDay]) -> list[CostDay]:
    """Estimated Replicate cost: GPU seconds times the list price per second of each kind."""
    training_price = Decimal(str(settings.REPLICATE_TRAINING_GPU_PRICE_PER_SECOND))
    prediction_price = Decimal(str(settings.REPLICATE_PREDICTION_GPU_PRICE_PER_SECOND))
    costs = []
    for training_day, generation_day in zip(trainings, generations, strict=True):
        costs.append(
            CostDay(
                day=training_day.day,
                training_seconds=training_day.gpu_seconds,
                generation_seconds=generation_day.gpu_seconds,
                training_cost=Decimal(str(training_day.gpu_seconds)) * training_price,
                generation_cost=Decimal(str(generation_day.gpu_seconds)) * prediction_price,
            )
        )
    return costs


def review_queue_state() -> ReviewQueue:
    """What waits for a moderator (gallery.selectors.review_queue: held images, and shown ones
    with an open report) and its oldest item; 2 queries."""
    waiting = Q(moderation_state=GeneratedImage.Moderation.HELD) | Q(
        moderation_state=GeneratedImage.Moderation.APPROVED,
        reports__status=ImageReport.Status.OPEN,
    )
    images = GeneratedImage.objects.filter(waiting).aggregate(
        waiting=Count("pk", distinct=True), oldest_at=Min("created_at")
    )
    reports = ImageReport.objects.filter(status=ImageReport.Status.OPEN).aggregate(
        open_reports=Count("pk"), oldest_report_at=Min("created_at")
    )
    return ReviewQueue(**images, **reports)


def review_queue_by_day(*, period: Period) -> list[ReviewDay]:
    """Per day: pictures held for review (counted on the day of their scan; a picture a second
    scan passed after a failed one counts no more), reports opened, decisions made; 1 query,
    the three counts grouped by day and joined with UNION ALL."""

    def per_day(queryset, kind: str):
        return (
            queryset.filter(created_at__gte=period.since)
            .annotate(day=_day(), kind=Value(kind, output_field=CharField()))
            .values("day", "kind")
            .order_by()
            .annotate(count=Count("pk"))
            .values_list("day", "kind", "count")
        )

    held = ImageScan.objects.filter(
        Q(verdict=ImageScan.Verdict.HELD) | ~Q(image__generation__review_category="")
    )
    rows = per_day(held, "held").union(
        per_day(ImageReport.objects.all(), "reported"),
        per_day(ImageDecision.objects.all(), "decided"),
        all=True,
    )
    by_day = {day: ReviewDay(day=day) for day in period.dates}
    for day, kind, number in rows:
        if day in by_day:
            setattr(by_day[day], kind, number)
    return list(by_day.values())


def top_generators(*, period: Period, limit: int = 10) -> list[BusyUser]:
    """The users who asked for the most generations in the period; 1 query."""
    rows = (
        Generation.objects.filter(created_at__gte=period.since)
        .values("owner_id", "owner__public_id", "owner__email")
        .annotate(count=Count("pk"))
        .order_by("-count", "owner__email")[:limit]
    )
    return [
        BusyUser(row["owner_id"], str(row["owner__public_id"]), row["owner__email"], row["count"])
        for row in rows
    ]


def top_spenders(*, period: Period, limit: int = 10) -> list[BusyUser]:
    """The users who spent the most credits in the period (captured reservations); 1 query."""
    rows = (
        CreditEntry.objects.filter(created_at__gte=period.since, kind=CreditEntry.Kind.CAPTURE)
        .values("user_id", "user__public_id", "user__email")
        .annotate(count=Sum(-F("reservation__amount")))
        .order_by("-count", "user__email")[:limit]
    )
    return [
        BusyUser(row["user_id"], str(row["user__public_id"]), row["user__email"], row["count"])
        for row in rows
    ]


def dashboard_get(*, days: int, user: User | None = None) -> Dashboard:
    """Everything the dashboard shows, for all users or for one (`user`): at most 10 queries.
    The review queue and the busiest users are site-wide, so one user's page leaves them out."""
    period = period_ending_today(days=days)
    trainings = _jobs_by_day(TrainingRun, period=period, user=user)
    generations = _jobs_by_day(Generation, period=period, user=user)
    return Dashboard(
        period=period,
        user=user,
        trainings=trainings,
        generations=generations,
        failures=failures_by_reason(period=period, user=user),
        credits=credits_by_day(period=period, user=user),
        costs=gpu_cost_by_day(trainings=trainings, generations=generations),
        review_queue=review_queue_state() if user is None else None,
        review_days=review_queue_by_day(period=period) if user is None else [],
        top_generators=top_generators(period=period) if user is None else [],
        top_spenders=top_spenders(period=period) if user is None else [],
    )


def dashboard_user_get(*, public_id) -> User | None:
    """The user a per-user dashboard is about, by the id the site shows (None: no such user)."""
    return User.objects.filter(public_id=public_id).first()
