"""Admin for the reminder outbox."""
