"""Admin for appointments and schedules."""
