"""Vocabularies taken once per process from the Faker library, then sampled by index.

Faker is only called here, a few thousand times at start-up with a fixed seed, to fill
pools (person names with their frequency weights, company names, street names, localities
per country). Generators then pick pool entries with vectorised index arithmetic. The pools
depend only on the Faker version (recorded in the manifest), never on the user's seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_POOL_SEED = 20240601
_CACHE_VERSION = 3  # bump when a pool's construction changes (2: Quebec pools, 3: CA/AU postcodes)


def _cache_dir() -> Path | None:
    """Where built pools are kept between runs (GENGO_NO_CACHE=1 turns the cache off)."""
    if os.environ.get("GENGO_NO_CACHE"):
        return None
    root = os.environ.get("GENGO_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(root) / "gengo" if root else Path.home() / ".cache" / "gengo"


def _disk_cached(name: str, build: Callable[[], object], library: str = "faker") -> object:
    """``build()``, or its copy saved by an earlier run with the same version of ``library``.

    Building a few thousand Faker values costs most of a second per process; reading them
    back is a few milliseconds. The file is an Arrow IPC table of one row, one list column
    per field; any problem reading or writing it just means building again.
    """
    from importlib.metadata import version

    folder = _cache_dir()
    path = folder / f"{name}-{library}{version(library)}-v{_CACHE_VERSION}.arrow" if folder else None
    if path is not None and path.is_file():
        with contextlib.suppress(Exception):
            return _from_table(pa.ipc.open_file(str(path)).read_all())
    value = build()
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with pa.OSFile(str(tmp), "wb") as sink:
                table = _to_table(value)
                with pa.ipc.new_file(sink, table.schema) as writer:
                    writer.write_table(table)
            os.replace(tmp, path)
    return value


def disk_cached(name: str, build: Callable[[], object], library: str) -> object:
    """The same cache for other static data built from a library (e.g. exchange calendars)."""
    return _disk_cached(name, build, library)


def _to_table(value: object) -> pa.Table:
    fields = (
        {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if dataclasses.is_dataclass(value)
        else {"value": value}
    )
    columns, names, kinds = [], [], []
    for key, item in fields.items():
        arr = item if isinstance(item, pa.Array) else pa.array(item)
        columns.append(pa.ListArray.from_arrays(pa.array([0, len(arr)], pa.int32()), arr))
        names.append(key)
        kinds.append("arrow" if isinstance(item, pa.Array) else "numpy")
    meta = {"kinds": ",".join(kinds), "type": type(value).__name__ if dataclasses.is_dataclass(value) else ""}
    return pa.table(columns, names=names).replace_schema_metadata(meta)


def _from_table(table: pa.Table) -> object:
    meta = table.schema.metadata
    kinds = meta[b"kinds"].decode().split(",")
    values = {}
    for name, kind, column in zip(table.column_names, kinds, table.columns, strict=True):
        arr = column.combine_chunks().values
        values[name] = arr if kind == "arrow" else arr.to_numpy(zero_copy_only=False)
    kind = meta[b"type"].decode()
    return globals()[kind](**values) if kind else values["value"]


@dataclass(frozen=True)
class WeightedWords:
    values: pa.Array
    lower: pa.Array
    weights: np.ndarray


@dataclass(frozen=True)
class AddressPools:
    """Street names and localities for several countries, concatenated with offsets."""

    countries: pa.Array  # country display names
    country_weights: np.ndarray
    street_names: pa.Array
    street_offset: np.ndarray  # per country
    street_count: np.ndarray
    city: pa.Array
    region: pa.Array  # state / province / county, full name
    postcode: pa.Array
    tail: pa.Array  # "City, ST 12345" as written in a one-line address
    locality_offset: np.ndarray
    locality_count: np.ndarray


def _faker(locale: str):
    from faker import Faker

    f = Faker(locale)
    f.seed_instance(_POOL_SEED)
    return f


def _unique(values, limit: int) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
        if len(seen) >= limit:
            break
    return list(seen)


# Faker's name and country lists are plain data, but importing Faker and its providers costs
# about 70 ms in every process (the parent and the fork server): they are cached like the pools.
@lru_cache(maxsize=1)
def first_names() -> WeightedWords:
    return _disk_cached("first-names", lambda: _weighted(_person_provider().first_names))


@lru_cache(maxsize=1)
def last_names() -> WeightedWords:
    return _disk_cached("last-names", lambda: _weighted(_person_provider().last_names))


@lru_cache(maxsize=2)
def gendered_first_names(female: bool) -> WeightedWords:
    """First names of one gender, with their frequency weights."""
    provider = _person_provider
    if female:
        return _disk_cached("first-names-female", lambda: _weighted(provider().first_names_female))
    return _disk_cached("first-names-male", lambda: _weighted(provider().first_names_male))


def _person_provider():
    from faker.providers.person.en_US import Provider

    return Provider


def _weighted(mapping) -> WeightedWords:
    values = pa.array(list(mapping.keys()), pa.string())
    weights = np.array(list(mapping.values()), dtype=np.float64)
    return WeightedWords(values=values, lower=pc.utf8_lower(values), weights=weights)


@lru_cache(maxsize=1)
def company_names() -> pa.Array:
    """About 4,000 distinct company names ("Hall, Reed and Stone", "Ortiz LLC", ...)."""
    return _disk_cached("company-names", _build_company_names)


def _build_company_names() -> pa.Array:
    f = _faker("en_US")
    return pa.array(_unique((f.company() for _ in range(20_000)), 4_000), pa.string())


@lru_cache(maxsize=1)
def countries() -> pa.Array:
    return _disk_cached("countries", _build_countries)


def _build_countries() -> pa.Array:
    from faker.providers.address.en_US import Provider

    return pa.array(list(Provider.countries), pa.string())


def fold_ascii(values: pa.Array) -> pa.Array:
    """Lower case with accents folded (``Côté`` -> ``cote``) and only ``[a-z0-9.-]`` kept: for emails."""
    return pc.replace_substring_regex(pc.utf8_normalize(pc.utf8_lower(values), "NFKD"), r"[^a-z0-9.-]", "")


def _equal(names) -> WeightedWords:
    """A pool of equally likely names; ``lower`` is folded to ASCII (``côté`` -> ``cote``) for emails."""
    values = pa.array(list(dict.fromkeys(names)), pa.string())
    return WeightedWords(values=values, lower=fold_ascii(values), weights=np.ones(len(values)))


@lru_cache(maxsize=1)
def apostrophe_surnames() -> pa.Array:
    """Irish surnames with an apostrophe (O'Brien, D'Arcy, ...) from Faker's en_IE list: brand names."""
    return _disk_cached("apostrophe-surnames", _build_apostrophe_surnames)


def _build_apostrophe_surnames() -> pa.Array:
    from faker.providers.person.en_IE import Provider

    return pa.array([n for n in dict.fromkeys(Provider.last_names) if "'" in n], pa.string())


# --- names of people born abroad, and Japanese company names ---------------------------------

# Countries of birth whose Faker locale has Latin-script person names, with their accents and
# letters (José Peña, Jürgen Müller, Søren Ødegård, Nguyễn): names of people living in the US who
# were born there. Spanish-speaking countries without a locale of their own take the names of the
# nearest one (Central America and the Caribbean Mexico's, Uruguay and Paraguay Argentina's);
# Belgium Dutch, Switzerland German (the larger language groups). Poland and Iceland are left out:
# Faker has no Polish surnames, and Icelanders have patronymics.
NAME_COUNTRIES = (
    ("Mexico", "es_MX"),
    ("Spain", "es_ES"),
    ("Colombia", "es_CO"),
    ("Argentina", "es_AR"),
    ("Chile", "es_CL"),
    ("Cuba", "es_MX"),
    ("Dominican Republic", "es_MX"),
    ("Puerto Rico", "es_MX"),
    ("El Salvador", "es_MX"),
    ("Guatemala", "es_MX"),
    ("Honduras", "es_MX"),
    ("Nicaragua", "es_MX"),
    ("Costa Rica", "es_MX"),
    ("Panama", "es_MX"),
    ("Venezuela", "es_CO"),
    ("Ecuador", "es_CO"),
    ("Peru", "es_CO"),
    ("Bolivia", "es_CO"),
    ("Uruguay", "es_AR"),
    ("Paraguay", "es_AR"),
    ("Brazil", "pt_BR"),
    ("Portugal", "pt_PT"),
    ("France", "fr_FR"),
    ("Germany", "de_DE"),
    ("Austria", "de_AT"),
    ("Switzerland", "de_CH"),
    ("Liechtenstein", "de_LI"),
    ("Netherlands", "nl_NL"),
    ("Belgium", "nl_BE"),
    ("Italy", "it_IT"),
    ("Ireland", "en_IE"),
    ("Denmark", "da_DK"),
    ("Norway", "no_NO"),
    ("Sweden", "sv_SE"),
    ("Finland", "fi_FI"),
    ("Estonia", "et_EE"),
    ("Latvia", "lv_LV"),
    ("Czech Republic", "cs_CZ"),
    ("Slovakia (Slovak Republic)", "sk_SK"),
    ("Slovenia", "sl_SI"),
    ("Croatia", "hr_HR"),
    ("Hungary", "hu_HU"),
    ("Romania", "ro_RO"),
    ("Turkey", "tr_TR"),
    ("Vietnam", "vi_VN"),
)
NAME_LOCALES = tuple(dict.fromkeys(locale for _, locale in NAME_COUNTRIES))
# Kinds of names in ``LocaleNames`` (surnames have a female and a male form in Czech, Slovak, Latvian).
FEMALE_FIRST, MALE_FIRST, FEMALE_LAST, MALE_LAST = range(4)
NAME_KINDS = 4
FIRST_NAME_WIDTH, LAST_NAME_WIDTH = 20, 30  # TPC-DS c_first_name char(20), c_last_name char(30)


@dataclass(frozen=True)
class LocaleNames:
    """First names and surnames of the ``NAME_LOCALES``, concatenated, each kind of each locale a slice.

    Group ``locale * NAME_KINDS + kind`` is ``values[offset[g] : offset[g] + count[g]]``; names
    within a group are equally likely (most of these Faker lists carry no frequencies).
    """

    values: pa.Array
    ascii: pa.Array  # the same names in ASCII letters, case kept (Peña -> Pena, Müller -> Muller): logins, emails
    offset: np.ndarray
    count: np.ndarray

    def pick(self, locale: np.ndarray | int, kind: np.ndarray | int, u: np.ndarray) -> np.ndarray:
        """Index into ``values`` of the name at uniform ``u`` in [0, 1) among ``locale``'s names of ``kind``."""
        g = np.asarray(locale) * NAME_KINDS + np.asarray(kind)
        count = self.count[g]
        return self.offset[g] + np.minimum((u * count).astype(np.int64), count - 1)


@lru_cache(maxsize=1)
def locale_person_names() -> LocaleNames:
    """Person names of every locale of ``NAME_COUNTRIES``: one pool, one cache file."""
    return _disk_cached("locale-person-names", _build_locale_person_names)


# Letters that Unicode does not decompose into a Latin letter and an accent.
_ASCII_LETTERS = str.maketrans(
    {"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d",
     "Đ": "D", "ı": "i", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th"}
)  # fmt: skip


def ascii_name(name: str) -> str:
    """``name`` in ASCII letters: accents dropped, a few letters spelled out (Søren Groß -> Soren Gross)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS))
    return "".join(c for c in decomposed if c.isascii())


# Words of letters joined by one space, hyphen or apostrophe: leaves out the few list entries that are
# initials ("Hans D."), inverted ("Bourgondië, van") or garbled ("N˜zamett˜n").
_NAME = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")


def _build_locale_person_names() -> LocaleNames:
    import importlib

    values: list[str] = []
    offset, count = [], []
    for locale in NAME_LOCALES:
        p = importlib.import_module(f"faker.providers.person.{locale}").Provider
        last = getattr(p, "last_names", ())
        kinds = (
            (p.first_names_female, FIRST_NAME_WIDTH),
            (p.first_names_male, FIRST_NAME_WIDTH),
            (getattr(p, "last_names_female", None) or last, LAST_NAME_WIDTH),
            (getattr(p, "last_names_male", None) or last, LAST_NAME_WIDTH),
        )
        for names, width in kinds:
            kept = [n for n in dict.fromkeys(names) if len(n) <= width and _NAME.fullmatch(n) and ascii_name(n)]
            if len(kept) < 5:
                raise RuntimeError(f"Faker {locale}: too few names ({len(kept)})")
            offset.append(len(values))
            count.append(len(kept))
            values.extend(kept)
    return LocaleNames(
        values=pa.array(values, pa.string()),
        ascii=pa.array([ascii_name(v) for v in values], pa.string()),
        offset=np.array(offset, dtype=np.int64),
        count=np.array(count, dtype=np.int64),
    )


@lru_cache(maxsize=1)
def japanese_name_stems() -> pa.Array:
    """Japanese surnames in kanji and katakana (佐藤, スズキ) and place names (東京, 横浜, 浦安): what
    Japanese company names are made of (トヨタ, 三井, 東京ガス). Prefix-free: no stem begins another,
    so a stem followed by more text is read back one way only."""
    return _disk_cached("japanese-name-stems", _build_japanese_name_stems)


def _build_japanese_name_stems() -> pa.Array:
    from faker.providers.address.ja_JP import Provider as Address
    from faker.providers.person.ja_JP import Provider as Person

    prefectures = [p if p == "北海道" else p[:-1] for p in Address.prefectures]  # 東京都 -> 東京
    cities = [c.split("市")[0] for c in Address.cities if "市" in c and "郡" not in c]  # 横浜市中区 -> 横浜
    stems = sorted(dict.fromkeys([*Person.last_names, *Person.last_kana_names, *prefectures, *cities]))
    # In sorted order a stem that begins others is followed by one of them: drop it.
    kept = [s for s, after in zip(stems, [*stems[1:], ""], strict=True) if not after.startswith(s)]
    return pa.array(kept, pa.string())


# (display name, Faker locale, share of addresses, localities in the pool). Canada is split
# into English-speaking provinces and French-speaking Quebec (about a fifth of Canadians), whose
# street names, towns and "Ville (QC) H2X 1Y4" lines are French, with accents.
_ADDRESS_COUNTRIES = (
    ("United States", "en_US", 0.85, 3000),
    ("Canada", "en_CA", 0.055, 500),
    ("Canada", "fr_CA", 0.015, 300),
    ("United Kingdom", "en_GB", 0.05, 600),
    ("Australia", "en_AU", 0.03, 400),
)
QUEBEC = 2  # index of the fr_CA group in the address pools: its customers have French names


def _us_localities(f, n: int):
    from faker.providers.address.en_US import Provider

    # Faker's abbreviations include DC, its state names do not: pair them without it.
    abbrs = [a for a in Provider.states_abbr if a != "DC"][: len(Provider.states)]
    names = list(Provider.states)
    if (abbrs[0], abbrs[-1], names[0], names[-1]) != ("AL", "WY", "Alabama", "Wyoming"):
        raise RuntimeError("unexpected Faker US state lists")
    ranges = Provider.states_postcode
    # Weight states by the width of their zip range: a rough stand-in for population.
    weights = np.array([ranges[a][1] - ranges[a][0] + 1 for a in abbrs], dtype=np.float64)
    rng = np.random.default_rng(_POOL_SEED)
    picks = rng.choice(len(abbrs), size=n, p=weights / weights.sum())
    rows = []
    for i in picks:
        city = f.city()
        zip_code = f.zipcode_in_state(abbrs[i])
        rows.append((city, names[i], zip_code, f"{city}, {abbrs[i]} {zip_code}"))
    return rows


def _ca_localities(f, n: int):
    rows = []
    for _ in range(n):
        abbr = f.province_abbr()
        while abbr == "QC":  # Quebec has its own French pool
            abbr = f.province_abbr()
        city, post = f.city(), _ca_postcode(f.postcode_in_province(abbr))
        rows.append((city, _CA_PROVINCES[abbr], post, f"{city}, {abbr} {post}"))
    return rows


def _ca_postcode(code: str) -> str:
    """Canada Post's form, ``A1A 1A1``: Faker leaves the space out of about half its codes."""
    code = code.replace(" ", "")
    return f"{code[:3]} {code[3:]}"


_CA_PROVINCES = {
    "AB": "Alberta",
    "BC": "British Columbia",
    "MB": "Manitoba",
    "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador",
    "NS": "Nova Scotia",
    "NT": "Northwest Territories",
    "NU": "Nunavut",
    "ON": "Ontario",
    "PE": "Prince Edward Island",
    "QC": "Quebec",
    "SK": "Saskatchewan",
    "YT": "Yukon",
}


def _qc_localities(f, n: int):
    # Faker's fr_CA town names are built from pieces; drop the malformed ones ("L' Lavoie",
    # "Lac- Marie", "Baie-Mont--Thibault") rather than ship them.
    cities = _unique((c for c in (f.city() for _ in range(50 * n)) if not re.search(r"'\s|-\s|--|\s-", c)), n)
    rows = []
    for i in range(n):
        city, post = cities[i % len(cities)], _ca_postcode(f.postcode_in_province("QC"))
        rows.append((city, "Québec", post, f"{city} (QC) {post}"))
    return rows


def _gb_localities(f, n: int):
    rows = []
    for _ in range(n):
        city, county, post = f.city(), f.county(), f.postcode()
        rows.append((city, county, post, f"{city}, {post}"))
    return rows


def _au_localities(f, n: int):
    from faker.providers.address.en_AU import Provider

    abbrs = list(Provider.states_abbr)
    names = list(Provider.states)
    rows = []
    for _ in range(n):
        k = f.random_int(0, len(abbrs) - 1)
        city, post = f.city(), _au_postcode(abbrs[k], f.postcode())
        rows.append((city, names[k], post, f"{city} {abbrs[k]} {post}"))
    return rows


# Australia Post's ranges begin with the state's digits (NSW 2xxx, ACT 26xx, NT 08xx, ...).
_AU_POSTCODE_LEAD = {"ACT": "26", "NSW": "2", "NT": "08", "QLD": "4", "SA": "5", "TAS": "7", "VIC": "3", "WA": "6"}


def _au_postcode(state: str, code: str) -> str:
    """Faker's code (any state's) with the state's leading digits, its other digits kept."""
    lead = _AU_POSTCODE_LEAD[state]
    return lead + code[len(lead) :]


_LOCALITY_BUILDERS = {
    "en_US": _us_localities,
    "en_CA": _ca_localities,
    "fr_CA": _qc_localities,
    "en_GB": _gb_localities,
    "en_AU": _au_localities,
}


@lru_cache(maxsize=1)
def address_pools() -> AddressPools:
    return _disk_cached("address-pools", _build_address_pools)


def _build_address_pools() -> AddressPools:
    streets: list[str] = []
    street_offset, street_count = [], []
    localities: list[tuple[str, str, str, str]] = []
    loc_offset, loc_count = [], []
    for _name, locale, _share, n in _ADDRESS_COUNTRIES:
        f = _faker(locale)
        names = _unique((f.street_name() for _ in range(4 * n)), n)
        street_offset.append(len(streets))
        street_count.append(len(names))
        streets.extend(names)
        rows = _LOCALITY_BUILDERS[locale](f, n)
        loc_offset.append(len(localities))
        loc_count.append(len(rows))
        localities.extend(rows)
    city, region, post, tail = (pa.array(list(col), pa.string()) for col in zip(*localities, strict=True))
    return AddressPools(
        countries=pa.array([c[0] for c in _ADDRESS_COUNTRIES], pa.string()),
        country_weights=np.array([c[2] for c in _ADDRESS_COUNTRIES]),
        street_names=pa.array(streets, pa.string()),
        street_offset=np.array(street_offset, dtype=np.int64),
        street_count=np.array(street_count, dtype=np.int64),
        city=city,
        region=region,
        postcode=post,
        tail=tail,
        locality_offset=np.array(loc_offset, dtype=np.int64),
        locality_count=np.array(loc_count, dtype=np.int64),
    )


@dataclass(frozen=True)
class LocalityZones:
    """The IANA time zone of every locality of ``address_pools()``."""

    names: pa.Array  # distinct zone names, sorted
    zone: np.ndarray  # per locality: index into ``names``


# Provinces and states of one zone each (Faker's Canadian and Australian localities name them).
_CA_ZONES = {
    "Alberta": "America/Edmonton",
    "British Columbia": "America/Vancouver",
    "Manitoba": "America/Winnipeg",
    "New Brunswick": "America/Moncton",
    "Newfoundland and Labrador": "America/St_Johns",
    "Northwest Territories": "America/Edmonton",
    "Nova Scotia": "America/Halifax",
    "Nunavut": "America/Iqaluit",
    "Ontario": "America/Toronto",
    "Prince Edward Island": "America/Halifax",
    "Quebec": "America/Toronto",
    "Québec": "America/Toronto",  # the French-speaking pool (fr_CA) spells it so
    "Saskatchewan": "America/Regina",
    "Yukon": "America/Whitehorse",
}
_AU_ZONES = {
    "Australian Capital Territory": "Australia/Sydney",
    "New South Wales": "Australia/Sydney",
    "Northern Territory": "Australia/Darwin",
    "Queensland": "Australia/Brisbane",
    "South Australia": "Australia/Adelaide",
    "Tasmania": "Australia/Hobart",
    "Victoria": "Australia/Melbourne",
    "Western Australia": "Australia/Perth",
}


@lru_cache(maxsize=1)
def locality_zones() -> LocalityZones:
    """Time zone of each locality: US ones from their ZIP code (the ``zipcodes`` package's table),
    Canadian and Australian ones from their province or state, British ones Europe/London."""
    from importlib.metadata import version

    return _disk_cached(f"locality-zones-zipcodes{version('zipcodes')}", _build_locality_zones)


def _build_locality_zones() -> LocalityZones:
    from zoneinfo import ZoneInfo

    pools = address_pools()
    regions = pools.region.to_pylist()
    names: list[str] = []
    for (country, *_), first, count in zip(
        _ADDRESS_COUNTRIES, pools.locality_offset, pools.locality_count, strict=True
    ):
        part = regions[first : first + count]
        if country == "United States":
            names.extend(_us_zones(pools.postcode.slice(first, count).to_pylist(), part))
        elif country == "Canada":
            names.extend(_CA_ZONES[r] for r in part)
        elif country == "Australia":
            names.extend(_AU_ZONES[r] for r in part)
        else:
            names.extend("Europe/London" for _ in part)
    distinct = sorted(set(names))
    for name in distinct:
        ZoneInfo(name)  # fails loudly on a name the time zone database does not know
    index = {name: i for i, name in enumerate(distinct)}
    return LocalityZones(
        names=pa.array(distinct, pa.string()), zone=np.array([index[n] for n in names], dtype=np.int64)
    )


def _us_zones(postcodes: list[str], states: list[str]) -> list[str]:
    """Zone of the real ZIP code of the same state nearest to each (Faker's are random in range)."""
    from zoneinfo import available_timezones

    import zipcodes
    from faker.providers.address.en_US import Provider

    known = available_timezones()
    abbrs = [a for a in Provider.states_abbr if a != "DC"][: len(Provider.states)]  # as in _us_localities
    abbr = dict(zip(Provider.states, abbrs, strict=True))
    real: dict[str, tuple[np.ndarray, list[str]]] = {}
    for state in set(states):
        rows = sorted(
            (int(z["zip_code"]), z["timezone"]) for z in zipcodes.filter_by(state=abbr[state]) if z["timezone"] in known
        )
        real[state] = (np.array([r[0] for r in rows]), [r[1] for r in rows])
    out = []
    for code, state in zip(postcodes, states, strict=True):
        zips, zones = real[state]
        i = int(np.searchsorted(zips, int(code)))
        if i == len(zips) or (i > 0 and int(code) - zips[i - 1] <= zips[i] - int(code)):
            i -= 1
        out.append(zones[i])
    return out


def warm_up() -> None:
    """Build every pool now (worker start-up), not inside the first timed chunk."""
    first_names()
    gendered_first_names(True)
    gendered_first_names(False)
    last_names()
    locale_names("fr_CA", "first")  # Quebec customers' names (ecommerce)
    locale_names("fr_CA", "last")
    apostrophe_surnames()
    locale_person_names()
    japanese_name_stems()
    company_names()
    countries()
    address_pools()
    locality_zones()


# --- pools for model files: any Faker locale ------------------------------------------------

_NAME_ATTRS = {
    ("first", "any"): "first_names",
    ("first", "female"): "first_names_female",
    ("first", "male"): "first_names_male",
    ("last", "any"): "last_names",
    ("last", "female"): "last_names_female",
    ("last", "male"): "last_names_male",
}


@lru_cache(maxsize=1)
def _faker_locales() -> tuple[str, ...]:
    """Faker's locales, saved like the vocabularies: importing Faker costs 60 ms a process."""

    def build() -> pa.Array:
        from faker.config import AVAILABLE_LOCALES

        return pa.array(sorted(AVAILABLE_LOCALES), pa.string())

    return tuple(_disk_cached("faker-locales", build).to_pylist())


def check_locale(locale: str) -> str:
    """``locale`` if Faker has it, else a ValueError naming the closest ones."""
    import difflib

    available = _faker_locales()
    if locale in available:
        return locale
    close = difflib.get_close_matches(locale, available, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown locale '{locale}'{hint}")


@lru_cache(maxsize=64)
def locale_names(locale: str, kind: str, gender: str = "any") -> WeightedWords:
    """First or last names of a Faker locale with their frequency weights where the locale has them."""
    if locale == "en_US" and gender == "any":
        return first_names() if kind == "first" else last_names()
    return _disk_cached(f"names-{locale}-{kind}-{gender}", lambda: _build_locale_names(locale, kind, gender))


def _build_locale_names(locale: str, kind: str, gender: str) -> WeightedWords:
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{check_locale(locale)}").Provider
    names = getattr(provider, _NAME_ATTRS[(kind, gender)], None) or getattr(provider, _NAME_ATTRS[(kind, "any")])
    if isinstance(names, dict):
        return _weighted(names)
    return _equal(names)


@lru_cache(maxsize=64)
def locale_pool(locale: str, what: str) -> pa.Array:
    """Distinct values of one Faker method for a locale (company, job, phone_number, word, sentence)."""
    return _disk_cached(f"pool-{locale}-{what}", lambda: _build_locale_pool(locale, what))


_POOL_SIZES = {"company": 4_000, "job": 2_000, "phone_number": 20_000, "word": 2_000, "sentence": 5_000}


def _build_locale_pool(locale: str, what: str) -> pa.Array:
    f = _faker(check_locale(locale))
    limit = _POOL_SIZES[what]
    if what == "job":  # the provider's whole list
        import importlib

        try:
            jobs = importlib.import_module(f"faker.providers.job.{locale}").Provider.jobs
        except (ImportError, AttributeError):
            jobs = importlib.import_module("faker.providers.job.en_US").Provider.jobs
        return pa.array(list(dict.fromkeys(jobs)), pa.string())
    if what == "word":
        words = f.get_words_list() if hasattr(f, "get_words_list") else [f.word() for _ in range(limit * 4)]
        return pa.array(_unique(words, limit), pa.string())
    method = getattr(f, what)
    return pa.array(_unique((method() for _ in range(limit * 3)), limit), pa.string())
