"""treatments models."""
