"""The `medical` model: patients, doctors, clinics and appointments (MODELS.md section 2.4).

Patients: gender 52 % female / 48 % male with a first name of that gender (Faker's weighted
US name lists, or for 18.7 % of them Spanish ones: es_MX); date of birth a DATE, birth years
1930-2023 weighted like a population (few before 1950, flat after). Doctors: "Dr. First
Last", 16 specializations assigned by exact quota over a permuted rank (roughly the US
physician workforce: general practice 23 %, internal medicine 13 %, ...; every specialization
has a doctor once there are 16 doctors),
and a clinic (appended ``clinic_id``): doctor ``k < clinics`` opens clinic ``perm(k)`` so
every clinic has a doctor, the others join clinics by a Zipf-like law (exponent 0.5), so
clinic sizes vary. Clinics: a name built from a last name or the clinic's city, a US street
address ("<number> <street>, <city>, <ST> <zip>"), plus appended ``city`` and ``time_zone``
(the IANA zone of the nearest real ZIP code of the state: ``vocab.locality_zones``). Doctors,
and the doctors clinics are named after, have Spanish names at a third of the Hispanic share of
their clinic's state (``hispanic_doctor``).

Appointments are laid out day by day, so that no doctor has two patients in one slot and no
patient is in two places at once, while every row stays a pure function of its id:

* Days. Appointment ids follow the calendar: each weekday of 2020-01-01 .. 2024-12-31 (local
  time) holds a share of the appointments set by a weight (Mondays busiest, Fridays quietest,
  winter busier than summer, a few per cent of noise from day to day); an exact cumulative
  table of 1,306 integers per process gives an appointment's day and its index ``j`` in the day.
* Patients. A day's ``m`` appointments are the points ``(o + j) * W / m`` (a random offset
  ``o`` per day) on a line of patient segments of total length ``W``: systematic sampling, so
  a patient's chance of a visit on a day is proportional to the segment's length, and since no
  segment is as long as the spacing, a patient has at most one appointment a day (08:00-18:00
  local in any US zone never overlaps another day's hours). Patients born before the window
  have lengths by activity rank ``x`` in [0, 1) proportional to ``1 / (x + 0.02)``, read by a
  closed-form inverse CDF: the busiest about 13x the mean (about 65 visits in five years), the
  top 10 % about 46 % of appointments, about one patient in ten none (ranks scattered over the
  ids by a permutation; a Zipf law would give the top patient a share that grows with the
  size). The patients born in 2020-2023 (about 4.6 %) follow on the line in birth order, born
  on evenly spaced days, so on each day exactly those already born are on it; each is twice as
  active as the average patient (well-baby visits).
* Specialization. The point's position inside its patient's segment is a uniform draw that
  picks the specialization by the patient's age band at the visit (under 5, 5-17, 18-44, 45+)
  and sex (children see pediatrics, only women see obstetrics and gynecology, a child under 5
  no psychiatrist, neurologist or orthopedist, ...), among the
  specializations that have doctors. The diagnosis is a real ICD-10-CM code with its official
  description (appended ``diagnosis_code`` column), drawn from a curated list per
  specialization that respects age band and sex (no prostate cancer for women, no well-child
  visit for adults, no acne, migraine, ADHD or depression under 5).
* Doctor and slot. A doctor has 33 bookable quarter-hours a day between 08:00 and 17:45,
  fewer at lunch and late in the afternoon (which quarters of a part-booked hour rotates per
  doctor and day). The (doctor, quarter) cells of a specialization are numbered, and the
  ``j``-th appointment of a day takes cell ``perm((j + shift) mod cells)`` (``shift`` per day
  and specialization): a bijection, so one day's appointments never share a doctor's slot. The
  doctor is uniform among those of the specialization; the clinic is the doctor's clinic. It
  needs a day's appointments to fit in the smallest staffed specialization's cells:
  ``row_counts`` adds doctors at the few sizes where rounding would break it.
* Time. The slot is wall-clock time at the clinic; it is stored as the UTC instant through the
  clinic's zone, daylight saving time included (``gengo.core.timezones``), as TIMESTAMP(us, UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gengo.core import fmath, rand, timezones, vocab
from gengo.core.arrays import date_from_days, join, take, timestamp_from_seconds, to_text
from gengo.core.errors import GengoError
from gengo.core.schema import BatchContext, Check, ChunkContext, Column, Model, Table, TableChanges
from gengo.models._quota import group_of, invert, quota, starts

PATIENTS, DOCTORS, CLINICS, APPOINTMENTS = "dim_patients", "dim_doctors", "dim_clinics", "fact_appointments"

ID = pa.int64()
TIMESTAMP = pa.timestamp("us", tz="UTC")

PATIENT_FLOOR = 0.02  # activity density 1 / (x + PATIENT_FLOOR) over the activity rank x in [0, 1)
CLINIC_EXPONENT = 0.5
FEMALE_SHARE = 0.52
WINDOW_START = int(np.datetime64("2020-01-01").astype(np.int64))  # days since 1970-01-01
WINDOW_END = int(np.datetime64("2024-12-31").astype(np.int64))  # inclusive
OPEN_HOUR = 8
# Bookable quarter-hours per doctor in each hour 08:00 .. 17:00: fewer at lunch and at the end.
_QUARTERS = np.array([3, 4, 4, 4, 2, 3, 4, 4, 3, 2])
SLOTS = int(_QUARTERS.sum())  # per doctor and day
_SLOT_HOUR = np.repeat(np.arange(len(_QUARTERS)), _QUARTERS)
_SLOT_QUARTER = np.concatenate([np.arange(q) for q in _QUARTERS])
# Day weights: Monday .. Friday, and January .. December (flu season busy, summer quiet).
_WEEKDAY_WEIGHTS = np.array([1.15, 1.05, 1.0, 1.0, 0.8])
_MONTH_WEIGHTS = np.array([1.12, 1.1, 1.04, 1.0, 0.97, 0.92, 0.86, 0.9, 1.0, 1.04, 1.02, 0.95])
_DAY_NOISE = 0.06  # log-normal sigma of a day's weight

# Hispanic or Latino people are 18.7 % of the US population (2020 census). Patients have no address,
# so that share of them, anywhere, carry Spanish names (Faker es_MX: José, María, Peña, Núñez).
HISPANIC_SHARE = 0.187
# Doctors, and the doctors clinics are named after, are Hispanic at about a third of their clinic's
# state's population share: 6.9 % of active US physicians are (AAMC, 2022) against 18.7 % of people.
PHYSICIAN_FACTOR = 6.9 / 18.7
# Hispanic or Latino share of each state's population, per cent (2020 census, rounded).
_HISPANIC_PERCENT = {
    "Alabama": 5, "Alaska": 7, "Arizona": 31, "Arkansas": 9, "California": 39, "Colorado": 22, "Connecticut": 17,
    "Delaware": 10, "Florida": 26, "Georgia": 10, "Hawaii": 11, "Idaho": 13, "Illinois": 18, "Indiana": 8,
    "Iowa": 7, "Kansas": 13, "Kentucky": 5, "Louisiana": 7, "Maine": 2, "Maryland": 12, "Massachusetts": 13,
    "Michigan": 6, "Minnesota": 6, "Mississippi": 4, "Missouri": 5, "Montana": 4, "Nebraska": 12, "Nevada": 29,
    "New Hampshire": 4, "New Jersey": 22, "New Mexico": 47, "New York": 19, "North Carolina": 11,
    "North Dakota": 4, "Ohio": 4, "Oklahoma": 12, "Oregon": 14, "Pennsylvania": 8, "Rhode Island": 17,
    "South Carolina": 7, "South Dakota": 5, "Tennessee": 7, "Texas": 39, "Utah": 15, "Vermont": 2,
    "Virginia": 11, "Washington": 14, "West Virginia": 2, "Wisconsin": 8, "Wyoming": 10,
}  # fmt: skip
_ES_MX = vocab.NAME_LOCALES.index("es_MX")

_BIRTH_YEARS = np.arange(1930, 2024)
_BIRTH_YEAR_WEIGHTS = np.interp(_BIRTH_YEARS, [1930, 1950, 2023], [0.15, 1.0, 0.95])
_YEAR_START = np.array([np.datetime64(f"{y}-01-01") for y in (*_BIRTH_YEARS, 2024)]).astype(np.int64)
_YEAR_LENGTH = np.diff(_YEAR_START)
# Patients born inside the window (2020-2023) are laid out in birth order; the others are not.
_OLD_YEARS = int((_BIRTH_YEARS < 2020).sum())
BABY_SHARE = float(_BIRTH_YEAR_WEIGHTS[_OLD_YEARS:].sum() / _BIRTH_YEAR_WEIGHTS.sum())
BABY_ACTIVITY = 2.0  # visits of a baby per day, relative to the average patient born before 2020
_BABY_SPAN = int(_YEAR_START[-1] - WINDOW_START)  # days on which babies are born

SPECIALIZATIONS = (
    "General Practice",
    "Internal Medicine",
    "Pediatrics",
    "Cardiology",
    "Neurology",
    "Oncology",
    "Dermatology",
    "Orthopedics",
    "Obstetrics and Gynecology",
    "Psychiatry",
    "Ophthalmology",
    "Otolaryngology",
    "Gastroenterology",
    "Endocrinology",
    "Pulmonology",
    "Urology",
)
_S = len(SPECIALIZATIONS)
_DOCTOR_SHARES = np.array([22, 12, 9, 5, 3, 3, 4, 5, 6, 6, 4, 3, 4, 2, 3, 3], dtype=np.float64)
# Share of visits per specialization for (age band, sex): rows under 5 F, under 5 M, 5-17 F,
# 5-17 M, 18-44 F, 18-44 M, 45+ F, 45+ M. Under 5: the pediatrician, and skin, eye and ear doctors.
_VISIT_WEIGHTS = np.array(
    [
        [0, 0, 92, 0, 0, 0, 2, 0, 0, 0, 1, 5, 0, 0, 0, 0],
        [0, 0, 92, 0, 0, 0, 2, 0, 0, 0, 1, 5, 0, 0, 0, 0],
        [0, 0, 85, 0, 1, 0, 4, 2, 0, 3, 3, 5, 0, 0, 0, 0],
        [0, 0, 85, 0, 1, 0, 4, 2, 0, 3, 3, 5, 0, 0, 0, 0],
        [30, 12, 0, 2, 4, 1, 6, 6, 14, 9, 3, 4, 4, 3, 2, 1],
        [30, 12, 0, 3, 4, 1, 6, 7, 0, 8, 3, 4, 4, 3, 2, 3],
        [25, 15, 0, 10, 4, 5, 5, 8, 5, 4, 6, 3, 6, 5, 5, 2],
        [25, 15, 0, 12, 4, 5, 5, 7, 0, 3, 6, 3, 6, 5, 5, 7],
    ],
    dtype=np.float64,
)

# specialization key (_SPEC_KEYS) | ICD-10-CM code | official description | weight
# | age bands allowed (0: under 18, 1: 18-44, 2: 45+; under 18 splits at 5, ``_NOT_UNDER_5``) | sex (A any, F, M)
_DIAGNOSES_TEXT = """
GP|Z00.00|Encounter for general adult medical examination without abnormal findings|12|12|A
GP|J06.9|Acute upper respiratory infection, unspecified|10|012|A
GP|I10|Essential (primary) hypertension|9|12|A
GP|E11.9|Type 2 diabetes mellitus without complications|6|12|A
GP|E78.5|Hyperlipidemia, unspecified|6|12|A
GP|J02.9|Acute pharyngitis, unspecified|4|012|A
GP|M54.9|Dorsalgia, unspecified|5|12|A
GP|J20.9|Acute bronchitis, unspecified|3|012|A
GP|N39.0|Urinary tract infection, site not specified|3|012|A
GP|R10.9|Unspecified abdominal pain|2|012|A
GP|Z23|Encounter for immunization|4|012|A
GP|F41.1|Generalized anxiety disorder|2|12|A
GP|E66.9|Obesity, unspecified|2|12|A
IM|I10|Essential (primary) hypertension|8|12|A
IM|E11.9|Type 2 diabetes mellitus without complications|6|12|A
IM|E78.5|Hyperlipidemia, unspecified|6|12|A
IM|E03.9|Hypothyroidism, unspecified|3|12|A
IM|D64.9|Anemia, unspecified|2|12|A
IM|K21.9|Gastro-esophageal reflux disease without esophagitis|3|12|A
IM|J45.909|Unspecified asthma, uncomplicated|2|12|A
IM|E55.9|Vitamin D deficiency, unspecified|2|12|A
IM|N18.30|Chronic kidney disease, stage 3 unspecified|2|2|A
IM|Z00.00|Encounter for general adult medical examination without abnormal findings|6|12|A
PED|Z00.129|Encounter for routine child health examination without abnormal findings|14|0|A
PED|J06.9|Acute upper respiratory infection, unspecified|8|0|A
PED|H66.90|Otitis media, unspecified, unspecified ear|6|0|A
PED|J02.0|Streptococcal pharyngitis|3|0|A
PED|Z23|Encounter for immunization|6|0|A
PED|J45.909|Unspecified asthma, uncomplicated|2|0|A
PED|L20.9|Atopic dermatitis, unspecified|2|0|A
PED|F90.0|Attention-deficit hyperactivity disorder, predominantly inattentive type|1|0|A
PED|R50.9|Fever, unspecified|3|0|A
PED|A08.4|Viral intestinal infection, unspecified|2|0|A
PED|B34.9|Viral infection, unspecified|2|0|A
CAR|I10|Essential (primary) hypertension|6|12|A
CAR|I25.10|Atherosclerotic heart disease of native coronary artery without angina pectoris|5|2|A
CAR|I48.91|Unspecified atrial fibrillation|4|2|A
CAR|I50.9|Heart failure, unspecified|3|2|A
CAR|R07.9|Chest pain, unspecified|4|12|A
CAR|E78.5|Hyperlipidemia, unspecified|3|12|A
CAR|I49.9|Cardiac arrhythmia, unspecified|2|12|A
CAR|R00.2|Palpitations|2|12|A
CAR|I35.0|Nonrheumatic aortic (valve) stenosis|1|2|A
NEU|G43.909|Migraine, unspecified, not intractable, without status migrainosus|6|012|A
NEU|G40.909|Epilepsy, unspecified, not intractable, without status epilepticus|3|012|A
NEU|G44.209|Tension-type headache, unspecified, not intractable|3|012|A
NEU|G30.9|Alzheimer's disease, unspecified|2|2|A
NEU|G35|Multiple sclerosis|1|12|A
NEU|G47.00|Insomnia, unspecified|2|12|A
NEU|G62.9|Polyneuropathy, unspecified|2|2|A
NEU|G56.00|Carpal tunnel syndrome, unspecified upper limb|2|12|A
NEU|R42|Dizziness and giddiness|2|12|A
ONC|C50.911|Malignant neoplasm of unspecified site of right female breast|3|12|F
ONC|C50.912|Malignant neoplasm of unspecified site of left female breast|3|12|F
ONC|C34.90|Malignant neoplasm of unspecified part of unspecified bronchus or lung|3|2|A
ONC|C61|Malignant neoplasm of prostate|4|2|M
ONC|C18.9|Malignant neoplasm of colon, unspecified|2|2|A
ONC|C43.9|Malignant melanoma of skin, unspecified|1|12|A
ONC|C85.90|Non-Hodgkin lymphoma, unspecified, unspecified site|1|12|A
ONC|C67.9|Malignant neoplasm of bladder, unspecified|1|2|A
ONC|C25.9|Malignant neoplasm of pancreas, unspecified|1|2|A
ONC|D50.9|Iron deficiency anemia, unspecified|1|12|A
ONC|Z51.11|Encounter for antineoplastic chemotherapy|4|12|A
DER|L70.0|Acne vulgaris|5|01|A
DER|L20.9|Atopic dermatitis, unspecified|3|012|A
DER|L40.0|Psoriasis vulgaris|3|12|A
DER|L57.0|Actinic keratosis|3|2|A
DER|L82.1|Other seborrheic keratosis|2|2|A
DER|B07.9|Viral wart, unspecified|2|012|A
DER|L30.9|Dermatitis, unspecified|2|012|A
DER|C44.91|Basal cell carcinoma of skin, unspecified|1|2|A
DER|L71.9|Rosacea, unspecified|1|12|A
DER|D22.9|Melanocytic nevi, unspecified|2|012|A
ORT|M17.11|Unilateral primary osteoarthritis, right knee|3|2|A
ORT|M17.0|Bilateral primary osteoarthritis of knee|2|2|A
ORT|M75.100|Unspecified rotator cuff tear or rupture of unspecified shoulder, not specified as traumatic|2|12|A
ORT|M54.9|Dorsalgia, unspecified|3|12|A
ORT|S93.401A|Sprain of unspecified ligament of right ankle, initial encounter|2|012|A
ORT|S52.501A|Unspecified fracture of the lower end of right radius, initial encounter for closed fracture|1|012|A
ORT|M25.561|Pain in right knee|3|012|A
ORT|M81.0|Age-related osteoporosis without current pathological fracture|2|2|A
OBG|Z34.90|Encounter for supervision of normal pregnancy, unspecified, unspecified trimester|5|1|F
OBG|Z01.419|Encounter for gynecological examination (general) (routine) without abnormal findings|6|12|F
OBG|N92.0|Excessive and frequent menstruation with regular cycle|2|1|F
OBG|N95.1|Menopausal and female climacteric states|3|2|F
OBG|N76.0|Acute vaginitis|2|12|F
OBG|E28.2|Polycystic ovarian syndrome|2|1|F
OBG|Z30.011|Encounter for initial prescription of contraceptive pills|2|1|F
OBG|D25.9|Leiomyoma of uterus, unspecified|2|12|F
PSY|F32.9|Major depressive disorder, single episode, unspecified|5|012|A
PSY|F41.1|Generalized anxiety disorder|5|012|A
PSY|F41.9|Anxiety disorder, unspecified|2|012|A
PSY|F33.1|Major depressive disorder, recurrent, moderate|3|12|A
PSY|F90.0|Attention-deficit hyperactivity disorder, predominantly inattentive type|2|012|A
PSY|F31.9|Bipolar disorder, unspecified|2|12|A
PSY|F43.10|Post-traumatic stress disorder, unspecified|2|12|A
PSY|F20.9|Schizophrenia, unspecified|1|12|A
PSY|F42.2|Mixed obsessional thoughts and acts|1|012|A
PSY|F10.20|Alcohol dependence, uncomplicated|1|12|A
OPH|H52.13|Myopia, bilateral|4|012|A
OPH|H25.9|Unspecified age-related cataract|4|2|A
OPH|H40.9|Unspecified glaucoma|2|2|A
OPH|H35.30|Unspecified macular degeneration|2|2|A
OPH|H04.123|Dry eye syndrome of bilateral lacrimal glands|3|12|A
OPH|H10.9|Unspecified conjunctivitis|2|012|A
OPH|H52.4|Presbyopia|3|2|A
ENT|J01.90|Acute sinusitis, unspecified|4|012|A
ENT|J32.9|Chronic sinusitis, unspecified|3|12|A
ENT|H66.90|Otitis media, unspecified, unspecified ear|3|012|A
ENT|J35.01|Chronic tonsillitis|2|012|A
ENT|H61.23|Impacted cerumen, bilateral|3|012|A
ENT|H90.3|Sensorineural hearing loss, bilateral|2|2|A
ENT|J30.9|Allergic rhinitis, unspecified|3|012|A
ENT|R42|Dizziness and giddiness|1|12|A
ENT|H93.13|Tinnitus, bilateral|1|12|A
GAS|K21.9|Gastro-esophageal reflux disease without esophagitis|5|12|A
GAS|K58.9|Irritable bowel syndrome without diarrhea|3|12|A
GAS|K57.30|Diverticulosis of large intestine without perforation or abscess without bleeding|2|2|A
GAS|Z12.11|Encounter for screening for malignant neoplasm of colon|4|2|A
GAS|K50.90|Crohn's disease, unspecified, without complications|1|12|A
GAS|K51.90|Ulcerative colitis, unspecified, without complications|1|12|A
GAS|K76.0|Fatty (change of) liver, not elsewhere classified|2|12|A
GAS|K29.70|Gastritis, unspecified, without bleeding|2|12|A
GAS|K59.00|Constipation, unspecified|2|12|A
END|E11.9|Type 2 diabetes mellitus without complications|5|12|A
END|E11.65|Type 2 diabetes mellitus with hyperglycemia|3|12|A
END|E10.9|Type 1 diabetes mellitus without complications|2|12|A
END|E03.9|Hypothyroidism, unspecified|4|12|A
END|E05.90|Thyrotoxicosis, unspecified without thyrotoxic crisis or storm|1|12|A
END|E04.1|Nontoxic single thyroid nodule|2|12|A
END|E66.9|Obesity, unspecified|2|12|A
END|E55.9|Vitamin D deficiency, unspecified|2|12|A
END|M81.0|Age-related osteoporosis without current pathological fracture|1|2|A
PUL|J44.9|Chronic obstructive pulmonary disease, unspecified|5|2|A
PUL|J45.909|Unspecified asthma, uncomplicated|4|12|A
PUL|G47.33|Obstructive sleep apnea (adult) (pediatric)|4|12|A
PUL|J84.10|Pulmonary fibrosis, unspecified|1|2|A
PUL|R06.02|Shortness of breath|2|12|A
PUL|J18.9|Pneumonia, unspecified organism|2|12|A
PUL|R91.8|Other nonspecific abnormal finding of lung field|1|12|A
URO|N40.0|Benign prostatic hyperplasia without lower urinary tract symptoms|4|2|M
URO|N39.0|Urinary tract infection, site not specified|4|12|A
URO|N20.0|Calculus of kidney|3|12|A
URO|N52.9|Male erectile dysfunction, unspecified|2|12|M
URO|C61|Malignant neoplasm of prostate|2|2|M
URO|R31.9|Hematuria, unspecified|2|12|A
URO|N32.81|Overactive bladder|2|12|A
URO|R39.15|Urgency of urination|1|12|A
"""


_SPEC_KEYS = (
    "GP",
    "IM",
    "PED",
    "CAR",
    "NEU",
    "ONC",
    "DER",
    "ORT",
    "OBG",
    "PSY",
    "OPH",
    "ENT",
    "GAS",
    "END",
    "PUL",
    "URO",
)


# Diagnoses of children that a child under 5 does not get (acne, migraine, ADHD, depression, ...).
_NOT_UNDER_5 = ("F", "L70.0", "G43.909", "G44.209", "S93.401A", "M25.561")
_BANDS = 4  # under 5, 5-17, 18-44, 45+


def _age_band(day: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The age band (``_BANDS``) on ``day`` of patients born ``offset`` days after the first birth day."""
    return (day >= _EARLY_DAY[offset]).astype(np.int64) + (day >= _ADULT_DAY[offset]) + (day >= _MIDDLE_AGE_DAY[offset])


def _diagnosis_table():
    rows = [line.split("|") for line in _DIAGNOSES_TEXT.strip().splitlines()]
    spec = np.array([_SPEC_KEYS.index(r[0]) for r in rows])
    weight = np.array([float(r[3]) for r in rows])
    under_5 = np.array([not r[1].startswith(_NOT_UNDER_5) for r in rows])
    child = np.array(["0" in r[4] for r in rows])
    band_ok = np.stack(  # D x 4: the file's bands 0, 1, 2 are ours 0-1, 2, 3
        [child & under_5, child, np.array(["1" in r[4] for r in rows]), np.array(["2" in r[4] for r in rows])], axis=1
    )
    sex = np.array([r[5] for r in rows])
    # Weights for every (specialization, band, male) group: G x D, G = S * _BANDS * 2.
    g_spec = np.repeat(np.arange(_S), 2 * _BANDS)
    g_band = np.tile(np.repeat(np.arange(_BANDS), 2), _S)
    g_male = np.tile(np.arange(2), _BANDS * _S)
    same = spec[None, :] == g_spec[:, None]
    sex_ok = (sex[None, :] == "A") | ((sex[None, :] == "M") == (g_male[:, None] == 1))
    w = np.where(same & band_ok.T[g_band] & sex_ok, weight[None, :], 0.0)
    # A group with no fitting code (reached only through fallbacks at tiny sizes) uses the whole list.
    empty = w.sum(axis=1) == 0
    w[empty] = np.where(same[empty], weight[None, :], 0.0)
    codes = pa.array([r[1] for r in rows])
    descriptions = pa.array([r[2] for r in rows])
    return w, codes, descriptions


_DIAGNOSIS_WEIGHTS, _DIAGNOSIS_CODES, _DIAGNOSIS_NAMES = _diagnosis_table()


@lru_cache(maxsize=1)
def _diagnosis_choice() -> rand.GroupedWeightedTable:
    return rand.GroupedWeightedTable(_DIAGNOSIS_WEIGHTS)


@lru_cache(maxsize=8)
def _specialization_choice(doctors: int) -> rand.GroupedWeightedTable:
    """Visits by (age band, sex) over the specializations that have doctors at this size."""
    per_spec = _doctors_per_specialization(doctors)
    visit = _VISIT_WEIGHTS * (per_spec > 0)
    visit[visit.sum(axis=1) == 0] = (per_spec > 0).astype(np.float64)
    return rand.GroupedWeightedTable(visit)


_CLINIC_KINDS = 6  # name patterns, see _clinics


# --- shared pure functions: dimensions and the fact both call these ------------------------


def patient_female(seed: int, patient: np.ndarray) -> np.ndarray:
    return rand.uniform(rand.stream_key(seed, PATIENTS, "gender"), patient) < FEMALE_SHARE


def _babies(patients: int) -> int:
    """Patients born in 2020-2023 (at least one patient is born before the window)."""
    return min(patients - 1, round(patients * BABY_SHARE))


def _line_permutation(seed: int, patients: int) -> rand.Permutation:
    """Rank on the patients' line -> patient: activity ranks first, then babies in birth order."""
    return rand.Permutation(rand.stream_key(seed, APPOINTMENTS, "patient", "permutation"), patients)


def _babies_born_before(babies: int, day: np.ndarray) -> np.ndarray:
    """How many babies are born before ``day``: baby ``b`` is born on day ``b * span // babies``."""
    d = np.maximum(day - WINDOW_START, 0)
    return np.minimum((d * babies + _BABY_SPAN - 1) // _BABY_SPAN, babies)


def patient_birth_day(seed: int, patients: int, patient: np.ndarray) -> np.ndarray:
    """Date of birth in days since 1970-01-01 (1930-01-01 .. 2023-12-31)."""
    weights = _BIRTH_YEAR_WEIGHTS[:_OLD_YEARS]
    year = rand.weighted_choice(rand.stream_key(seed, PATIENTS, "birth_year"), patient, weights)
    u = rand.uniform(rand.stream_key(seed, PATIENTS, "birth_day"), patient)
    born = _YEAR_START[year] + np.minimum((u * _YEAR_LENGTH[year]).astype(np.int64), _YEAR_LENGTH[year] - 1)
    babies = _babies(patients)
    if babies == 0:
        return born
    baby = invert(_line_permutation(seed, patients), patient) - (patients - babies)
    return np.where(baby >= 0, WINDOW_START + (np.maximum(baby, 0) * _BABY_SPAN) // babies, born)


def _doctor_permutation(seed: int, doctors: int) -> rand.Permutation:
    return rand.Permutation(rand.stream_key(seed, DOCTORS, "specialization"), doctors)


def _doctors_per_specialization(doctors: int) -> np.ndarray:
    return quota(doctors, _DOCTOR_SHARES, minimum_one=True)


def doctor_specialization(seed: int, doctors: int, doctor: np.ndarray) -> np.ndarray:
    return group_of(_doctor_permutation(seed, doctors)(doctor), _doctors_per_specialization(doctors))


def doctor_clinic(seed: int, clinics: int, doctor: np.ndarray) -> np.ndarray:
    """0-based clinic of each doctor: the first ``clinics`` doctors open one clinic each."""
    opener = rand.Permutation(rand.stream_key(seed, DOCTORS, "clinic_opener"), clinics)(np.minimum(doctor, clinics - 1))
    rank = rand.power_law_rank(rand.stream_key(seed, DOCTORS, "clinic"), doctor, clinics, CLINIC_EXPONENT)
    joined = rand.Permutation(rand.stream_key(seed, DOCTORS, "clinic", "permutation"), clinics)(rank)
    return np.where(doctor < clinics, opener, joined)


def clinic_locality(seed: int, clinic: np.ndarray) -> np.ndarray:
    """Index of each clinic's locality in ``vocab.address_pools()`` (a US one)."""
    pools = vocab.address_pools()
    us = 0  # United States slice of the pools
    key = rand.stream_key(seed, CLINICS, "locality")
    return pools.locality_offset[us] + rand.integers(key, clinic, 0, int(pools.locality_count[us]) - 1)


def _zones() -> timezones.ZoneOffsets:
    names = tuple(vocab.locality_zones().names.to_pylist())
    return timezones.zone_offsets(names, WINDOW_START * 86400, (WINDOW_END + 1) * 86400)


def _anniversary(birth: np.ndarray, years: int) -> np.ndarray:
    """The day a person born on ``birth`` turns ``years`` (29 February -> 28 February)."""
    born = birth.astype("datetime64[D]")
    month = born.astype("datetime64[M]")
    day_of_month = (born - month.astype("datetime64[D]")).astype(np.int64)
    target = month + 12 * years
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]").astype(np.int64) + np.minimum(day_of_month, month_length - 1)


# The 5th, 18th and 45th birthday of everyone born on each possible birth day (a table of ~34,000 days).
_BIRTH_DAYS = np.arange(_YEAR_START[0], _YEAR_START[-1])
_EARLY_DAY = _anniversary(_BIRTH_DAYS, 5)
_ADULT_DAY = _anniversary(_BIRTH_DAYS, 18)
_MIDDLE_AGE_DAY = _anniversary(_BIRTH_DAYS, 45)


def _weekday_index(day: np.ndarray) -> np.ndarray:
    """Weekdays from Monday 1969-12-29 up to ``day`` (the index of ``day`` or of the next Monday)."""
    m = day + 3
    return 5 * (m // 7) + np.minimum(m % 7, 5)


def _weekday_from_index(n: np.ndarray) -> np.ndarray:
    return 7 * (n // 5) + n % 5 - 3


def weekday_day(n: np.ndarray) -> np.ndarray:
    """Day (since 1970-01-01) of weekday ``n`` counted from the window's first; past the window too."""
    return _weekday_from_index(_FIRST_WEEKDAY + np.asarray(n, dtype=np.int64))


_FIRST_WEEKDAY = int(_weekday_index(np.int64(WINDOW_START)))
WEEKDAYS = int(_weekday_index(np.int64(WINDOW_END + 1))) - _FIRST_WEEKDAY  # 1,305
_DAYS = weekday_day(np.arange(WEEKDAYS, dtype=np.int64))  # days since 1970-01-01


# --- the appointments' layout ----------------------------------------------------------------


@lru_cache(maxsize=16)
def _day_starts(seed: int, appointments: int) -> np.ndarray:
    """First appointment of each weekday of the window, then the total: exact integers."""
    weight = _day_weight(seed, np.arange(WEEKDAYS, dtype=np.int64))
    # Integer weights, then Python integers: the split is exact whatever the count.
    cum = [0, *np.cumsum(np.rint(weight / weight.sum() * 2**40).astype(np.int64)).tolist()]
    return np.array([appointments * c // cum[-1] for c in cum], dtype=np.int64)


def _day_weight(seed: int, n: np.ndarray) -> np.ndarray:
    """Relative number of appointments on weekday ``n`` (inside the window or after it)."""
    day = weekday_day(n)
    dow = (day + 3) % 7  # Monday 0
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    z = rand.normal(rand.stream_key(seed, APPOINTMENTS, "day_weight"), n)
    return _WEEKDAY_WEIGHTS[dow] * _MONTH_WEIGHTS[month] * fmath.exp(_DAY_NOISE * z)


def _busiest_day(seed: int, appointments: int) -> int:
    return int(np.diff(_day_starts(seed, appointments)).max())


def _smallest_specialization(doctors: int) -> int:
    per_spec = _doctors_per_specialization(doctors)
    return int(per_spec[per_spec > 0].min())


def _longest_segment(patients: int) -> float:
    """The longest patient segment on a line of length >= 1 (the busiest patient's, or a baby's)."""
    old = patients - _babies(patients)
    e = PATIENT_FLOOR
    busiest = fmath.log1p(1.0 / (e * old)) / fmath.log1p(1.0 / e)
    return float(max(busiest, BABY_ACTIVITY / old if old < patients else 0.0))


@lru_cache(maxsize=16)
def _check_layout(seed: int, appointments: int, patients: int, doctors: int) -> None:
    """The guarantees need a day's appointments to fit the doctors' and the patients' line."""
    busiest = _busiest_day(seed, appointments)
    if busiest > SLOTS * _smallest_specialization(doctors):
        raise GengoError(
            f"medical: {doctors} doctors cannot see {appointments} appointments without double-booking "
            f"(up to {busiest} a day); use the model's own row counts"
        )
    if busiest > 1 and 2 * busiest * _longest_segment(patients) >= 1:
        raise GengoError(
            f"medical: {patients} patients are too few for up to {busiest} appointments a day; "
            "use the model's own row counts"
        )


def appointment_day(seed: int, appointments: int, appointment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weekday ``n`` of the window, index ``j`` of the appointment in its day, appointments that day)."""
    first = _day_starts(seed, appointments)
    n = np.searchsorted(first, appointment, side="right") - 1
    return n, appointment - first[n], first[n + 1] - first[n]


def appointment_patient(
    seed: int, patients: int, n: np.ndarray, j: np.ndarray, per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(0-based patient, uniform position inside the patient's segment) of appointment ``j`` of day ``n``.

    Systematic sampling along the line of patient segments: old patients by activity rank
    (length ``1 / (x + 0.02)`` over ``x`` in [0, 1), total 1), then the babies already born
    (``BABY_ACTIVITY`` times the mean old length each). Points are ``W / per_day`` apart and
    every segment is less than half that, so a patient is drawn at most once a day.
    """
    babies = _babies(patients)
    old = patients - babies
    baby_length = BABY_ACTIVITY / old
    born = _babies_born_before(babies, weekday_day(n))
    total = 1.0 + baby_length * born
    o = rand.uniform(rand.stream_key(seed, APPOINTMENTS, "day_offset"), n)
    t = np.minimum((o + j) * (total / per_day), np.nextafter(total, 0.0))
    e = PATIENT_FLOOR
    x = e * fmath.expm1(np.minimum(t, 1.0) * fmath.log1p(1.0 / e)) * old
    rank = np.minimum(x.astype(np.int64), old - 1)
    position = x - rank
    baby = t >= 1.0
    if baby.any():
        y = (t[baby] - 1.0) / baby_length
        b = np.minimum(y.astype(np.int64), born[baby] - 1)
        rank[baby] = old + b
        position[baby] = y - b
    patient = _line_permutation(seed, patients)(rank)
    return patient, np.clip(position, 0.0, np.nextafter(1.0, 0.0))


@lru_cache(maxsize=8)
def _cells(seed: int, doctors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per specialization: (doctor, quarter) cells, and the affine bijection of them (multiplier, offset)."""
    cells = _doctors_per_specialization(doctors) * SLOTS
    perms = [
        rand.Permutation(rand.stream_key(seed, APPOINTMENTS, "cell", str(s)), int(max(c, 1)))
        for s, c in enumerate(cells)
    ]
    return np.maximum(cells, 1), np.array([p.mult for p in perms]), np.array([p.offset for p in perms])


def appointment_slot(
    seed: int, doctors: int, n: np.ndarray, j: np.ndarray, spec: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(0-based doctor, hour, minute) of appointment ``j`` of day ``n`` with specialization ``spec``.

    For one day and specialization, ``j -> perm((j + shift) mod cells)`` is one-to-one while a
    day has no more appointments than cells, so a doctor's slot holds one appointment.
    """
    doctor, slot = _doctor_slot(seed, doctors, n, j, spec)
    hour, minute = slot_clock(seed, doctor, n, slot)
    return doctor, hour, minute


def _doctor_slot(
    seed: int, doctors: int, n: np.ndarray, j: np.ndarray, spec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(0-based doctor, bookable slot 0..SLOTS-1 of the doctor's day) of appointment ``j`` of day ``n``."""
    cells, mult, offset = _cells(seed, doctors)
    size = cells[spec]
    shift = (
        rand.bits(rand.stream_key(seed, APPOINTMENTS, "cell_shift"), n * _S + spec) % size.astype(np.uint64)
    ).astype(np.int64)
    cell = ((j + shift) % size * mult[spec] % size + offset[spec]) % size
    rank = starts(_doctors_per_specialization(doctors))[spec] + cell // SLOTS
    return invert(_doctor_permutation(seed, doctors), rank), cell % SLOTS


def slot_clock(seed: int, doctor: np.ndarray, n: np.ndarray, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hour, minute) of a doctor's bookable slot on day ``n``, local time."""
    # Which quarters of a part-booked hour are open turns with the doctor and the day.
    turn = (rand.bits(rand.stream_key(seed, APPOINTMENTS, "quarter"), doctor * WEEKDAYS + n) >> np.uint64(62)).astype(
        np.int64
    )
    return OPEN_HOUR + _SLOT_HOUR[slot], 15 * ((_SLOT_QUARTER[slot] + turn) % 4)


@lru_cache(maxsize=1)
def _locality_hispanic_share() -> np.ndarray:
    """Hispanic share of the population of each locality's state in ``vocab.address_pools()`` (US ones)."""
    pools = vocab.address_pools()
    us = slice(int(pools.locality_offset[0]), int(pools.locality_offset[0] + pools.locality_count[0]))
    share = np.zeros(len(pools.region))
    share[us] = [_HISPANIC_PERCENT[r] / 100 for r in pools.region[us].to_pylist()]
    return share


def hispanic_doctor(seed: int, table: str, column: str, idx: np.ndarray, locality: np.ndarray) -> np.ndarray:
    """Whether the doctor behind a name (a doctor, a clinic's founder) working at ``locality`` is Hispanic."""
    share = PHYSICIAN_FACTOR * _locality_hispanic_share()[locality]
    return rand.uniform(rand.stream_key(seed, table, column, "hispanic"), idx) < share


@lru_cache(maxsize=1)
def _name_pools() -> tuple[pa.Array, pa.Array, pa.Array]:
    """(female then male en_US first names, en_US first names, en_US surnames), each followed by
    ``vocab.locale_person_names()``: a name column is one ``take`` of indices into one of them."""
    spanish = vocab.locale_person_names().values
    fem, mal = vocab.gendered_first_names(True).values, vocab.gendered_first_names(False).values
    return (
        pa.concat_arrays([fem, mal, spanish]),
        pa.concat_arrays([vocab.first_names().values, spanish]),
        pa.concat_arrays([vocab.last_names().values, spanish]),
    )


def _spanish(
    ctx: ChunkContext, column: str, index: np.ndarray, pool: pa.Array, hispanic: np.ndarray, kind: np.ndarray
) -> pa.Array:
    """The names at ``index`` in ``pool`` (one of ``_name_pools``), Hispanic people's replaced by Spanish
    ones of ``kind`` (vocab.FEMALE_FIRST, ...)."""
    rows = np.flatnonzero(hispanic)
    if len(rows):
        names = vocab.locale_person_names()
        start = len(pool) - len(names.values)  # where the locale names begin in ``pool``
        index[rows] = start + names.pick(_ES_MX, kind[rows], rand.uniform(ctx.key(column, "es"), ctx.idx[rows]))
    return take(pool, index)


# --- dimensions ------------------------------------------------------------------------------


def _patients(ctx: ChunkContext) -> dict:
    female = patient_female(ctx.seed, ctx.idx)
    fem, mal, ln = vocab.gendered_first_names(True), vocab.gendered_first_names(False), vocab.last_names()
    by_sex, _, surnames = _name_pools()
    first = np.where(
        female,
        rand.weighted_choice(ctx.key("first_name_f"), ctx.idx, fem.weights),
        len(fem.values) + rand.weighted_choice(ctx.key("first_name_m"), ctx.idx, mal.weights),
    )
    last = rand.weighted_choice(ctx.key("last_name"), ctx.idx, ln.weights)
    hispanic = ctx.uniform("hispanic") < HISPANIC_SHARE
    first = _spanish(ctx, "first_name", first, by_sex, hispanic, np.where(female, vocab.FEMALE_FIRST, vocab.MALE_FIRST))
    last = _spanish(ctx, "last_name", last, surnames, hispanic, np.where(female, vocab.FEMALE_LAST, vocab.MALE_LAST))
    return {
        "patient_id": ctx.ids,
        "patient_name": join(first, " ", last),
        "date_of_birth": date_from_days(patient_birth_day(ctx.seed, ctx.rows[PATIENTS], ctx.idx)),
        "gender": take(pa.array(["male", "female"]), female.astype(np.int64)),
    }


def _doctors(ctx: ChunkContext) -> dict:
    fn, ln = vocab.first_names(), vocab.last_names()
    _, firsts, surnames = _name_pools()
    first = rand.weighted_choice(ctx.key("first_name"), ctx.idx, fn.weights)
    last = rand.weighted_choice(ctx.key("last_name"), ctx.idx, ln.weights)
    spec = doctor_specialization(ctx.seed, ctx.rows[DOCTORS], ctx.idx)
    clinic = doctor_clinic(ctx.seed, ctx.rows[CLINICS], ctx.idx)
    hispanic = hispanic_doctor(ctx.seed, DOCTORS, "name", ctx.idx, clinic_locality(ctx.seed, clinic))
    female = ctx.uniform("spanish_female") < 0.5  # the model has no doctor's sex: either list of first names
    first = _spanish(ctx, "first_name", first, firsts, hispanic, np.where(female, vocab.FEMALE_FIRST, vocab.MALE_FIRST))
    last = _spanish(ctx, "last_name", last, surnames, hispanic, np.where(female, vocab.FEMALE_LAST, vocab.MALE_LAST))
    return {
        "doctor_id": ctx.ids,
        "doctor_name": join("Dr. ", first, " ", last),
        "specialization": take(pa.array(SPECIALIZATIONS), spec),
        "clinic_id": clinic + 1,
    }


def _clinics(ctx: ChunkContext) -> dict:
    pools = vocab.address_pools()
    us = 0  # United States slice of the pools
    loc = clinic_locality(ctx.seed, ctx.idx)
    street = pools.street_offset[us] + ctx.integers(0, int(pools.street_count[us]) - 1, "street")
    ln = vocab.last_names()
    surnames = _name_pools()[2]
    # Named after doctors: Spanish surnames as often as the state's doctors have them.
    surname = np.full(len(ctx.idx), vocab.MALE_LAST)
    last, partner = (
        _spanish(
            ctx,
            column,
            rand.weighted_choice(ctx.key(column), ctx.idx, ln.weights),
            surnames,
            hispanic_doctor(ctx.seed, CLINICS, column, ctx.idx, loc),
            surname,
        )
        for column in ("name", "partner")
    )
    city = take(pools.city, loc)
    kind = pa.array(ctx.integers(0, _CLINIC_KINDS - 1, "kind"), pa.int8())
    name = pc.choose(
        kind,
        join(last, " Family Clinic"),
        join(city, " Medical Center"),
        join(last, " Medical Group"),
        join(city, " Health Clinic"),
        join(last, " & ", partner, " Medical Associates"),
        join(city, " Community Health Center"),
    )
    number = ctx.integers(1, 9999, "number")
    zones = vocab.locality_zones()
    return {
        "clinic_id": ctx.ids,
        "clinic_name": name,
        "address": join(to_text(number), " ", take(pools.street_names, street), ", ", take(pools.tail, loc)),
        "city": city,
        "time_zone": take(zones.names, zones.zone[loc]),
    }


# --- fact ------------------------------------------------------------------------------------


def _appointments(ctx: ChunkContext) -> dict:
    idx = ctx.idx
    appointments, patients = ctx.rows[APPOINTMENTS], ctx.rows[PATIENTS]
    doctors, clinics = ctx.rows[DOCTORS], ctx.rows[CLINICS]
    _check_layout(ctx.seed, appointments, patients, doctors)
    n, j, per_day = appointment_day(ctx.seed, appointments, idx)
    day = _DAYS[n]
    patient, position = appointment_patient(ctx.seed, patients, n, j, per_day)
    birth = patient_birth_day(ctx.seed, patients, patient)
    male = (~patient_female(ctx.seed, patient)).astype(np.int64)
    offset = birth - _YEAR_START[0]
    band = _age_band(day, offset)
    # Specialization by age band and sex, among specializations that have doctors.
    spec = _specialization_choice(doctors).choose(position, band * 2 + male)
    doctor, hour, minute = appointment_slot(ctx.seed, doctors, n, j, spec)
    clinic = doctor_clinic(ctx.seed, clinics, doctor)
    # Wall-clock time at the clinic, stored as the UTC instant.
    zone = vocab.locality_zones().zone[clinic_locality(ctx.seed, clinic)]
    seconds = _zones().to_utc(zone, day * 86400 + hour * 3600 + minute * 60)
    diagnosis = _diagnosis_choice().choose(ctx.uniform("diagnosis"), (spec * _BANDS + band) * 2 + male)
    return {
        "appointment_id": ctx.ids,
        "patient_id": patient + 1,
        "doctor_id": doctor + 1,
        "clinic_id": clinic + 1,
        "appointment_date": timestamp_from_seconds(seconds),
        "diagnosis": take(_DIAGNOSIS_NAMES, diagnosis),
        "diagnosis_code": take(_DIAGNOSIS_CODES, diagnosis),
    }


def row_counts(appointments: int, seed: int) -> dict[str, int]:
    """Go tool ratios: 5 appointments per patient, 100 patients per doctor, 20 doctors per clinic.

    Where rounding leaves the smallest specialization too few doctors for the busiest day's
    appointments (no two in one slot), doctors are added until they fit.
    """
    appointments = max(1, int(appointments))
    patients = max(1, round(appointments / 5))
    doctors = max(1, round(patients / 100))
    busiest = _busiest_day(seed, appointments)
    while SLOTS * _smallest_specialization(doctors) < busiest:
        doctors += 1
    return {
        PATIENTS: patients,
        DOCTORS: doctors,
        CLINICS: max(1, round(doctors / 20)),
        APPOINTMENTS: appointments,
    }


# --- change batches (gen --batches): bookings, reschedules, cancellations, completed visits ----
#
# Batch b is the end of weekday ``WEEKDAYS + b - 1`` (batch 1: Wednesday 2025-01-01, the first
# after the window). It books the visits of the weekday LEAD ahead (batch 1 also those of the
# days before it), laid out exactly like the window's days (the same per-day weights, patients
# by systematic sampling over everyone registered by then, one patient per doctor and slot), so
# the guarantees of the base hold for them too. A booked visit carries a provisional code until
# the batch of its day completes it with its diagnosis; before its day a booking may be moved to
# a free slot of the same doctor a week later (if the patient has no visit that day) or cancelled.

LEAD = 5  # weekdays between a booking and the visit
MOVE = 5  # weekdays a reschedule moves a visit: the same weekday a week later, same doctor
NEW_PATIENTS = 0.001  # patients registering per batch, a share of the base's
CANCELLED = 0.02  # share of the future visits each batch cancels
RESCHEDULED = 0.03  # chance per batch that a future visit is moved (at most once)
PROVISIONAL = ("R69", "Illness, unspecified")  # ICD-10-CM code of a visit not yet diagnosed
BATCH_LIMIT = 2_500  # weekdays after the window covered by the time-zone tables (about ten years)


def _today(b: int) -> int:
    """Weekday index (from the window's first) that batch b closes."""
    return WEEKDAYS + b - 1


def _booked_days(b: int) -> np.ndarray:
    """Weekdays whose visits batch b books."""
    if b == 1:
        return np.arange(_today(1) + 1, _today(1) + LEAD + 1, dtype=np.int64)
    return np.array([_today(b) + LEAD], dtype=np.int64)


def _booking_batch(n: np.ndarray) -> np.ndarray:
    """The batch that books the visits of weekday ``n`` (after the window)."""
    return np.maximum(1, np.asarray(n, dtype=np.int64) - LEAD - WEEKDAYS + 1)


@lru_cache(maxsize=16)
def _mean_weight(seed: int) -> float:
    return float(_day_weight(seed, np.arange(WEEKDAYS, dtype=np.int64)).mean())


def _day_counts(seed: int, appointments: int, days: np.ndarray) -> np.ndarray:
    """Visits on weekdays after the window: the window's mean per day by the day's weight, never
    more than the window's busiest day (so the layout's guarantees hold)."""
    m = np.rint(appointments / WEEKDAYS * _day_weight(seed, days) / _mean_weight(seed)).astype(np.int64)
    return np.minimum(m, _busiest_day(seed, appointments))


def _per_batch_patients(patients: int) -> int:
    return round(NEW_PATIENTS * patients)


def _patients_after(patients: int, b: np.ndarray) -> np.ndarray:
    """Patients registered after batch b (the base's ``patients`` plus each batch's new ones)."""
    return patients + np.asarray(b, dtype=np.int64) * _per_batch_patients(patients)


def _birth_days(seed: int, patients: int, patient: np.ndarray) -> np.ndarray:
    """Dates of birth as dim_patients has them: each patient built with the count of its batch."""
    per = _per_batch_patients(patients)
    batch = np.where(patient < patients, 0, (patient - patients) // max(per, 1) + 1)
    out = np.empty(len(patient), dtype=np.int64)
    for b in np.unique(batch):  # a loop over batches
        here = batch == b
        out[here] = patient_birth_day(seed, int(_patients_after(patients, b)), patient[here])
    return out


@lru_cache(maxsize=64)
def _day_layout(seed: int, base: tuple[int, int, int, int], n: int) -> dict[str, np.ndarray]:
    """Every visit of weekday ``n`` after the window, in booking order: patient, doctor, slot, clinic,
    and the specialization group of its diagnosis. ``base``: (appointments, patients, doctors, clinics)."""
    appointments, patients, doctors, clinics = base
    m = int(_day_counts(seed, appointments, np.array([n]))[0])
    j = np.arange(m, dtype=np.int64)
    day = np.full(m, n, dtype=np.int64)
    registered = int(_patients_after(patients, _booking_batch(n)))
    patient, position = appointment_patient(seed, registered, day, j, np.full(m, max(m, 1)))
    offset = _birth_days(seed, patients, patient) - _YEAR_START[0]
    today = weekday_day(n)
    band = _age_band(today, offset)
    male = (~patient_female(seed, patient)).astype(np.int64)
    spec = _specialization_choice(doctors).choose(position, band * 2 + male)
    doctor, slot = _doctor_slot(seed, doctors, day, j, spec)
    return {
        "patient": patient,
        "doctor": doctor,
        "slot": slot,
        "clinic": doctor_clinic(seed, clinics, doctor),
        "group": (spec * _BANDS + band) * 2 + male,
    }


def _key(base: Mapping[str, int]) -> tuple[int, int, int, int]:
    return (base[APPOINTMENTS], base[PATIENTS], base[DOCTORS], base[CLINICS])


def _positions(seed: int, counts, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(booking batch, weekday, index in the day) of booked rows ``idx`` (all after the base)."""
    sizes = np.array([c[APPOINTMENTS] for c in counts], dtype=np.int64)
    batch = np.searchsorted(sizes, idx, side="right")
    n, j = np.empty(len(idx), dtype=np.int64), np.empty(len(idx), dtype=np.int64)
    for b in np.unique(batch):  # a loop over batches
        here = batch == b
        days = _booked_days(int(b))
        ends = np.cumsum(_day_counts(seed, sizes[0], days))
        offset = idx[here] - sizes[b - 1]
        k = np.searchsorted(ends, offset, side="right")
        n[here], j[here] = days[k], offset - (ends - _day_counts(seed, sizes[0], days))[k]
    return batch, n, j


def _gather(seed: int, base, n: np.ndarray, j: np.ndarray, names: tuple[str, ...]) -> list[np.ndarray]:
    """Layout values of visits (n, j), a day at a time."""
    out = [np.empty(len(n), dtype=np.int64) for _ in names]
    for day in np.unique(n):  # a loop over days
        here = n == day
        layout = _day_layout(seed, base, int(day))
        for o, name in zip(out, names, strict=True):
            o[here] = layout[name][j[here]]
    return out


_ZONE_SPAN = 130  # weekdays (half a year) per step of the time-zone table after the window


@lru_cache(maxsize=4)
def _zones_after(steps: int) -> timezones.ZoneOffsets:
    """The clinics' zone offsets from the window's end over ``steps`` half-years: only as far as
    the batches reach (building the table costs about 6 ms per half-year), and a table covering
    more gives the same answers."""
    names = tuple(vocab.locality_zones().names.to_pylist())
    last = int(weekday_day(min(WEEKDAYS + steps * _ZONE_SPAN, WEEKDAYS + BATCH_LIMIT + LEAD + MOVE))) + 2
    return timezones.zone_offsets(names, (WINDOW_END + 1) * 86400, last * 86400)


def _instants(seed: int, clinic: np.ndarray, n: np.ndarray, doctor: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """UTC seconds of a doctor's slot on weekday ``n``, local time at the clinic."""
    hour, minute = slot_clock(seed, doctor, n, slot)
    zone = vocab.locality_zones().zone[clinic_locality(seed, clinic)]
    steps = -(-(int(n.max(initial=WEEKDAYS)) + 1 - WEEKDAYS) // _ZONE_SPAN)
    return _zones_after(max(steps, 1)).to_utc(zone, weekday_day(n) * 86400 + hour * 3600 + minute * 60)


def _book(ctx: ChunkContext, batch: BatchContext) -> dict:
    """The visits batch b books, a day at a time in booking order, with a provisional code."""
    base = _key(batch.base)
    _, n, j = _positions(ctx.seed, batch.counts, ctx.idx)
    patient, doctor, slot, clinic = _gather(ctx.seed, base, n, j, ("patient", "doctor", "slot", "clinic"))
    none = np.zeros(len(ctx.idx), dtype=np.int64)
    return {
        "appointment_id": ctx.ids,
        "patient_id": patient + 1,
        "doctor_id": doctor + 1,
        "clinic_id": clinic + 1,
        "appointment_date": timestamp_from_seconds(_instants(ctx.seed, clinic, n, doctor, slot)),
        "diagnosis": take(pa.array([PROVISIONAL[1]]), none),
        "diagnosis_code": take(pa.array([PROVISIONAL[0]]), none),
    }


def _first_pick(seed: int, idx: np.ndarray, booked: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The batch that picks each booked visit for a move: the first after its booking and before its
    day whose draw hits (0 if none); draws keyed by (row, batches since the booking)."""
    out = np.zeros(len(idx), dtype=np.int64)
    key = rand.stream_key(seed, APPOINTMENTS, "reschedule")
    for step in range(1, LEAD + 1):  # a loop over the few batches a booking waits
        b = booked + step
        hit = (out == 0) & (_today(0) + b < n) & (rand.uniform(key, idx * (LEAD + 1) + step) < RESCHEDULED)
        out[hit] = b[hit]
    return out


def _moves(seed: int, counts, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(batch that moved each booked visit, 0 if none; its new UTC instant) for rows ``idx``,
    from the moves of their days (``_day_moves``)."""
    base = _key(counts[0])
    booked, n, j = _positions(seed, counts, idx)
    moved = _first_pick(seed, idx, booked, n)
    when = np.zeros(len(idx), dtype=np.int64)
    for day in np.unique(n[moved > 0]):  # a loop over days
        here = np.flatnonzero((n == day) & (moved > 0))
        day_moved, day_when = _day_moves(seed, base, int(day), _first_row(seed, counts, int(day)))
        moved[here], when[here] = day_moved[j[here]], day_when[j[here]]
    return moved, when


@lru_cache(maxsize=64)
def _day_moves(seed: int, base: tuple[int, int, int, int], day: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """(batch that moved each visit of weekday ``day``, 0 if none; its new UTC instant), in the
    day's booking order (``first``: the row of its first visit). Every hook of a batch asks about
    the same few days, so each day's moves are worked out once per process.

    A picked visit moves to the same doctor MOVE weekdays later, to the q-th slot free of that
    day's own visits, q its rank among the same doctor's picked visits of its day (by batch, then
    row); it stays if the patient has a visit that day or no free slot is left. Only one day
    moves into any day, so moved visits never meet each other or the day's own.
    """
    layout, target = _day_layout(seed, base, day), _day_layout(seed, base, day + MOVE)
    rows = first + np.arange(len(layout["doctor"]), dtype=np.int64)
    moved = _first_pick(seed, rows, np.full(len(rows), int(_booking_batch(day))), np.full(len(rows), day))
    when = np.zeros(len(rows), dtype=np.int64)
    doctor = layout["doctor"]
    # Rank of each picked visit among its doctor's picked visits of the day.
    chosen = np.flatnonzero(moved > 0)
    order = chosen[np.lexsort((rows[chosen], moved[chosen], doctor[chosen]))]
    group_start = np.r_[True, doctor[order][1:] != doctor[order][:-1]]
    position = np.arange(len(order)) - np.maximum.accumulate(np.where(group_start, np.arange(len(order)), 0))
    rank = np.zeros(len(rows), dtype=np.int64)
    rank[order] = position
    d = doctor[chosen]
    # Slots the target day's own visits take, as one flag per (doctor, slot): a gather, not a sort.
    taken = np.zeros((max(int(d.max(initial=0)), int(target["doctor"].max(initial=0))) + 1) * SLOTS, dtype=bool)
    taken[target["doctor"] * SLOTS + target["slot"]] = True
    used = taken[d[:, None] * SLOTS + np.arange(SLOTS)[None, :]]
    free = np.cumsum(~used, axis=1)  # free slots up to each slot
    q = rank[chosen]
    ok = (free[:, -1] > q) & ~np.isin(layout["patient"][chosen], target["patient"])
    slot = np.argmax(free > q[:, None], axis=1)
    moved[chosen[~ok]] = 0
    stay = chosen[ok]
    when[stay] = _instants(seed, layout["clinic"][stay], np.full(len(stay), day + MOVE), d[ok], slot[ok])
    moved.flags.writeable = when.flags.writeable = False  # shared by every caller
    return moved, when


def _first_row(seed: int, counts, n: int) -> int:
    """Row index of the first visit booked for weekday ``n``."""
    b = int(_booking_batch(n))
    days = _booked_days(b)
    before = _day_counts(seed, counts[0][APPOINTMENTS], days[days < n]).sum()
    return int(counts[b - 1][APPOINTMENTS] + before)


def _booked_rows(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    return idx >= batch.base[APPOINTMENTS]


def _pick_move(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    """Visits this batch moves to a week later."""
    out = _booked_rows(batch, idx)
    if out.any():
        rows = idx[out]
        booked, n, _ = _positions(batch.seed, batch.counts, rows)
        now = _first_pick(batch.seed, rows, booked, n) == batch.batch
        if now.any():  # the few picked now: are they free to move?
            now[now] = _moves(batch.seed, batch.counts, rows[now])[0] == batch.batch
        out[out] = now
    return out


def _moved_date(batch: BatchContext, rows: pa.Table, idx: np.ndarray) -> pa.Array:
    _, when = _moves(batch.seed, batch.counts, idx)
    return timestamp_from_seconds(when)


def _pick_done(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    """Visits of the day this batch closes: booked for it and not moved, or moved to it."""
    out = _booked_rows(batch, idx)
    if out.any():
        rows = idx[out]
        _, n, _ = _positions(batch.seed, batch.counts, rows)
        today = _today(batch.batch)
        near = (n == today) | (n + MOVE == today)
        done = np.zeros(len(rows), dtype=bool)
        if near.any():
            moved, _ = _moves(batch.seed, batch.counts, rows[near])
            done[near] = np.where(moved > 0, n[near] + MOVE, n[near]) == today
        out[out] = done
    return out


def _diagnosis_of(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    _, n, j = _positions(batch.seed, batch.counts, idx)
    (group,) = _gather(batch.seed, _key(batch.base), n, j, ("group",))
    u = rand.uniform(rand.stream_key(batch.seed, APPOINTMENTS, "diagnosis"), idx)
    return _diagnosis_choice().choose(u, group)


def _pick_cancel(batch: BatchContext, idx: np.ndarray) -> np.ndarray:
    """Future visits this batch cancels (before their booked day)."""
    out = _booked_rows(batch, idx)
    if out.any():
        rows = idx[out]
        _, n, _ = _positions(batch.seed, batch.counts, rows)
        u = rand.uniform(rand.stream_key(batch.seed, APPOINTMENTS, "cancel", str(batch.batch)), rows)
        out[out] = (n > _today(batch.batch)) & (u < CANCELLED)
    return out


CHANGES = {
    PATIENTS: TableChanges(insert=NEW_PATIENTS, limit=BATCH_LIMIT),
    APPOINTMENTS: TableChanges(
        grow=lambda batch: int(_day_counts(batch.seed, batch.base[APPOINTMENTS], _booked_days(batch.batch)).sum()),
        append=_book,
        # The hooks choose the rows (shares 1.0 of what they allow).
        update={"appointment_date": 1.0, "diagnosis": 1.0, "diagnosis_code": 1.0},
        pick={"appointment_date": _pick_move, "diagnosis": _pick_done, "diagnosis_code": _pick_done},
        revise={
            "appointment_date": _moved_date,
            "diagnosis": lambda batch, rows, idx: take(_DIAGNOSIS_NAMES, _diagnosis_of(batch, idx)),
            "diagnosis_code": lambda batch, rows, idx: take(_DIAGNOSIS_CODES, _diagnosis_of(batch, idx)),
        },
        delete=1.0,
        drop=_pick_cancel,
        reach=lambda batch: (batch.base[APPOINTMENTS], batch.counts[batch.batch - 1][APPOINTMENTS]),  # booked visits
        limit=BATCH_LIMIT,
    ),
}


def _fk(table: str, column: str) -> str:
    return f"{table}.{column}"


# --- data checks (run over the written tables by the contract suite) -------------------------

# Each appointment with its time in its clinic's zone (DuckDB's own zone rules, not gengo's).
_LOCAL = f"""SELECT a.*, c.time_zone, timezone(c.time_zone, a.appointment_date) AS local
             FROM {APPOINTMENTS} a JOIN {CLINICS} c USING (clinic_id)"""

_LISTED_NOT_UNDER_5 = ", ".join(f"'{c}'" for c in _NOT_UNDER_5 if c != "F")

CHECKS = (
    Check(
        "appointments_in_local_clinic_hours",
        f"""SELECT appointment_id, clinic_id, time_zone, appointment_date, local FROM ({_LOCAL})
            WHERE isodow(local) > 5 OR hour(local) NOT BETWEEN 8 AND 17 OR minute(local) NOT IN (0, 15, 30, 45)
               OR date_trunc('minute', local) <> local
               OR local < TIMESTAMP '2020-01-01' OR local >= TIMESTAMP '2025-01-01'""",
        "a weekday quarter-hour 08:00-17:45 of 2020-2024 in the clinic's own time zone: UTC instants of local "
        "clinic hours, not wall-clock times labelled UTC (issue 20, items 7 and 12)",
    ),
    Check(
        "appointments_after_birth",
        f"""SELECT a.appointment_id, a.patient_id, p.date_of_birth, a.local
            FROM ({_LOCAL}) a JOIN {PATIENTS} p USING (patient_id) WHERE a.local::DATE <= p.date_of_birth""",
        "a patient's appointments fall after the day of birth",
    ),
    Check(
        "one_patient_per_doctor_and_slot",
        f"""SELECT * FROM (
                SELECT doctor_id, appointment_id, appointment_date,
                       lag(appointment_date) OVER (PARTITION BY doctor_id ORDER BY appointment_date, appointment_id)
                       AS previous
                FROM {APPOINTMENTS})
            WHERE appointment_date - previous < INTERVAL 15 MINUTE""",
        "no doctor has two appointments less than one 15-minute slot apart (issue 20, item 12)",
    ),
    Check(
        "no_patient_in_two_places_at_once",
        f"""SELECT * FROM (
                SELECT patient_id, appointment_id, clinic_id, appointment_date,
                       lag(appointment_date) OVER (PARTITION BY patient_id ORDER BY appointment_date, appointment_id)
                       AS previous
                FROM {APPOINTMENTS})
            WHERE appointment_date - previous < INTERVAL 15 MINUTE""",
        "no patient has two appointments less than 15 minutes apart, in one clinic or two (issue 20, item 12)",
    ),
    Check(
        "no_teen_or_adult_diagnosis_under_5",
        f"""SELECT a.appointment_id, p.date_of_birth, a.local, a.diagnosis_code
            FROM ({_LOCAL}) a JOIN {PATIENTS} p USING (patient_id)
            WHERE a.local::DATE < p.date_of_birth + INTERVAL 5 YEAR
              AND (a.diagnosis_code LIKE 'F%' OR a.diagnosis_code IN ({_LISTED_NOT_UNDER_5}))""",
        "a child under 5 gets no psychiatric diagnosis, acne, migraine, sprain or knee pain",
    ),
    Check(
        "one_appointment_per_patient_and_day",
        f"""SELECT patient_id, local::DATE AS day, count(*) AS appointments FROM ({_LOCAL})
            GROUP BY ALL HAVING count(*) > 1""",
        "a patient has at most one appointment a day (in the clinic's local calendar)",
    ),
)


MODEL = Model(
    name="medical",
    aliases=("med", "m"),
    description="Outpatient care: patients, doctors, clinics and appointments with ICD-10-CM diagnoses",
    tables=(
        Table(
            PATIENTS,
            (
                Column("patient_id", ID, primary_key=True),
                Column("patient_name", pa.string()),
                Column("date_of_birth", pa.date32()),
                Column("gender", pa.string()),
            ),
            _patients,
        ),
        Table(
            DOCTORS,
            (
                Column("doctor_id", ID, primary_key=True),
                Column("doctor_name", pa.string()),
                Column("specialization", pa.string()),
                Column("clinic_id", ID, references=_fk(CLINICS, "clinic_id"), doc="appended: where the doctor works"),
            ),
            _doctors,
        ),
        Table(
            CLINICS,
            (
                Column("clinic_id", ID, primary_key=True),
                Column("clinic_name", pa.string()),
                Column("address", pa.string()),
                Column("city", pa.string(), doc="appended"),
                Column("time_zone", pa.string(), doc="appended: IANA time zone of the clinic's address"),
            ),
            _clinics,
        ),
        Table(
            APPOINTMENTS,
            (
                Column("appointment_id", ID, primary_key=True),
                Column("patient_id", ID, references=_fk(PATIENTS, "patient_id")),
                Column("doctor_id", ID, references=_fk(DOCTORS, "doctor_id")),
                Column("clinic_id", ID, references=_fk(CLINICS, "clinic_id"), doc="the doctor's clinic"),
                Column(
                    "appointment_date",
                    TIMESTAMP,
                    doc="UTC instant of a weekday 15-minute slot, 08:00-17:45 in the clinic's time zone",
                ),
                Column("diagnosis", pa.string(), doc="ICD-10-CM description"),
                Column("diagnosis_code", pa.string(), doc="appended: ICD-10-CM code"),
            ),
            _appointments,
        ),
    ),
    row_counts=row_counts,
    notes=(
        "Clinic hours are 08:00-18:00 local time on weekdays (dim_clinics.time_zone); "
        "appointment timestamps are the UTC instants.",
    ),
    checks=CHECKS,
    changes=CHANGES,
)
