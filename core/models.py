from django.db import models


class WebhookDelivery(models.Model):
    """Each Replicate webhook message we accepted, by its `webhook-id`.

    The unique constraint is what makes a replayed or retried delivery a no-op.
    """

    webhook_id = models.CharField(max_length=200, unique=True)
    remote_id = models.CharField(max_length=100, db_index=True)
    remote_status = models.CharField(max_length=20)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.webhook_id} ({self.remote_id} {self.remote_status})"
