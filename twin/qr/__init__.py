"""QR codes of links: the code's modules (segno encodes), drawn in a terminal with half blocks,
and printable A4 sheets of labelled codes (SVG, PDF) to stick next to machines and tour stops.

Room: floor 3; imports scanfolder (its atomic write), numpy, segno and reportlab; the CLI imports it.
"""
from twin.qr.codes import qr_modules, terminal_qr
from twin.qr.sheet import LabelledCode, write_qr_sheet

__all__ = ["LabelledCode", "qr_modules", "terminal_qr", "write_qr_sheet"]
