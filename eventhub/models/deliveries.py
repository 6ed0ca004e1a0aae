"""Webhook deliveries already applied, so that a replay or a provider's retry is not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class WebhookDelivery(db.Model):
    """One applied delivery: the provider and the SHA-256 of the signed body it sent.

    Zoom signs the body with its event and ``event_ts``; its retries resend the same body, and
    a replay is the same body again, so the digest identifies the delivery.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("provider", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.provider} {self.digest[:8]}>"
