"""Floor plans from the scan: walls and openings found in a levelled cloud, and plans of a layout
drawn as SVG, PDF (at a stated scale) and DXF (named layers).

Room: floor 3; imports document, scanfolder and geometry (and numpy, ezdxf, reportlab); only the CLI imports it.
"""
from twin.plan.extraction import PlanSettings, extract_floor_plan
