"""End-to-end: the real `gengo` command writes the medical model; DuckDB checks the data."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gengo.models import medical, resolve_model
from tests.helpers import connect, gen, integrity_problems, sha256_files
from tests.model_checks import differences_from_model

FORMATS = ["csv", "json", "parquet"]
MODEL = resolve_model("med")
SIZE = "0.005"
SEED = 5


@pytest.fixture(scope="session")
def med_datasets(tmp_path_factory):
    return {fmt: gen(tmp_path_factory.mktemp(f"med-{fmt}"), "medical", SIZE, fmt, SEED) for fmt in FORMATS}


@pytest.fixture(params=FORMATS)
def con(request, med_datasets):
    c = connect(med_datasets[request.param], request.param, "medical")
    c.execute("SET TimeZone = 'UTC'")
    return c


def test_keys_join_and_no_constant_column(con):
    assert integrity_problems(con, "medical") == []


def test_appointments_after_birth_on_weekdays_in_clinic_hours(con):
    bad = con.execute("""SELECT
            count(*) FILTER (WHERE a.appointment_date::DATE <= p.date_of_birth),
            count(*) FILTER (WHERE isodow(a.appointment_date) > 5),
            count(*) FILTER (WHERE hour(a.appointment_date) NOT BETWEEN 8 AND 17
                             OR minute(a.appointment_date) NOT IN (0, 15, 30, 45)
                             OR second(a.appointment_date) <> 0),
            count(*) FILTER (WHERE a.appointment_date < TIMESTAMPTZ '2020-01-01 00:00:00+00'
                             OR a.appointment_date >= TIMESTAMPTZ '2025-01-01 00:00:00+00')
        FROM fact_appointments a JOIN dim_patients p USING (patient_id)""").fetchone()
    assert bad == (0, 0, 0, 0)


def test_appointment_clinic_is_the_doctors_clinic(con):
    mismatch = con.execute("""SELECT count(*) FROM fact_appointments a JOIN dim_doctors d USING (doctor_id)
                              WHERE a.clinic_id <> d.clinic_id""").fetchone()[0]
    assert mismatch == 0
    staffed, clinics = con.execute("""SELECT (SELECT count(DISTINCT clinic_id) FROM dim_doctors),
                                             (SELECT count(*) FROM dim_clinics)""").fetchone()
    assert staffed == clinics


def test_some_patients_visit_far_more_often(con):
    patients, visiting, top_share, busiest, appointments = con.execute("""
        WITH c AS (SELECT patient_id, count(*) n FROM fact_appointments GROUP BY 1),
             r AS (SELECT n, row_number() OVER (ORDER BY n DESC) k FROM c)
        SELECT (SELECT count(*) FROM dim_patients), (SELECT count(*) FROM c),
               (SELECT sum(n) FROM r WHERE k <= (SELECT count(*) FROM dim_patients) / 10) / sum(c.n),
               max(c.n), sum(c.n) FROM c""").fetchone()
    assert top_share > 0.35, "the top 10% of patients should have a large share of appointments"
    assert visiting > 0.7 * patients, "most patients should have an appointment"
    assert busiest < 200, "even the busiest patient visits a plausible number of times"
    assert busiest > 5 * appointments / patients


def test_care_fits_the_patient(con):
    children_only, women_only, codes, one_description = con.execute("""SELECT
            count(*) FILTER (WHERE d.specialization = 'Pediatrics'
                             AND a.appointment_date::DATE >= p.date_of_birth + INTERVAL 18 YEAR),
            count(*) FILTER (WHERE (d.specialization = 'Obstetrics and Gynecology' OR a.diagnosis_code LIKE 'C50.91%')
                                   AND p.gender = 'male'
                             OR a.diagnosis_code IN ('C61', 'N40.0', 'N52.9') AND p.gender = 'female'),
            count(*) FILTER (WHERE NOT regexp_full_match(a.diagnosis_code, '[A-Z][0-9][0-9A-Z](\\.[0-9A-Z]{1,4})?')),
            (SELECT count(*) FROM (SELECT diagnosis_code FROM fact_appointments GROUP BY 1
                                   HAVING count(DISTINCT diagnosis) > 1))
        FROM fact_appointments a JOIN dim_patients p USING (patient_id) JOIN dim_doctors d USING (doctor_id)
    """).fetchone()
    assert children_only == 0
    assert women_only == 0
    assert codes == 0 and one_description == 0
    specs = con.execute("SELECT count(DISTINCT specialization) FROM dim_doctors").fetchone()[0]
    assert specs >= 10


def test_formats_hold_the_model_values(med_datasets):
    for fmt in FORMATS:
        c = connect(med_datasets[fmt], fmt, "medical")
        assert differences_from_model(c, med_datasets[fmt], "medical", SEED) == [], fmt


def test_parquet_types(med_datasets):
    schema = pq.read_schema(med_datasets["parquet"] / "fact_appointments.parquet")
    assert str(schema.field("appointment_date").type) == "timestamp[us, tz=UTC]"
    assert schema.names[:6] == [
        "appointment_id",
        "patient_id",
        "doctor_id",
        "clinic_id",
        "appointment_date",
        "diagnosis",
    ]
    assert (
        str(pq.read_schema(med_datasets["parquet"] / "dim_patients.parquet").field("date_of_birth").type)
        == "date32[day]"
    )
    assert pq.read_schema(med_datasets["parquet"] / "dim_doctors.parquet").names == [
        "doctor_id",
        "doctor_name",
        "specialization",
        "clinic_id",
    ]


def test_same_bytes_for_any_worker_count_and_chunking(tmp_path):
    runs = [
        ("w1", "--workers", "1"),
        ("w2", "--workers", "2", "--chunk-rows", "2999"),
        ("w2big", "--workers", "2", "--chunk-rows", "50000"),
    ]
    hashes = [sha256_files(gen(tmp_path / name, "medical", "0.002", "parquet", SEED, *extra)) for name, *extra in runs]
    assert hashes[0] == hashes[1] == hashes[2]


def test_chunks_are_independent():
    rows = MODEL.row_counts(30_000, 2)
    for t in MODEL.tables:
        n = rows[t.name]
        whole = t.generate(2, rows, np.arange(n))
        cuts = sorted({0, min(1, n), n // 3, min(n, n // 2 + 7), n})
        parts = [t.generate(2, rows, np.arange(a, b)) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
        assert pa.concat_tables(parts).equals(whole), t.name


def test_tiny_sizes_still_resolve_every_key():
    for scale in (1, 7, 40, 3000):
        rows = MODEL.row_counts(scale, 0)
        appts = MODEL.table(medical.APPOINTMENTS).generate(0, rows, np.arange(rows[medical.APPOINTMENTS]))
        assert max(appts["doctor_id"].to_pylist()) <= rows[medical.DOCTORS]
        assert max(appts["clinic_id"].to_pylist()) <= rows[medical.CLINICS]
        assert max(appts["patient_id"].to_pylist()) <= rows[medical.PATIENTS]
