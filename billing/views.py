"""The Buy credits page and a purchase's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.selectors import credit_balance
from core.exceptions import DomainError

from . import selectors, services


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def credits_buy(request):
    enabled = selectors.payments_enabled()
    if request.method == "POST" and enabled:
        try:
            pack = selectors.credit_pack_get(pack_id=request.POST.get("pack", ""))
            _purchase, checkout_url = services.purchase_start(user=request.user, pack=pack)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("billing:buy")
        return redirect(checkout_url)  # Stripe's payment page
    if request.method == "POST":
        messages.error(
            request, "Payments are not set up here: credits come from the administrator."
        )
        return redirect("billing:buy")
    if request.GET.get("canceled"):
        messages.info(request, "Payment canceled: nothing was charged.")
    return render(
        request,
        "billing/buy.html",
        {
            "payments_enabled": enabled,
            "packs": list(selectors.credit_pack_list()) if enabled else [],
            "balance": credit_balance(user=request.user),
            "purchases": list(selectors.purchase_list(user=request.user)[:10]),
        },
    )


@login_required
@never_cache
@require_GET
def purchase_detail(request, purchase_id):
    purchase = selectors.purchase_get(user=request.user, purchase_id=purchase_id)
    return render(
        request,
        "billing/purchase.html",
        {"purchase": purchase, "balance": credit_balance(user=request.user)},
    )
