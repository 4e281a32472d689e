"""Printed ArUco / AprilTag markers: detection and pose in images, and printable sheets.

Room: imports numpy and OpenCV only; reconstruction and the CLI use it.
"""
