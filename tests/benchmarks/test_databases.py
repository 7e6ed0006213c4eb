"""The benchmark never writes to the database it was pointed at."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.databases import bench_database_url, postgres_database_ensure, sqlite_database_remove


def test_embedded_default_gets_a_file_per_size_beside_not_instead_of_the_dev_database(tmp_path: Path) -> None:
    url = bench_database_url(base_url=None, size=20_000, data_dir=tmp_path)
    assert url == f"sqlite:///{tmp_path.resolve()}/bench-20000.sqlite3"
    assert "clinic.sqlite3" not in bench_database_url(
        base_url="sqlite:///var/clinic.sqlite3", size=1000, data_dir=tmp_path
    )


def test_postgres_gets_a_bench_database_per_size_on_the_same_server() -> None:
    base = "postgres://postgres@127.0.0.1:5432/clinic"
    assert bench_database_url(base_url=base, size=1000, data_dir=Path()) == (
        "postgres://postgres@127.0.0.1:5432/clinic_bench_1000"
    )
    assert bench_database_url(
        base_url="postgres://postgres@127.0.0.1:5432/clinic_bench", size=200_000, data_dir=Path()
    ) == ("postgres://postgres@127.0.0.1:5432/clinic_bench_200000")


def test_only_benchmark_databases_are_ever_dropped(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a benchmark database"):
        postgres_database_ensure("postgres://postgres@127.0.0.1:5432/clinic", recreate=True)
    real = tmp_path / "clinic.sqlite3"
    real.write_text("precious")
    with pytest.raises(ValueError, match="not a benchmark database"):
        sqlite_database_remove(str(real))
    assert real.read_text() == "precious"
