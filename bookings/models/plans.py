"""Care plans: templates, assignment, cadence and series booking."""

__all__: list[str] = []
