"""Admin for plan templates and care plans."""
