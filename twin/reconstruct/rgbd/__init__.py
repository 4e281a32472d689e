"""RGB-D reconstruction: frame-to-model tracking, fragments, loop closure, TSDF fusion, markers.

Room of `twin.reconstruct`; imports capture, registration, markers and the scan folder's writers.
"""
