"""Instagram -> us: the callback route (handshake, signature over the raw body), the stored
events, and their processing in a task. Independent of `webhooks/` (us -> the CMS)."""
