/*
 * boxes.h - 2D boxes for the vision rewards: the lenient scanner that
 * pulls boxes out of model output (JSON lists of {"bbox_2d": ...},
 * {"Position": ..., "Confidence": ...}, bare [x1,y1,x2,y2] in prose, code
 * fences, truncated lists), coordinate conventions (pixels, 0-1, 0-1000,
 * model-input grids; xyxy, xywh, cxcywh), IoU / GIoU, and the argument
 * block shared by every box reward (docs/rewards/vision.md).
 *
 * Not for: matching or scoring (iou.c, detection.c, hungarian.c,
 * coco_map.c), points, polygons or 3D boxes (other files in src/vision/).
 */
#ifndef RK_VISION_BOXES_H
#define RK_VISION_BOXES_H

#include "core/core.h"

/* One box in xyxy after conversion. label borrows from the scanned text
 * (raw bytes between the quotes, escapes kept); conf is NaN when absent. */
typedef struct rk__box {
  double x1, y1, x2, y2;
  double conf;
  double area;     /* "area" member when given, else NaN (COCO GT area) */
  rk__str label;
  int has_label;
  int crowd;       /* "iscrowd": true / nonzero */
  size_t at;       /* byte offset of the box's numbers in the scanned text */
} rk__box;

typedef enum { RK__BOX_XYXY, RK__BOX_XYWH, RK__BOX_CXCYWH } rk__box_layout;
typedef enum {
  RK__COORD_PIXEL,   /* image pixels */
  RK__COORD_UNIT,    /* 0-1 of the image size */
  RK__COORD_1000,    /* 0-1000 of the image size (Qwen2-VL, Vision-R1) */
  RK__COORD_GRID     /* pixels of the resized model input (Qwen2.5-VL):
                        x * W_img / W_input (VLM-R1 REC) */
} rk__coord;

/* Why boxes were dropped; counted per list and named in explanations. */
typedef enum {
  RK__DROP_NOT4,       /* a box member without exactly 4 numbers */
  RK__DROP_NONFINITE,  /* NaN, inf, or |coordinate| > 1e15 */
  RK__DROP_X,          /* x2 < x1 after conversion */
  RK__DROP_Y,          /* y2 < y1 */
  RK__DROP_TRUNCATED,  /* an object cut off by the end of the text */
  RK__DROP_LIMIT,      /* past the scanner's box limit */
  RK__DROP_EMPTY,      /* zero width or height, when degenerate boxes are dropped */
  RK__DROP__COUNT
} rk__drop;

/* Parsed list. boxes live in the arena. */
typedef struct rk__boxes {
  rk__box *b;
  size_t n;
  size_t dropped[RK__DROP__COUNT];
  size_t ndropped;
  int none_word;  /* the text is just "None"/"none"/"null"/"[]" (explicitly empty) */
  size_t items;   /* when the text opens with a list ([ after whitespace, or
                     after the info string "json" of a code block) that holds
                     anything but numbers, how many items it has (objects,
                     arrays, strings, words, numbers), else 0 */
} rk__boxes;

/* Boxes dropped as invalid (every reason but the scanner's limit). The
 * model wrote them, so the rewards that count predictions (detection's
 * vlm_r1 mode, detection_prf's precision, coco_map's length penalty)
 * count them as wrong ones: otherwise junk boxes would cost nothing. */
static inline size_t rk__boxes_invalid(const rk__boxes *bs) {
  return bs->ndropped - bs->dropped[RK__DROP_LIMIT];
}

/* How many predictions the model made, for the rewards that follow
 * VLM-R1, whose rewards take every item of the answer's JSON list as one
 * (`[item for item in json.loads(block)]`): an item with no box
 * ({"label": "cat"}, "cat", 7) costs a false alarm there. The kept boxes
 * and the invalid ones, or the list's length when that is more. */
static inline size_t rk__boxes_predicted(const rk__boxes *bs) {
  size_t n = bs->n + rk__boxes_invalid(bs);
  return bs->items > n ? bs->items : n;
}

/* Scanner limits: at most max_boxes boxes are kept (the rest are counted
 * as RK__DROP_LIMIT); nesting deeper than 64 is skipped as text. */
#define RK__BOXES_DEFAULT_MAX 100000

/* Scans text p[0..n) for boxes in source order (raw numbers, no
 * conversion yet: x1..y2 hold the 4 numbers as written). Charges one step
 * per byte. Returns OK, or TIMEOUT, or ERROR on arena exhaustion. */
rk_status rk__boxes_scan(rk__call *c, const char *p, size_t n, size_t max_boxes,
                         rk__boxes *out);

/* rk__boxes_scan of p[0..n) for text cut out of a larger string: p[0..lim)
 * is readable (lim >= n), so that wide loads near the end need no
 * copy. Bytes from n on are never part of the text (loaded, then masked
 * off): the result is rk__boxes_scan's for every lim. */
rk_status rk__boxes_scan_in(rk__call *c, const char *p, size_t n, size_t lim,
                            size_t max_boxes, rk__boxes *out);

/* rk__boxes_scan of v->raw for an array or object v, read from the parsed
 * tree instead of the text (a reference already parsed with the record):
 * the same boxes, drops, offsets and labels (pointing into v->raw), the
 * same charge. Other types are scanned as their raw text. */
rk_status rk__boxes_scan_json(rk__call *c, const rk__jval *v, size_t max_boxes,
                              rk__boxes *out);

/* Converts raw numbers to pixel xyxy (layout, then scale sx, sy) and drops
 * invalid boxes, counting the reasons. Order is kept. */
void rk__boxes_convert(rk__boxes *bs, rk__box_layout layout, double sx, double sy);

/* "3 boxes parsed (1 dropped: x2 < x1)" into buf. */
void rk__boxes_describe(const rk__boxes *bs, const char *what, char *buf, size_t cap);

/* Branch-light min / max for finite coordinates (fmin / fmax are library
 * calls at -O2 because of their NaN rules; boxes here are always finite). */
static inline double rk__mn(double a, double b) { return a < b ? a : b; }
static inline double rk__mx(double a, double b) { return a > b ? a : b; }

/* Standard IoU (torchvision box_iou; COCO bbIou without crowd), 0 when the
 * union is 0. apis_metrics B5: iw = min(x2) - max(x1), ih likewise; I =
 * iw * ih when both are > 0; U = area(a) + area(b) - I; IoU = I / U. */
static inline double rk__box_iou(const rk__box *a, const rk__box *b) {
  double iw = rk__mn(a->x2, b->x2) - rk__mx(a->x1, b->x1);
  double ih = rk__mn(a->y2, b->y2) - rk__mx(a->y1, b->y1);
  if (!(iw > 0) || !(ih > 0)) return 0.0;
  double inter = iw * ih;
  double u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
  return u > 0 ? inter / u : 0.0;
}

/* GIoU (Rezatofighi et al. 2019; torchvision generalized_box_iou):
 * IoU - (C - U) / C with C the area of the smallest enclosing box; IoU
 * when C is 0. */
static inline double rk__box_giou(const rk__box *a, const rk__box *b) {
  double iw = rk__mn(a->x2, b->x2) - rk__mx(a->x1, b->x1);
  double ih = rk__mn(a->y2, b->y2) - rk__mx(a->y1, b->y1);
  double inter = iw > 0 && ih > 0 ? iw * ih : 0.0;
  double u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
  double iou = u > 0 ? inter / u : 0.0;
  double cw = rk__mx(a->x2, b->x2) - rk__mn(a->x1, b->x1);
  double ch = rk__mx(a->y2, b->y2) - rk__mn(a->y1, b->y1);
  double cc = cw * ch;
  return cc > 0 ? iou - (cc - u) / cc : iou;
}

/* rk__box_iou and rk__box_giou, right for every pair of valid boxes: when
 * a plain product leaves the normal double range (an area, the overlap or
 * the enclosing box below DBL_MIN while its sides are > 0, e.g. sides of
 * 1e-200; or a sum above DBL_MAX), the ratio is computed on coordinates
 * rescaled per axis by a power of two; otherwise the plain helper's
 * result, bit for bit. The single-box rewards (iou.c) use these.
 * detection.c keeps the plain helpers, which its vectorised loops repeat
 * operation for operation. */
double rk__box_iou_safe(const rk__box *a, const rk__box *b);
double rk__box_giou_safe(const rk__box *a, const rk__box *b);

/* Multiplies the four coordinates of one axis of two boxes (a1 <= a2,
 * b1 <= b2) by 2^-e, e the binary exponent of their enclosing extent, so
 * that the extent lands in [1, 2). A power of two changes only the
 * exponent: the scaled coordinates are exact (unless one falls below
 * DBL_MIN, 2^-1022 of an extent of ~1, which moves no area or volume by a
 * visible amount), so the ratios of IoU and GIoU, 2D or 3D, computed on
 * them are those of the originals without their products leaving the
 * double range. Nothing changes when all four are equal. */
void rk__rescale_axis(double *a1, double *a2, double *b1, double *b2);

/* VLM-R1 REC iou: intersection over inclusive pixels (max(0, min(x2)-1 -
 * max(x1) + 1) only when strictly overlapping), union of plain areas. */
double rk__box_iou_vlmr1(const rk__box *a, const rk__box *b);

/* ------------------------------------------------ shared reward args */

/* Coordinate conventions of the two sides and where the image size comes
 * from. Part of every box reward's arguments, and shared with the point
 * rewards (point_in_box, point_in_polygon, keypoint_distance in
 * vision/points.c) so that both families read the same arguments and
 * record fields with the same defaults. Strings are malloc'd. */
typedef struct rk__coordargs {
  rk__coord coords, ref_coords;                 /* default pixel / pixel */
  char *width_field, *height_field;             /* image size in the record */
  char *input_width_field, *input_height_field; /* grid: model input size */
  double width, height, input_width, input_height; /* fixed values; 0 = field */
} rk__coordargs;

/* Reads coords, ref_coords, width, height, width_field, height_field,
 * input_width(_field), input_height(_field). Returns 0 or -1 (reported). */
int rk__coordargs_compile(rk__argctx *ac, rk__coordargs *a);
void rk__coordargs_free(rk__coordargs *a);

/* A positive finite size from a fixed argument (when > 0) or else a
 * record field (dotted path); 0 when absent or not a positive number. */
double rk__coord_size(rk__call *c, double fixed, const char *field);

/* How to bring both sides to one unit: multiply predicted x by sx, y by
 * sy, reference x by rx, y by ry. The common unit is image pixels when
 * the image size (W, H) is known; when it is not and both sides use the
 * same convention, every factor is 1 and they are compared in that unit
 * (unit names it); different conventions without a size are an error. */
typedef struct rk__coordscale {
  double sx, sy, rx, ry;
  double W, H;   /* image size, 0 when unknown */
  rk__coord unit; /* the common unit: RK__COORD_PIXEL once converted */
} rk__coordscale;

/* Fills *out. Returns OK, or ERROR (after rk__fail and rk__explain with
 * the missing fields, e.g. 'coords "1000" needs the image size: record
 * field 'width'/'height' or args width/height'). Reads the record only. */
rk_status rk__coordargs_scale(const rk__coordargs *a, rk__call *c, rk__coordscale *out);

/* "prediction 1000 and reference pixel coordinates compared in pixels of
 * a 640x480 image" into buf; an empty string when both sides are pixels
 * and nothing was scaled. */
void rk__coordscale_describe(const rk__coordargs *a, const rk__coordscale *s, char *buf,
                             size_t cap);

enum { RK__STRICT_FIRST = 1, RK__STRICT_LAST = 2 };

typedef struct rk__boxargs {
  rk__box_layout layout, ref_layout;
  rk__coordargs co;     /* coords, ref_coords and the image size */
  int extract_given;    /* "extract" arg given: use text/extract.h */
  void *extract;        /* rk__extract_cfg * when extract_given */
  long max_boxes;
  int drop_degenerate;  /* predicted boxes with x2 == x1 or y2 == y1 dropped */
  int first_json_fence; /* the first complete ```json block of the region,
                           not the last code block (VLM-R1 detection_score) */
  int strict_json;      /* VLM-R1's json.loads: only a complete ```json block
                           that parses is read, else no prediction at all.
                           RK__STRICT_FIRST: the first, matched on the
                           lower-cased answer (detection_score);
                           RK__STRICT_LAST: the last (map_reward) */
  int own_reader;       /* the caller reads the predicted boxes itself
                           (Vision-R1's reader): rk__boxes_load finds the
                           answer region (its status) but scans nothing */
} rk__boxargs;

/* Reads format, ref_format, the coordinate arguments (rk__coordargs),
 * extract (+ its tail/answer_tag), max_boxes, drop_degenerate. */
int rk__boxargs_compile(rk__argctx *ac, rk__boxargs *a, long max_boxes_def);
void rk__boxargs_free(rk__boxargs *a);

/* The predicted boxes of the response and the reference boxes, converted
 * to pixels (or left in the shared unit when both sides use the same
 * convention, as IoU is invariant to it). Returns OK, UNPARSEABLE (the
 * extract mode found nothing), INVALID_REFERENCE, ERROR (image size
 * missing when needed), TIMEOUT. *region_how names where the boxes came
 * from ("answer tag", "code block", "whole response").
 * store (room for 2 boxes, or NULL): for a caller that neither keeps nor
 * grows the lists, an answer holding one plain box (an object with one
 * box member, four numbers in brackets, or a list of one such object,
 * words around it) against a reference [x1, y1, x2, y2], pixels and xyxy
 * on both sides, is read without the scanner's frames and lists, each
 * list then one box in store: the same lists, statuses, steps and region
 * as without store (boxes.c, "one plain box"). */
rk_status rk__boxes_load(const rk__boxargs *a, rk__call *c, rk__boxes *pred,
                         rk__boxes *ref, const char **region_how, rk__box store[2]);

/* Predicted boxes of some text (the response or the region of it). */
rk_status rk__boxes_region(const rk__boxargs *a, rk__call *c, rk__str *region,
                           const char **how);

#endif /* RK_VISION_BOXES_H */
