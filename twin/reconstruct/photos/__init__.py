"""Photo reconstruction: SfM (pycolmap), dense stereo on the CPU, depth fusion, levelling, a mesh.

Room of `twin.reconstruct`; imports capture, registration, markers and the scan folder's writers.
"""
