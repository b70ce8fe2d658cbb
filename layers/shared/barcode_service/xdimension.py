"""The least module (X-dimension) a printed symbol may have, in mm and in printer dots.

Two floors, the larger wins:
- `LEAST_DOTS` whole dots: a module one dot wide is what dot gain and a worn
  thermal printhead lose first (the project's rule, for every symbology).
- a least width in mm per symbology: EAN/UPC may not be printed below 80% of their
  0.330 mm nominal module, 0.264 mm (GS1 General Specifications, symbol specification
  tables); every other type, 0.19 mm (7.5 mil: the project's default, the finest module
  it prints for general-purpose scanners).

Label sheets refuse a barcode below these (400 naming the label); a single PDF/EPS of
an explicit size gets a warning instead (the caller chose the size).

On a label the module is also kept at or below a largest width: 0.66 mm for EAN/UPC
(200%, the largest magnification the GS1 tables allow), 1 mm for the rest (the
project's choice: larger modules only take label room from the text and make the
read-back slower, nothing scans better for them).
"""

from __future__ import annotations

import math

from .symbologies import Symbology

LEAST_DOTS = 2
DEFAULT_LEAST_MM = 0.19
EAN_UPC_LEAST_MM = 0.264

EAN_UPC = ("ean13", "ean8", "upca", "upce", "isbn", "ean2", "ean5")
LEAST_MM: dict[str, float] = dict.fromkeys(EAN_UPC, EAN_UPC_LEAST_MM)
DEFAULT_MOST_MM = 1.0
MOST_MM: dict[str, float] = dict.fromkeys(EAN_UPC, 0.66)


def least_mm(symbology: Symbology) -> float:
    """The least module width in mm for this type (whatever the printer)."""
    return LEAST_MM.get(symbology.name, DEFAULT_LEAST_MM)


def least_dots(symbology: Symbology, dpi: int) -> int:
    """The least whole dots per module at `dpi` that meet both floors."""
    return max(LEAST_DOTS, math.ceil(least_mm(symbology) / 25.4 * dpi - 1e-9))


def most_dots(symbology: Symbology, dpi: int) -> int:
    """The most whole dots per module at `dpi` within the largest width (never below
    the least)."""
    most = math.floor(MOST_MM.get(symbology.name, DEFAULT_MOST_MM) / 25.4 * dpi + 1e-9)
    return max(most, least_dots(symbology, dpi))


def module_mm(dots: int, dpi: int) -> float:
    """The width in mm of a module `dots` dots wide at `dpi`."""
    return dots * 25.4 / dpi
