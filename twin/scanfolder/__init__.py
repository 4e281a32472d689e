"""The files of a scan folder (`scans/NAME/`, see docs/architecture.md), read and written in one place.

    cloud.ply, mesh.ply        clouds (PLY, PCD, XYZ, PTS read; PLY written), meshes  clouds.py, meshes.py
    cameras.json               the reconstructed cameras                              cameras.py
    anchors.json               the printed markers a reconstruction measured          anchors.py
    report.json, stages.json   and the other JSON files                               json_files.py
    versions/<id>/version.json the scans of the room over time                        versions.py

Every writer writes through `atomic_write`, so a file with its final name is always complete. Every
reader raises ValueError with a sentence that names the file and says what is wrong with it: the
CLI prints it as its one error line. The readers of clouds and number tables serve the files users
bring as well (`twin register`'s clouds and --init transform, a photo folder's K.txt).
"""
from twin.scanfolder.anchors import ANCHORS_FILE, ScanMarker, marker_anchor, read_scan_markers, write_anchors_json
from twin.scanfolder.atomic import atomic_write
from twin.scanfolder.cameras import read_cameras_json, write_cameras_json
from twin.scanfolder.clouds import CLOUD_SUFFIXES, colors_uint8, read_cloud, write_point_cloud_ply
from twin.scanfolder.json_files import read_json, write_json
from twin.scanfolder.meshes import TriangleMesh, read_mesh, write_mesh_ply
from twin.scanfolder.text_table import read_number_rows
from twin.scanfolder.versions import (FIRST_VERSION_ID, VERSION_FILE, VERSIONS_DIR, next_version_id, read_versions,
                                      version_folder, write_version)

__all__ = ["ANCHORS_FILE", "CLOUD_SUFFIXES", "FIRST_VERSION_ID", "VERSION_FILE", "VERSIONS_DIR", "ScanMarker",
           "TriangleMesh", "atomic_write", "colors_uint8", "marker_anchor", "read_cameras_json", "read_cloud",
           "read_json", "read_mesh",
           "read_number_rows", "read_scan_markers", "write_anchors_json", "write_cameras_json", "write_json",
           "write_mesh_ply", "write_point_cloud_ply", "next_version_id", "read_versions", "version_folder",
           "write_version"]
