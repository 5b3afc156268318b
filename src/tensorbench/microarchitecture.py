"""The microarchitecture of an x86-64 CPU from its vendor, family and model.

A cloud VM often reports a bare model name ("AMD EPYC", "Intel Xeon") for CPUs that are
generations apart (a Zen 3 and a Zen 5 EPYC differ in caches, vector width and memory
bandwidth), so the machine label cannot rest on the name. The family and model numbers
come from CPUID and a VM passes them through. The ranges follow the vendors' published
family/model tables (AMD's Processor Programming References; Intel's SDM, vol. 4, and
Linux's ``arch/x86/include/asm/intel-family.h``). A CPU outside the table is named by its
numbers (``f25m200``), which is still unique, only less readable.
"""

from __future__ import annotations

# (family, first model, last model, name): AMD numbers its models in ranges per product.
AMD = (
    (23, 0x00, 0x2F, "zen"),
    (23, 0x30, 0xFF, "zen2"),
    (25, 0x00, 0x0F, "zen3"),
    (25, 0x10, 0x1F, "zen4"),
    (25, 0x20, 0x5F, "zen3"),
    (25, 0x60, 0x7F, "zen4"),
    (25, 0xA0, 0xAF, "zen4"),
    (26, 0x00, 0x4F, "zen5"),
    (26, 0x60, 0x7F, "zen5"),
)

# Intel family 6 server and client cores by model; Skylake-SP's model 85 also covers
# Cascade Lake and Cooper Lake, told apart by stepping (SDM, vol. 4, table 2-1).
INTEL_FAMILY_6 = {
    63: "haswell",
    79: "broadwell",
    106: "icelake",
    108: "icelake",
    143: "sapphirerapids",
    207: "emeraldrapids",
    173: "graniterapids",
    174: "graniterapids",
    175: "sierraforest",
    151: "alderlake",
    183: "raptorlake",
}


def _skylake_sp(stepping: int) -> str:
    if stepping >= 10:
        return "cooperlake"
    if stepping >= 5:
        return "cascadelake"
    return "skylake"


def name(vendor: str, family: int | None, model: int | None, stepping: int | None) -> str:
    """A short lower-case name such as ``zen3`` or ``sapphirerapids``; ``f{family}m{model}``
    when the table does not know the CPU, ``unknown`` without family and model."""
    if family is None or model is None:
        return "unknown"
    if vendor == "AuthenticAMD":
        for fam, first, last, uarch in AMD:
            if family == fam and first <= model <= last:
                return uarch
    if vendor == "GenuineIntel" and family == 6:
        if model == 85:
            return _skylake_sp(stepping or 0)
        if model in INTEL_FAMILY_6:
            return INTEL_FAMILY_6[model]
    return f"f{family}m{model}"
