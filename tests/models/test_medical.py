"""End-to-end: the real `gengo` command writes the medical model; DuckDB checks the data."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gengo.core.errors import GengoError
from gengo.models import medical, resolve_model
from tests.helpers import connect, gen
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


# Clinic hours in the clinic's zone, appointments after birth, no doctor double-booked and no patient
# in two places are declared checks of the model (tests/models/test_contract.py).


def test_times_are_utc_instants_of_local_clinic_hours(med_datasets):
    """Not wall-clock hours labelled UTC, by fixed offsets rather than DuckDB's zone rules: New York's
    08:00-17:45 is 13:00-22:45 UTC in winter, an hour earlier in summer (daylight saving time), Chicago's
    an hour later."""
    con = connect(med_datasets["parquet"], "parquet", "medical")
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute("""SELECT c.time_zone, month(a.appointment_date) = 1,
                                 min(hour(a.appointment_date)), max(hour(a.appointment_date))
                          FROM fact_appointments a JOIN dim_clinics c USING (clinic_id)
                          WHERE month(a.appointment_date) IN (1, 7)
                            AND c.time_zone IN ('America/New_York', 'America/Chicago')
                          GROUP BY ALL""").fetchall()
    first_hour = {"America/New_York": 12, "America/Chicago": 13}  # 08:00 in July
    expected = {(zone, winter): (h + winter, h + winter + 9) for zone, h in first_hour.items() for winter in (0, 1)}
    assert {(zone, int(winter)): (lo, hi) for zone, winter, lo, hi in rows} == expected


# Single-zone states (the others span two zones; the clinic's ZIP code decides there).
_STATE_ZONES = {
    "CA": "America/Los_Angeles",
    "WA": "America/Los_Angeles",
    "NV": "America/Los_Angeles",
    "NY": "America/New_York",
    "PA": "America/New_York",
    "NJ": "America/New_York",
    "NC": "America/New_York",
    "GA": "America/New_York",
    "OH": "America/New_York",
    "VA": "America/New_York",
    "MA": "America/New_York",
    "IL": "America/Chicago",
    "MO": "America/Chicago",
    "MN": "America/Chicago",
    "WI": "America/Chicago",
    "IA": "America/Chicago",
    "LA": "America/Chicago",
    "CO": "America/Denver",
    "UT": "America/Denver",
    "HI": "Pacific/Honolulu",
}


def test_clinic_time_zone_is_its_states(med_datasets):
    con = connect(med_datasets["parquet"], "parquet", "medical")
    rows = con.execute("""SELECT regexp_extract(address, ', ([A-Z]{2}) [0-9]{5}$', 1), time_zone
                          FROM dim_clinics""").fetchall()
    checked = [(state, zone) for state, zone in rows if state in _STATE_ZONES]
    assert len(checked) > len(rows) / 3
    assert [(s, z) for s, z in checked if _STATE_ZONES[s] != z] == []
    assert all(zone.startswith(("America/", "Pacific/")) for _, zone in rows)


def test_no_double_booking_at_a_larger_size():
    """Two million appointments in memory: the layout, not luck, keeps doctors and patients apart."""
    rows = MODEL.row_counts(2_000_000, 11)
    t = MODEL.table(medical.APPOINTMENTS).generate(11, rows, np.arange(rows[medical.APPOINTMENTS]))
    doctor = t["doctor_id"].to_numpy()
    patient = t["patient_id"].to_numpy()
    when = t["appointment_date"].cast(pa.int64()).to_numpy() // 1_000_000
    assert len(np.unique(doctor * (1 << 31) + (when - when.min()) // 60)) == len(t)
    order = np.lexsort((when, patient))
    same_patient = patient[order][1:] == patient[order][:-1]
    gap = np.diff(when[order])
    assert not (same_patient & (gap < 8 * 3600)).any(), "a patient has two appointments within 8 hours"


def test_row_counts_always_leave_room_for_the_busiest_day():
    sizes = np.unique(np.geomspace(1, 5e8, 400).astype(np.int64))
    for scale in sizes:
        rows = MODEL.row_counts(int(scale), 3)
        MODEL.table(medical.APPOINTMENTS).generate(3, rows, np.arange(min(5, rows[medical.APPOINTMENTS])))


def test_counts_that_cannot_avoid_double_booking_are_refused():
    rows = {medical.PATIENTS: 200_000, medical.DOCTORS: 1, medical.CLINICS: 1, medical.APPOINTMENTS: 1_000_000}
    with pytest.raises(GengoError, match="double-booking"):
        MODEL.table(medical.APPOINTMENTS).generate(0, rows, np.arange(10))
    rows = {medical.PATIENTS: 10, medical.DOCTORS: 2000, medical.CLINICS: 10, medical.APPOINTMENTS: 1_000_000}
    with pytest.raises(GengoError, match="too few"):
        MODEL.table(medical.APPOINTMENTS).generate(0, rows, np.arange(10))


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
    assert pq.read_schema(med_datasets["parquet"] / "dim_clinics.parquet").names == [
        "clinic_id",
        "clinic_name",
        "address",
        "city",
        "time_zone",
    ]


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


def test_huge_sizes_keep_their_keys_in_range():
    """Beyond three billion patients the line's permutation is still inverted exactly (no int64 overflow)."""
    rows = MODEL.row_counts(20_000_000_000, 1)
    assert rows[medical.PATIENTS] > 3_000_000_000
    idx = np.arange(rows[medical.APPOINTMENTS] - 1000, rows[medical.APPOINTMENTS])
    appts = MODEL.table(medical.APPOINTMENTS).generate(1, rows, idx)
    patient = np.array(appts["patient_id"].to_pylist()) - 1
    assert patient.min() >= 0 and patient.max() < rows[medical.PATIENTS]
    born = medical.patient_birth_day(1, rows[medical.PATIENTS], patient)
    when = np.array(appts["appointment_date"].cast(pa.int64()).to_pylist()) // 86_400_000_000
    assert (born < when).all()


# --- names: Spanish names of Hispanic patients, doctors and clinic founders (issue 20, item 15) ------


def _spanish_full_names(female: bool | None) -> set[str]:
    """Every "First Last" from Faker's es_MX lists (female, male, or either first names)."""
    from faker.providers.person.es_MX import Provider

    firsts = {True: Provider.first_names_female, False: Provider.first_names_male}
    pool = firsts[female] if female is not None else (*firsts[True], *firsts[False])
    return {f"{f} {last}" for f in pool for last in Provider.last_names}


def test_a_fifth_of_patients_have_spanish_names_of_their_sex(med_datasets):
    """18.7 % of US residents are Hispanic or Latino (2020 census): their names come from Faker's es_MX lists."""
    con = connect(med_datasets["parquet"], "parquet", "medical")
    rows = con.execute("SELECT patient_name, gender = 'female' FROM dim_patients").fetchall()
    female, male = _spanish_full_names(True), _spanish_full_names(False)
    spanish = [(name, f) for name, f in rows if name in female or name in male]
    assert 0.17 < len(spanish) / len(rows) < 0.22, len(spanish) / len(rows)
    of_their_sex = sum(name in (female if f else male) for name, f in spanish)
    assert of_their_sex / len(spanish) > 0.99
    accented = [name for name, _ in spanish if not name.isascii()]
    assert len(accented) > 0.25 * len(spanish), accented[:5]  # José, María, Peña, Núñez ...


def test_doctors_and_clinic_founders_are_hispanic_as_often_as_their_states_doctors():
    """Spanish names among doctors and clinics follow the clinic's state: far more in New Mexico, Texas or
    California than in Maine or West Virginia."""
    import re

    from faker.providers.person.es_MX import Provider

    rows = {medical.PATIENTS: 1, medical.DOCTORS: 60_000, medical.CLINICS: 3_000, medical.APPOINTMENTS: 1}
    clinics = MODEL.table(medical.CLINICS).generate(4, rows, np.arange(rows[medical.CLINICS]))
    doctors = MODEL.table(medical.DOCTORS).generate(4, rows, np.arange(rows[medical.DOCTORS]))
    state = [re.search(r", ([A-Z]{2}) \d{5}$", a).group(1) for a in clinics["address"].to_pylist()]
    high, low = {"NM", "TX", "CA", "AZ", "NV", "FL"}, {"ME", "VT", "WV", "KY", "MS", "OH", "MT", "ND", "NH"}
    spanish = _spanish_full_names(None)
    share: dict[str, list[bool]] = {"high": [], "low": [], "all": []}
    for name, clinic in zip(doctors["doctor_name"].to_pylist(), doctors["clinic_id"].to_pylist(), strict=True):
        hispanic = name.removeprefix("Dr. ") in spanish
        share["all"].append(hispanic)
        group = "high" if state[clinic - 1] in high else "low" if state[clinic - 1] in low else None
        if group:
            share[group].append(hispanic)
    mean = {k: float(np.mean(v)) for k, v in share.items()}
    assert min(len(share["high"]), len(share["low"])) > 1_000, {k: len(v) for k, v in share.items()}
    assert 0.09 < mean["high"] < 0.2 and mean["low"] < 0.04 and 0.03 < mean["all"] < 0.09, mean
    assert mean["high"] > 3 * mean["low"], mean
    # Clinics named after a doctor ("Peña Family Clinic", "Ortiz & Núñez Medical Associates") likewise.
    from faker.providers.person.en_US import Provider as English

    surnames = set(Provider.last_names) - set(English.last_names)  # not Garcia or Cruz, which en_US has too
    founders = {"high": [], "low": []}
    for name, st in zip(clinics["clinic_name"].to_pylist(), state, strict=True):
        lead = re.match(r"(.+?) (Family Clinic|Medical Group|& )", name)
        group = "high" if st in high else "low" if st in low else None
        if lead and group:
            founders[group].append(lead.group(1) in surnames)
    founder = {k: float(np.mean(v)) for k, v in founders.items()}
    assert founder["high"] > 3 * founder["low"] and founder["high"] > 0.05, founder
