import datetime as dt
from pathlib import Path

import pytest

from loandocs.extractor import Pipeline, PipelineOptions, get_engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "idcards"
# The sample set's ground truth is judged as of this day (validity, age).
SAMPLE_DATE = dt.date(2026, 11, 29)


@pytest.fixture(scope="session")
def engine():
    return get_engine()


@pytest.fixture(scope="session")
def pipeline(engine):
    return Pipeline(PipelineOptions(application_date=SAMPLE_DATE), engine=engine)
