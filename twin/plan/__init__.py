"""Floor plans from the scan: walls and openings found in a levelled cloud, and plans of a layout
drawn as SVG, PDF (at a stated scale) and DXF (named layers).

Room: floor 3; imports document, scanfolder, geometry and progress (and numpy, cv2, ezdxf, reportlab); the CLI and serve (its plan download) import it.
"""
from twin.plan.extraction import PlanSettings, extract_floor_plan
from twin.plan.scan import scan_with_floor_plan
from twin.plan.footprints import Footprint, layout_footprints
from twin.plan.drawing import PlanDrawing, build_drawing
from twin.plan.writers import plan_bytes, write_plan


__all__ = ["Footprint", "PlanDrawing", "PlanSettings", "build_drawing", "extract_floor_plan", "layout_footprints",
           "plan_bytes", "scan_with_floor_plan", "write_plan"]
