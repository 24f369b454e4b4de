import platform
import sys

import pytest

from gengo.engine.tuning import keep_freed_memory, release_free_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_allocator_tuning_applies_on_glibc():
    assert keep_freed_memory() is True
    release_free_memory()  # must not raise after tuning
