"""The reminder outbox (filled in by the reminders work)."""

__all__: list[str] = []
