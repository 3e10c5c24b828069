"""Push instead of polling: a user's events as signed webhooks and as a Server-Sent Events stream.

- `services.event_publish(user=, type=, data=)` is called by the apps where things happen (a
  training or generation ends, a picture is held or rejected, an export is ready).
- Webhooks follow Standard Webhooks: headers `webhook-id` (the event's id, the same on every
  retry), `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
  with the endpoint's `whsec_…` secret; any Standard Webhooks library verifies them. Delivery is
  the worker's (tasks.py), only to public addresses over https (http.py).
- `GET /api/v1/events/` streams the same events (stream.py).
"""
