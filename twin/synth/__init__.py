"""The procedural sample workshop: a declarative room with machines, rendered on the CPU into
RGB-D frames, photos and ground truth (the embedded default for the demo and the tests)."""
from twin.synth.spec import DEFAULT_SPEC, Machine, Material, Part, SceneObject, Workshop, load_workshop

__all__ = ["DEFAULT_SPEC", "Machine", "Material", "Part", "SceneObject", "Workshop", "load_workshop"]
