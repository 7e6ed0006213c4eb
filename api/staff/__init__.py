"""The staff part of the REST API (issue 18): day list, patient search, session logs, care plans, outcomes."""
