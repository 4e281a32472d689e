"""Registration: the typed Python face of the C++ core (`twin._native`), for every stage that aligns.

Room: point clouds (`voxel_downsample`, `KdTree`), local alignment (`align`, `prepare`), global
registration (`align_global`), pose graphs (`optimize_pose_graph`). Imports only `twin._native`,
numpy, `twin.geometry` (the rigid-transform check, numpy only) and `twin.progress` (the callback
type, stdlib only); its modules depend downward only (`clouds` <- `align` <- `global_registration`,
`align` <- `pose_graph`), and nothing here imports the rest of twin. The core's bound classes
stay behind these wrappers: `PreparedCloud`, `KdTree` and the result dataclasses are Python types.

    from twin import registration
    target = registration.prepare(target_points, voxel_size=0.25)      # reusable, e.g. per keyframe
    result = registration.align(source_points, target, method="gicp",  # or "point_to_point", "point_to_plane"
                                max_correspondence_distance=1.0, voxel_size=0.25,
                                init=np.eye(4), robust_kernel=None, max_iterations=64)
    result.T_target_source    # (4, 4): maps source coordinates into the target frame
    registration.align_global(source_points, target_points, voxel_size=0.05).T_target_source
    sparse = registration.voxel_downsample(points, voxel_size_m=0.02)  # (M, 3) voxel centroids
    registration.KdTree(sparse).nearest(queries, max_distance_m=0.1)   # .indices, .distances (m)

Units: metres for lengths and degrees for the angle a caller gives, whether or not a name says so.
    Points, `T_target_source` translations, `RegistrationResult.inlier_rmse`, `Neighbors.distances`:
        metres. `information` weighs rotations in radians and translations in metres.
    voxel_size, max_correspondence_distance, kernel_scale, translation_epsilon (align, prepare,
        align_global, describe): metres. These older names keep no `_m` suffix, for compatibility.
    voxel_size_m, max_distance_m, radius_m (voxel_downsample, KdTree), outlier_distance_m
        (optimize_pose_graph): metres, named as the house rule asks of new names.
    rotation_epsilon_deg: degrees.
    align_global with with_scale=True: the source may be in any unit; the distances above are in
        the target's (metres).

Points are (N, 3) arrays (other float or int dtypes are converted to float64; finite rows only).
Bad input raises ValueError with a sentence saying what was wrong. The core runs in C++ with the
GIL released, so registrations can run in threads (e.g. `asyncio.to_thread`) alongside other work.
"""
from twin.geometry import RIGID_TOLERANCE, as_rigid_transform
from twin.registration.align import (
                                     DEFAULT_NUM_NEIGHBORS,
                                     METHODS,
                                     ROBUST_KERNELS,
                                     PreparedCloud,
                                     RegistrationResult,
                                     align,
                                     get_num_threads,
                                     prepare,
                                     set_num_threads,
)
from twin.registration.clouds import KdTree, Neighbors, as_points, voxel_downsample
from twin.registration.global_registration import (
                                     GlobalAlignment,
                                     TrustCriteria,
                                     align_global,
                                     align_global_detailed,
)
from twin.registration.pose_graph import PoseGraphResult, optimize_pose_graph

__all__ = ["DEFAULT_NUM_NEIGHBORS", "METHODS", "RIGID_TOLERANCE", "ROBUST_KERNELS", "GlobalAlignment", "KdTree",
           "Neighbors", "PoseGraphResult", "PreparedCloud", "RegistrationResult", "TrustCriteria", "align",
           "align_global", "align_global_detailed", "as_points", "as_rigid_transform", "get_num_threads",
           "optimize_pose_graph", "prepare", "set_num_threads", "voxel_downsample"]
