"""The twin document: machines, anchors, procedures, tours, layout variants, measurements, live sources and scan versions.

Room: plain data (`model`), its schema check (`validation`) and the references a schema cannot
check (`references`). Imports the stdlib, numpy, yaml, jsonschema and `twin.geometry` only; no I/O
beyond reading and writing a document.
"""
from twin.document.model import (
                                 Anchor,
                                 Box,
                                 FloorPlan,
                                 Highlight,
                                 Layout,
                                 LiveProperty,
                                 Machine,
                                 Measurement,
                                 Media,
                                 Model,
                                 PlanOpening,
                                 PlanWall,
                                 Pose,
                                 PrintedMarker,
                                 Procedure,
                                 Source,
                                 SourceMachine,
                                 Step,
                                 Stop,
                                 Text,
                                 Tour,
                                 TwinDocument,
                                 Vec3,
                                 Version,
                                 Viewpoint,
                                 from_dict,
                                 load,
                                 to_dict,
                                 to_json,
)
from twin.document.references import (
                                 GLB_NODES,
                                 MARKER_DICTIONARY_SIZES,
                                 QUATERNION_NORM_TOLERANCE,
)
from twin.document.validation import (
                                 SCHEMA_PATH,
                                 SCHEMA_VERSION,
                                 DocumentError,
                                 schema,
                                 validate,
)

__all__ = ["GLB_NODES", "MARKER_DICTIONARY_SIZES", "QUATERNION_NORM_TOLERANCE", "SCHEMA_PATH", "SCHEMA_VERSION",
           "Anchor", "Box", "DocumentError", "FloorPlan", "Highlight", "Layout", "LiveProperty", "Machine", "Measurement", "Media",
           "Model", "PlanOpening", "PlanWall", "Pose", "PrintedMarker", "Procedure", "Source", "SourceMachine", "Step", "Stop", "Text", "Tour",
           "TwinDocument", "Vec3", "Version", "Viewpoint",
           "from_dict", "load", "schema", "to_dict", "to_json", "validate"]
