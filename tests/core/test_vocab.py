"""Vocabulary pools: the on-disk cache gives back exactly what Faker built."""

import re

import numpy as np

from gengo.core import vocab


def test_disk_cache_round_trips_pools(tmp_path, monkeypatch):
    monkeypatch.setenv("GENGO_CACHE_DIR", str(tmp_path))
    built = vocab._build_address_pools()
    first = vocab._disk_cached("address-pools", vocab._build_address_pools)  # builds and saves
    assert list((tmp_path / "gengo").glob("address-pools-*.arrow"))
    again = vocab._disk_cached("address-pools", lambda: None)  # must come from the file
    for result in (first, again):
        assert isinstance(result, vocab.AddressPools)
        for field in ("city", "tail", "street_names", "countries"):
            assert getattr(result, field).equals(getattr(built, field))
        for field in ("country_weights", "street_offset", "locality_count"):
            assert np.array_equal(getattr(result, field), getattr(built, field))
    names = vocab._disk_cached("company-names", vocab._build_company_names)
    assert vocab._disk_cached("company-names", lambda: None).equals(names)


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GENGO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("GENGO_NO_CACHE", "1")
    vocab._disk_cached("company-names", vocab._build_company_names)
    assert not (tmp_path / "gengo").exists()


def test_unreadable_cache_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("GENGO_CACHE_DIR", str(tmp_path))
    vocab._disk_cached("company-names", vocab._build_company_names)
    (path,) = (tmp_path / "gengo").glob("company-names-*.arrow")
    path.write_bytes(b"garbage")
    assert len(vocab._disk_cached("company-names", vocab._build_company_names)) > 1000


def test_name_lists_round_trip_exactly(tmp_path, monkeypatch):
    """Faker's name lists are cached too (importing Faker at every start costs ~70 ms)."""
    monkeypatch.setenv("GENGO_CACHE_DIR", str(tmp_path))

    def build():
        return vocab._weighted(vocab._person_provider().first_names)

    built = build()
    vocab._disk_cached("first-names", build)
    again = vocab._disk_cached("first-names", lambda: None)
    assert isinstance(again, vocab.WeightedWords)
    assert again.values.equals(built.values) and again.lower.equals(built.lower)
    assert again.weights.dtype == np.float64 and np.array_equal(again.weights, built.weights)
    countries = vocab._disk_cached("countries", vocab._build_countries)
    assert vocab._disk_cached("countries", lambda: None).equals(countries) and len(countries) > 200


def test_quebec_pools_are_french_and_well_formed():
    pools = vocab.address_pools()
    assert vocab._ADDRESS_COUNTRIES[vocab.QUEBEC][1] == "fr_CA"
    a, n = int(pools.locality_offset[vocab.QUEBEC]), int(pools.locality_count[vocab.QUEBEC])
    cities, regions = pools.city[a : a + n].to_pylist(), set(pools.region[a : a + n].to_pylist())
    assert regions == {"Québec"} and any(not c.isascii() for c in cities)
    assert not [c for c in cities if "--" in c or "' " in c or "- " in c]  # Faker's malformed towns dropped
    assert all(
        t.endswith(p) and "(QC)" in t
        for t, p in zip(pools.tail[a : a + n].to_pylist(), pools.postcode[a : a + n].to_pylist(), strict=True)
    )
    # English-speaking Canada no longer holds Quebec.
    b, m = int(pools.locality_offset[1]), int(pools.locality_count[1])
    assert "Quebec" not in pools.region[b : b + m].to_pylist()
    for words in (vocab.locale_names("fr_CA", "first"), vocab.locale_names("fr_CA", "last")):
        assert any(not v.isascii() for v in words.values.to_pylist())
        assert all(re.fullmatch(r"[a-z0-9.-]+", s) for s in words.lower.to_pylist())  # email-safe
    assert all("'" in s for s in vocab.apostrophe_surnames().to_pylist())


def test_canadian_and_australian_postcodes_follow_their_post_offices():
    """Canada: A1A 1A1, always with the space (Faker drops it about half the time); Australia: the
    state's leading digits (Faker draws any state's)."""
    import re

    from gengo.core import vocab

    pools = vocab.address_pools()
    names = pools.countries.to_pylist()
    lead = {
        "New South Wales": "2",
        "Victoria": "3",
        "Queensland": "4",
        "South Australia": "5",
        "Western Australia": "6",
        "Tasmania": "7",
        "Northern Territory": "08",
        "Australian Capital Territory": "26",
    }
    seen = {"ca": 0, "au": 0}
    for country, name in enumerate(names):
        a, n = int(pools.locality_offset[country]), int(pools.locality_count[country])
        codes = pools.postcode.slice(a, n).to_pylist()
        regions = pools.region.slice(a, n).to_pylist()
        if name == "Canada":
            assert all(re.fullmatch(r"[A-Z]\d[A-Z] \d[A-Z]\d", c) for c in codes), codes[:5]
            seen["ca"] += n
        if name == "Australia":
            assert all(c.startswith(lead[r]) and len(c) == 4 for c, r in zip(codes, regions, strict=True))
            seen["au"] += n
    assert seen["ca"] > 100 and seen["au"] > 100, seen
