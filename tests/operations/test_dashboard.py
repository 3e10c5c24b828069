"""The operator dashboard (/staff/dashboard/): who may see it, the figures it draws for known
data, days without data, a bounded number of queries, bad input and one user's figures."""

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import CreditEntry, User
from gallery.models import GeneratedImage, Generation, ImageDecision, ImageReport, ImageScan
from gallery.services.generations import NSFW_MESSAGE
from operations.selectors import failure_reason_of
from tests.factories import UserFactory
from tests.gallery.factories import make_generation, make_image
from trainings.models import LoraModel, TrainingRun

from .helpers import rows_by_day, tables_of

pytestmark = pytest.mark.django_db

URL = "/staff/dashboard/"
OUT_OF_MEMORY = "The training ran out of GPU memory. Try a smaller batch size or resolution."


def _at(day, hour=12):
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def admin_user():
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


@pytest.fixture
def today():
    return timezone.now().astimezone(UTC).date()


def _lora_model(user, trigger):
    return LoraModel.objects.create(
        owner=user, name="Me", trigger_word=trigger, status=LoraModel.Status.READY
    )


def _credits(user, day, *, granted=0, captured=0, refunded=0, key=""):
    """A grant, and reservations settled by a capture or a refund, all on `day`."""
    if granted:
        CreditEntry.objects.create(
            user=user, kind="grant", amount=granted, reason="Welcome", created_at=_at(day)
        )
    for kind, amount in (("capture", captured), ("refund", refunded)):
        if not amount:
            continue
        reservation = CreditEntry.objects.create(
            user=user,
            kind="reserve",
            amount=-amount,
            reason="Generation",
            reference=f"generation:{key}{kind}{day}",
            created_at=_at(day, 9),
        )
        CreditEntry.objects.create(
            user=user,
            kind=kind,
            amount=0 if kind == "capture" else amount,
            reason=f"{kind}: Generation",
            reservation=reservation,
            created_at=_at(day, 10),
        )


@pytest.fixture
def seeded(owner, other_user, today):
    """Known activity: two days ago the owner trained twice (one success of 1,000 GPU seconds,
    one out of memory); today the owner generated three times (two of 4 s, one blocked) and
    another user once (2 s). Credits: 100 granted two days ago, 10 spent yesterday, 4 refunded
    today."""
    two_days_ago = today - timedelta(days=2)
    model = _lora_model(owner, "ZORVAK")
    TrainingRun.objects.create(
        owner=owner,
        lora_model=model,
        status=TrainingRun.Status.SUCCEEDED,
        metrics={"predict_time": 1000.0},
        created_at=_at(two_days_ago),
    )
    TrainingRun.objects.create(
        owner=owner,
        lora_model=model,
        status=TrainingRun.Status.FAILED,
        error_message=OUT_OF_MEMORY,
        created_at=_at(two_days_ago, 13),
    )
    for _ in range(2):
        make_generation(owner, metrics={"predict_time": 4.0}, created_at=_at(today, 0))
    make_generation(
        owner, status=Generation.Status.FAILED, error_message=NSFW_MESSAGE, created_at=_at(today, 0)
    )
    make_generation(other_user, metrics={"predict_time": 2.0}, created_at=_at(today, 0))
    _credits(owner, two_days_ago, granted=100)
    _credits(owner, today - timedelta(days=1), captured=10, key="a")
    _credits(owner, today, refunded=4, key="b")
    _credits(other_user, today, captured=3, key="c")
    return {"today": today, "two_days_ago": two_days_ago}


# --- Who may see it -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_people_who_are_not_administrators_get_the_404_page(client, owner, moderator):
    for person in (owner, moderator):  # a moderator is staff, but not an administrator
        client.force_login(person)
        assert client.get(URL).status_code == 404


def test_the_account_menu_links_the_dashboard_for_administrators_only(client, owner, admin_user):
    client.force_login(owner)
    assert URL not in client.get("/accounts/profile/").content.decode()
    client.force_login(admin_user)
    assert URL in client.get("/accounts/profile/").content.decode()


# --- The figures ----------------------------------------------------------------------------


def test_the_charts_and_tables_show_the_seeded_figures(client, admin_user, seeded):
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    today, two_days_ago = seeded["today"].isoformat(), seeded["two_days_ago"].isoformat()
    yesterday = (seeded["today"] - timedelta(days=1)).isoformat()

    trainings = rows_by_day(html, "trainings-table")
    assert trainings[two_days_ago] == ["2", "1", "1"]
    generations = rows_by_day(html, "generations-table")
    assert generations[today] == ["4", "3", "1"]

    credits = rows_by_day(html, "credits-table")
    assert credits[two_days_ago] == ["100", "0", "0"]
    assert credits[yesterday] == ["0", "10", "0"]
    assert credits[today] == ["0", "3", "4"]

    gpu = rows_by_day(html, "gpu-table")
    assert gpu[two_days_ago] == ["1000.0", "0.0", "1.53"]  # 1,000 s × $0.001528
    assert gpu[today] == ["0.0", "10.0", "0.01"]  # 10 s × $0.000725
    assert response.context["board"].total_cost == Decimal("1.528") + Decimal("0.00725")
    assert "estimates" in html

    failures = tables_of(html).tables["failures-table"][1:]
    assert ["Out of GPU memory", "1", "0"] in failures
    assert ["Unsafe content", "0", "1"] in failures

    owner = User.objects.get(email="owner@example.com")
    generators = tables_of(html).tables["generators-table"][1:]
    assert [row[:2] for row in generators] == [[owner.email, "3"], ["other@example.com", "1"]]
    assert f'href="/admin/accounts/user/{owner.pk}/change/"' in html
    assert f"user={owner.public_id}" in html  # their own dashboard
    spenders = tables_of(html).tables["spenders-table"][1:]
    assert [row[:2] for row in spenders] == [[owner.email, "10"], ["other@example.com", "3"]]


def test_the_charts_are_inline_svg_with_a_title_and_their_figures(client, admin_user, seeded):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    charts = re.findall(r"<svg [^>]*role=\"img\".*?</svg>", html, re.S)
    assert len(charts) == 9
    titles = re.findall(r"<title id=\"chart-\d+-title\">([^<]*)</title>", html)
    assert "Trainings per day" in titles and "Failures by reason" in titles
    trainings_chart = next(chart for chart in charts if "Trainings per day" in chart)
    assert "Totals: Started: 2; Succeeded: 1; Failed: 1." in trainings_chart
    assert "<polyline" in trainings_chart
    assert "<script" not in html.split("<main", 1)[-1]  # no chart library
    assert "cdn" not in html.lower()


def test_days_without_data_are_zeros(client, admin_user, seeded):
    client.force_login(admin_user)
    html = client.get(URL + "?days=7").content.decode()
    generations = rows_by_day(html, "generations-table")
    assert len(generations) == 7
    assert list(generations)[-1] == seeded["today"].isoformat()
    empty = (seeded["today"] - timedelta(days=5)).isoformat()
    assert generations[empty] == ["0", "0", "0"]
    assert rows_by_day(html, "credits-table")[empty] == ["0", "0", "0"]
    assert rows_by_day(html, "gpu-table")[empty] == ["0.0", "0.0", "0.00"]
    assert len(rows_by_day(client.get(URL).content.decode(), "trainings-table")) == 30
    assert len(rows_by_day(client.get(URL + "?days=90").content.decode(), "credits-table")) == 90


def test_the_period_leaves_out_older_activity(client, admin_user, owner, today):
    make_generation(owner, created_at=_at(today - timedelta(days=8)))
    client.force_login(admin_user)
    week = client.get(URL + "?days=7").context["board"]
    assert sum(day.started for day in week.generations) == 0
    month = client.get(URL + "?days=30").context["board"]
    assert sum(day.started for day in month.generations) == 1


@pytest.mark.parametrize("query", ["?days=5", "?days=abc", "?days=-1", "?user=not-a-uuid"])
def test_bad_parameters_get_a_clear_400(client, admin_user, query):
    client.force_login(admin_user)
    response = client.get(URL + query)
    assert response.status_code == 400
    assert "cannot show" in response.content.decode()


def test_an_unknown_user_is_a_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get(f"{URL}?user={uuid.uuid4()}").status_code == 404


# --- One user's figures ---------------------------------------------------------------------


def test_the_per_user_dashboard_counts_only_that_user(client, admin_user, owner, seeded):
    client.force_login(admin_user)
    response = client.get(f"{URL}?user={owner.public_id}&days=7")
    assert response.status_code == 200
    html = response.content.decode()
    today = seeded["today"].isoformat()
    assert rows_by_day(html, "generations-table")[today] == ["3", "2", "1"]  # not the other's
    assert rows_by_day(html, "credits-table")[today] == ["0", "0", "4"]  # the other spent 3
    assert rows_by_day(html, "gpu-table")[today] == ["0.0", "8.0", "0.01"]
    assert "owner@example.com" in html
    assert "other@example.com" not in html
    assert "generators-table" not in html  # the busiest users are site-wide
    assert "review-table" not in html and "queue-size" not in html  # so is the review queue


# --- The review queue -----------------------------------------------------------------------


def _picture(owner, *, state, at, scan=None, category=""):
    """A picture made at `at`, in `state`, scanned then with the verdict `scan`."""
    generation = make_generation(owner, review_category=category, created_at=at)
    image = make_image(owner, generation=generation, moderation=state, created_at=at)
    if scan:
        ImageScan.objects.create(image=image, verdict=scan, created_at=at)
    return image


def test_the_review_queue_cards_and_chart_show_held_pictures_and_reports(
    client, admin_user, owner, today
):
    """Held three days ago and still waiting (the oldest), held two days ago and rejected
    today, held today by a prompt rule; yesterday two reports on shown pictures, one still
    open, the other closed by a decision."""
    now = timezone.now()
    Moderation = GeneratedImage.Moderation
    oldest = _picture(
        owner, state=Moderation.HELD, at=now - timedelta(days=3, hours=1), scan="held"
    )
    rejected = _picture(
        owner, state=Moderation.REJECTED, at=_at(today - timedelta(days=2)), scan="held"
    )
    ImageDecision.objects.create(image=rejected, decision="rejected", created_at=now)
    _picture(owner, state=Moderation.HELD, at=now, scan="approved", category="minors")
    yesterday = _at(today - timedelta(days=1))
    reported = _picture(owner, state=Moderation.APPROVED, at=yesterday, scan="approved")
    ImageReport.objects.create(image=reported, reason="Not right", created_at=yesterday)
    cleared = _picture(owner, state=Moderation.APPROVED, at=yesterday, scan="approved")
    decision = ImageDecision.objects.create(
        image=cleared, decision="approved", created_at=yesterday
    )
    ImageReport.objects.create(
        image=cleared, reason="Hm", status="closed", decision=decision, created_at=yesterday,
        closed_at=yesterday,
    )  # fmt: skip
    _picture(owner, state=Moderation.APPROVED, at=now, scan="approved")  # never in the queue

    client.force_login(admin_user)
    response = client.get(URL + "?days=7")
    html = response.content.decode()
    cards = {
        name: re.search(rf'data-testid="{name}">([^<]*)<', html).group(1)
        for name in ("queue-size", "queue-oldest", "open-reports")
    }
    assert cards["queue-size"] == "3"  # two held, one reported
    assert cards["queue-oldest"].replace("\xa0", " ").startswith("3 days")
    assert cards["open-reports"] == "1"
    assert response.context["board"].review_queue.oldest_at == oldest.created_at

    review = rows_by_day(html, "review-table")
    assert len(review) == 7
    assert review[(today - timedelta(days=3)).isoformat()] == ["1", "0", "0"]
    assert review[(today - timedelta(days=2)).isoformat()] == ["1", "0", "0"]
    assert review[(today - timedelta(days=1)).isoformat()] == ["0", "2", "1"]
    assert review[today.isoformat()] == ["1", "0", "1"]
    assert review[(today - timedelta(days=5)).isoformat()] == ["0", "0", "0"]
    chart = next(
        chart
        for chart in re.findall(r"<svg [^>]*role=\"img\".*?</svg>", html, re.S)
        if "Review queue per day" in chart
    )
    assert "Totals: Held for review: 3; Reported: 2; Decided: 2." in chart


# --- Queries --------------------------------------------------------------------------------


def _seed_many(count: int, today):
    users = [UserFactory(email=f"busy{n}@example.com") for n in range(5)]
    model = _lora_model(users[0], f"BUSY{count}")
    Generation.objects.bulk_create(
        Generation(
            owner=users[n % 5],
            target="black-forest-labs/flux-schnell",
            model_label="FLUX",
            prompt="p",
            prompt_sent="p",
            status=Generation.Status.FAILED if n % 3 else Generation.Status.SUCCEEDED,
            error_message="Unsafe" if n % 2 else "",
            metrics={"predict_time": 1.5},
            created_at=_at(today - timedelta(days=n % 20)),
        )
        for n in range(count)
    )
    TrainingRun.objects.bulk_create(
        TrainingRun(
            owner=users[0],
            lora_model=model,
            status=TrainingRun.Status.SUCCEEDED,
            metrics={"predict_time": 600},
            created_at=_at(today - timedelta(days=n % 20)),
        )
        for n in range(count)
    )
    CreditEntry.objects.bulk_create(
        CreditEntry(
            user=users[n % 5],
            kind="grant",
            amount=5,
            reason="Bulk",
            created_at=_at(today - timedelta(days=n % 20)),
        )
        for n in range(count)
    )


def _queries_for_dashboard(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_data(
    client, admin_user, today, django_assert_max_num_queries
):
    client.force_login(admin_user)
    _seed_many(10, today)
    few = _queries_for_dashboard(client)
    _seed_many(200, today)
    with django_assert_max_num_queries(few):
        response = client.get(URL)
    assert sum(day.started for day in response.context["board"].generations) == 210
    assert few <= 12, few  # the session, the user and 10 aggregate queries


def test_failure_texts_fall_under_readable_reasons():
    assert failure_reason_of(OUT_OF_MEMORY) == "Out of GPU memory"
    assert failure_reason_of(NSFW_MESSAGE) == "Unsafe content"
    assert failure_reason_of("Replicate, the service…, did not answer for too long") == (
        "Replicate did not answer"
    )
    assert failure_reason_of("The image service finished without any picture.") == (
        "No output stored"
    )
    assert failure_reason_of("Something odd") == "Other"
