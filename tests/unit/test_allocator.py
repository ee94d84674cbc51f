"""A server process keeps to the arenas it is given, so its memory does not swing over a long day (#14)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Eight threads allocate at once, then glibc's own report (malloc_info) says how many arenas ("heaps") exist.
PROBE = textwrap.dedent(
    """
    import ctypes, re, sys, tempfile, threading
    from captions.allocator import settle_allocator

    settled = settle_allocator(int(sys.argv[1]))
    start = threading.Barrier(8)
    held = []

    def allocate():
        start.wait()
        held.extend(bytearray(100_000) for _ in range(200))

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile() as report:
        stream = libc.fopen(report.name.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        print(settled, len(re.findall("<heap nr=", open(report.name).read())))
    """
)


def arenas_after_threads(arenas: int) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(arenas)], capture_output=True, text=True, check=True
    )
    settled, heaps = out.stdout.split()
    return settled == "True", int(heaps)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_a_settled_allocator_keeps_to_its_arenas_however_many_threads_allocate() -> None:
    settled, heaps = arenas_after_threads(2)
    assert settled
    assert heaps <= 2
    # glibc's default, for comparison: an arena per thread that allocated at the same time as another
    untouched, default_heaps = arenas_after_threads(0)
    assert not untouched
    assert default_heaps > 2
