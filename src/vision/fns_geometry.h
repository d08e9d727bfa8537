/*
 * fns_geometry.h - the geometry and puzzle family's registry list, picked
 * up by core/registry.h: points, polygons, keypoints, 3D boxes, actions
 * (points.c, spatial.c), mazes (maze.c), jigsaw and rotation (puzzles.c).
 */
#ifndef RK_VISION_FNS_GEOMETRY_H
#define RK_VISION_FNS_GEOMETRY_H

#define RK__FN_LIST_GEOMETRY(X) \
  X(point_in_box)               \
  X(point_in_polygon)           \
  X(keypoint_distance)          \
  X(iou3d)                      \
  X(action_distance)            \
  X(maze)                       \
  X(jigsaw)                     \
  X(rotation)

#endif /* RK_VISION_FNS_GEOMETRY_H */
