"""The procedural sample workshop: a declarative room with machines, rendered on the CPU into
RGB-D frames, photos and ground truth (the embedded default for the demo and the tests).

Room: imports numpy, OpenCV and Open3D (and the scan folder's writers); never serve or the CLI.
"""
from twin.synth.depth_noise import DepthSensorModel
from twin.synth.drift import OdometryDrift
from twin.synth.sample import SamplePaths, render_sample
from twin.synth.spec import DEFAULT_SPEC, FiducialMarker, Machine, Material, Part, SceneObject, Workshop, load_workshop

__all__ = ["DEFAULT_SPEC", "DepthSensorModel", "FiducialMarker", "Machine", "Material", "OdometryDrift", "Part",
           "SamplePaths", "SceneObject", "Workshop", "load_workshop", "render_sample"]
