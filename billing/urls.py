"""Billing: the Buy credits page, a purchase's page, and Stripe's webhook."""

from django.urls import path

from . import views, webhooks

app_name = "billing"

urlpatterns = [
    path("credits/buy/", views.credits_buy, name="buy"),
    path("credits/purchases/<uuid:purchase_id>/", views.purchase_detail, name="purchase"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
]
