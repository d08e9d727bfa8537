/*
 * fns_boxes.h - the box reward functions (src/vision/iou.c, detection.c,
 * coco_map.c, count.c), picked up by core/registry.h.
 */
#ifndef RK_VISION_FNS_BOXES_H
#define RK_VISION_FNS_BOXES_H

#define RK__FN_LIST_BOXES(X) \
  X(iou)                     \
  X(giou)                    \
  X(grounding)               \
  X(coco_map)                \
  X(detection)               \
  X(detection_hungarian)     \
  X(detection_prf)           \
  X(count)

#endif /* RK_VISION_FNS_BOXES_H */
