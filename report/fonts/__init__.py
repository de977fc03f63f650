"""The report's typeface, shipped with the code so every PDF embeds the same glyphs (€, →, accented French…).

DejaVu Sans Condensed 2.37, copied from Debian's fonts-dejavu-extra package (/usr/share/fonts/truetype/dejavu);
licence (Bitstream Vera, DejaVu changes in the public domain) in LICENSE next to the files.
"""

from pathlib import Path

FONTS = Path(__file__).resolve().parent
FAMILY = "DejaVu Sans Condensed"
# vl-convert (fontdb) files the condensed faces under the family "DejaVu Sans" (stretch: condensed) and finds them by
# PostScript name only: given "DejaVu Sans Condensed" it draws no text at all, and "DejaVu Sans" is the wide face.
CHART_FAMILY = "DejaVuSansCondensed"
FILES = {"": FONTS / "DejaVuSansCondensed.ttf", "B": FONTS / "DejaVuSansCondensed-Bold.ttf",
         "I": FONTS / "DejaVuSansCondensed-Oblique.ttf"}
