"""The operator dashboard (/staff/dashboard/): charts of the last 7, 30 or 90 days, for the
whole site or for one user (?user=<public id>).

Administrators only, the same people the admin lets in (accounts.admin): anyone else signed
in gets the 404 page, so the page does not say it exists; anonymous visitors are sent to
sign in. Reading is `selectors.dashboard_get`; drawing is `charts`.
"""

import functools

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.admin import admin_site_has_permission

from . import charts, selectors


class DashboardQueryForm(forms.Form):
    days = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(str(days), f"{days} days") for days in settings.OPERATIONS_DASHBOARD_PERIODS],
        error_messages={"invalid_choice": "Choose a period of 7, 30 or 90 days."},
    )
    user = forms.UUIDField(
        required=False, error_messages={"invalid": "The user must be a user's public id."}
    )


def administrators_only(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not admin_site_has_permission(request):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _job_chart(title: str, days: list[selectors.JobDay]):
    return charts.line_chart(
        title=title,
        days=[day.day for day in days],
        series=[
            charts.Series("Started", [day.started for day in days]),
            charts.Series("Succeeded", [day.succeeded for day in days]),
            charts.Series("Failed", [day.failed for day in days]),
        ],
    )


def _charts(dashboard: selectors.Dashboard) -> dict:
    dates = dashboard.period.dates
    costs = dashboard.costs
    return {
        "trainings": _job_chart("Trainings per day", dashboard.trainings),
        "generations": _job_chart("Generations per day", dashboard.generations),
        "failures": charts.bar_chart(
            title="Failures by reason",
            bars=[(reason, t + g) for reason, t, g in dashboard.failures],
        ),
        "credits": charts.line_chart(
            title="Credits per day",
            days=dates,
            series=[
                charts.Series("Granted", [day.granted for day in dashboard.credits]),
                charts.Series("Spent", [day.spent for day in dashboard.credits]),
                charts.Series("Refunded", [day.refunded for day in dashboard.credits]),
            ],
        ),
        "gpu": charts.line_chart(
            title="Replicate GPU seconds per day",
            days=dates,
            series=[
                charts.Series("Trainings", [round(day.training_seconds, 1) for day in costs]),
                charts.Series("Generations", [round(day.generation_seconds, 1) for day in costs]),
            ],
        ),
        "cost": charts.line_chart(
            title="Estimated Replicate cost per day (US dollars)",
            days=dates,
            series=[
                charts.Series("Trainings", [round(float(d.training_cost), 2) for d in costs]),
                charts.Series("Generations", [round(float(d.generation_cost), 2) for d in costs]),
            ],
        ),
        "review": charts.line_chart(
            title="Review queue per day",
            days=dates,
            series=[
                charts.Series("Held for review", [day.held for day in dashboard.review_days]),
                charts.Series("Reported", [day.reported for day in dashboard.review_days]),
                charts.Series("Decided", [day.decided for day in dashboard.review_days]),
            ],
        )
        if dashboard.review_days
        else None,
        "top_generators": charts.bar_chart(
            title="Most generations",
            bars=[(user.email, user.count) for user in dashboard.top_generators],
        ),
        "top_spenders": charts.bar_chart(
            title="Most credits spent",
            bars=[(user.email, user.count) for user in dashboard.top_spenders],
        ),
    }


@never_cache
@require_GET
@administrators_only
def dashboard(request):
    form = DashboardQueryForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "periods": settings.OPERATIONS_DASHBOARD_PERIODS}
        return render(request, "operations/dashboard_error.html", context, status=400)
    days = form.cleaned_data["days"] or settings.OPERATIONS_DASHBOARD_DEFAULT_DAYS
    user = None
    if form.cleaned_data["user"] is not None:
        user = selectors.dashboard_user_get(public_id=form.cleaned_data["user"])
        if user is None:
            raise Http404("No such user.")
    board = selectors.dashboard_get(days=days, user=user)
    context = {
        "board": board,
        "charts": _charts(board),
        "days": days,
        "periods": settings.OPERATIONS_DASHBOARD_PERIODS,
        "training_price": settings.REPLICATE_TRAINING_GPU_PRICE_PER_SECOND,
        "prediction_price": settings.REPLICATE_PREDICTION_GPU_PRICE_PER_SECOND,
    }
    return render(request, "operations/dashboard.html", context)
