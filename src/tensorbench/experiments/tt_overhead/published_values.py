"""The TT note's published values (another machine): what the tables and the figure set
beside ours."""

from __future__ import annotations


def published_rows(case: str):
    """The note's published rows of ``case`` (site_update or chain_L32), chi as int, µs."""
    from tensorbench import published

    rows = published.select("tt_note", experiment="tt_inner", case=case)
    return rows.assign(chi=rows["size"].str.removeprefix("chi=").astype(int))


PUBLISHED_SITE_UPDATE = {
    "itensors": "ITensors.jl median",
    "tenferro_normal": "tenferro-rs mean, before the fix",
    "tenferro_openblas_cached_inline": "tenferro-rs OpenBLAS cached mean, after the fix",
    "direct_openblas_2x_zgemm": "direct OpenBLAS 2x zgemm mean",
}


PUBLISHED_CHAIN = {
    "tenferro_fresh_backend": "tenferro-rs fresh backend mean",
    "tenferro_single_session": "tenferro-rs single session mean",
}


# The cases the note published values for: the ones comparison_table and figure show.
COMPARED_CASES = ("site_update", "chain")


def check_compared(case: str) -> None:
    if case not in COMPARED_CASES:
        raise ValueError(f"case must be one of {COMPARED_CASES} (published data), got {case!r}")
