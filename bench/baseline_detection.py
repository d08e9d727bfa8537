"""baseline_detection.py - the Python reward code that bench_detection.c
compares against: the same box rewards written the way the VLM-R1,
Visual-RFT and Vision-R1 repositories compute them, with numpy and scipy's
linear_sum_assignment (Debian python3-numpy, python3-scipy), and a
pure-Python port of the pycocotools bbox evaluation for one image (the
IoU loop of maskApi.c in Python; evaluateImg / accumulate / summarize as
cocoeval.py, with numpy where cocoeval.py uses it).

usage: python3 bench/baseline_detection.py RECORDS.jsonl [seconds_per_case]
prints one line per case: name images_per_second mean_reward
Records are parsed before timing: the figure is the reward function alone
(it parses the response text itself, as the original code does).
"""
import json
import re
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
FENCE = re.compile(r"```json(.*?)```", re.S)
REC_BOX = re.compile(r"\[(\d+),\s*(\d+),\s*(\d+),\s*(\d+)\]")


def parse_objects(response, strict=False, bad=None):
    """The answer's boxes; `bad` (a list) gets one entry per item whose
    box was not kept (VLM-R1 keeps such items: they count as predictions)."""
    m = ANSWER.findall(response)
    text = m[-1] if m else response
    f = FENCE.findall(text)
    if f:
        text = f[-1]
    try:
        data = json.loads(text.strip())
    except ValueError:
        return []
    out = []
    for it in data if isinstance(data, list) else []:
        if isinstance(it, dict) and isinstance(it.get("bbox_2d"), list) and len(it["bbox_2d"]) == 4:
            x1, y1, x2, y2 = [float(v) for v in it["bbox_2d"]]
            if (x2 > x1 and y2 > y1) if strict else (x2 >= x1 and y2 >= y1):
                out.append({"box": [x1, y1, x2, y2], "label": it.get("label"),
                            "conf": float(it.get("confidence", 1.0))})
            elif bad is not None:
                bad.append(it)
    return out


def ref_objects(ref):
    return [{"box": [float(v) for v in r["bbox_2d"]], "label": r.get("label")} for r in ref]


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def iou_matrix(p, g):
    p = np.asarray(p, dtype=float).reshape(-1, 4)
    g = np.asarray(g, dtype=float).reshape(-1, 4)
    lt = np.maximum(p[:, None, :2], g[None, :, :2])
    rb = np.minimum(p[:, None, 2:], g[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    ag = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    union = ap[:, None] + ag[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0), union


def iou_matrix_vlm_r1(p, g):
    """VLM-R1's iou() (grpo_jsonl.py) for every pair, vectorised: the
    intersection (min(x2 - 1) - max(x1) + 1) * (...) only where
    max(x1) < min(x2 - 1) and the same for y, the union from the plain
    areas; an error (zero union) counts 0 there."""
    p = np.asarray(p, dtype=float).reshape(-1, 4)
    g = np.asarray(g, dtype=float).reshape(-1, 4)
    lt = np.maximum(p[:, None, :2], g[None, :, :2])
    rb = np.minimum(p[:, None, 2:] - 1, g[None, :, 2:] - 1)
    ok = (lt[..., 0] < rb[..., 0]) & (lt[..., 1] < rb[..., 1])
    wh = rb - lt + 1
    inter = np.where(ok, wh[..., 0] * wh[..., 1], 0.0)
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    ag = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    union = ap[:, None] + ag[None, :] - inter
    return np.where(union != 0, inter / np.where(union != 0, union, 1), 0.0)


def lower(label):
    """VLM-R1: label.lower(), "" when that fails (no label, not a str)."""
    return label.lower() if isinstance(label, str) else ""


def giou_matrix(p, g):
    m, union = iou_matrix(p, g)
    p = np.asarray(p, dtype=float).reshape(-1, 4)
    g = np.asarray(g, dtype=float).reshape(-1, 4)
    lt = np.minimum(p[:, None, :2], g[None, :, :2])
    rb = np.maximum(p[:, None, 2:], g[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    c = wh[..., 0] * wh[..., 1]
    return m - (c - union) / c


# ---------------------------------------------------------------- rewards

def grounding_iou(rec):
    m = ANSWER.findall(rec["response"])
    boxes = REC_BOX.findall(m[-1] if m else rec["response"])
    if not boxes:
        return 0.0
    return iou([float(v) for v in boxes[-1]], [float(v) for v in rec["reference"]])


def detection_vlm_r1(rec, thr=0.5, alpha=0.7, beta=0.0, gamma=0.3):
    bad = []
    pred, gt = parse_objects(rec["response"], bad=bad), ref_objects(rec["reference"])
    if not gt:
        return 1.0 if not pred and not bad else 0.0
    if not pred:
        return 0.0
    m = iou_matrix_vlm_r1([p["box"] for p in pred], [g["box"] for g in gt])
    work = m.copy()
    matches = []
    while True:
        k = int(np.argmax(work))
        i, j = divmod(k, work.shape[1])
        if work[i, j] < thr:
            break
        matches.append((i, j))
        work[i, :] = -1
        work[:, j] = -1
        if len(matches) == min(len(pred), len(gt)):
            break
    same = [lower(pred[i]["label"]) == lower(gt[j]["label"]) for i, j in matches]
    pos = sum(m[i, j] for (i, j), ok in zip(matches, same) if ok) / len(gt)
    lab = sum(1 for ok in same if ok) / len(gt)
    miss = (len(gt) - len(matches)) / len(gt)
    fa = (len(pred) + len(bad) - len(matches)) / (len(pred) + len(bad))
    comp = 1 - (miss + fa) / 2
    return (alpha * pos + beta * lab + gamma * comp) / (alpha + beta + gamma)


def detection_visual_rft(rec, thr=0.5):
    pred, gt = parse_objects(rec["response"]), ref_objects(rec["reference"])
    seen, uniq = set(), []
    for p in pred:
        k = tuple(p["box"])
        if k not in seen:
            seen.add(k)
            uniq.append(p)
    pred = sorted(uniq, key=lambda p: -p["conf"])
    if not pred and not gt:
        return 2.0
    g = np.asarray([x["box"] for x in gt], dtype=float).reshape(-1, 4)
    used = np.zeros(len(gt), dtype=bool)
    s_iou, s_conf = 0.0, 0.0
    for p in pred:
        if len(gt):
            ious, _ = iou_matrix([p["box"]], g)
            ious = np.where(used, -1.0, ious[0])
            j = int(np.argmax(ious))
            best = ious[j]
        else:
            best = -1
        if best > thr:
            used[j] = True
            s_iou += best
            s_conf += p["conf"]
        else:
            s_conf += 1 - p["conf"]
    r_iou = min(1.0, s_iou / max(len(gt), len(pred)))
    r_conf = min(1.0, max(0.0, s_conf / len(pred))) if pred else 0.0
    return r_iou + r_conf


def detection_hungarian(rec):
    # Vision-R1 keeps only predicted boxes with x1 < x2 and y1 < y2.
    pred, gt = parse_objects(rec["response"], strict=True), ref_objects(rec["reference"])
    if not pred or not gt:
        return 1.0 if not pred and not gt else 0.0
    ids = {}
    for x in gt:
        ids.setdefault(x["label"].lower(), len(ids) + 1)
    pc = np.array([ids.get((p["label"] or "").strip().lower(), 0) for p in pred])
    gc = np.array([ids[x["label"].lower()] for x in gt])
    pb = np.asarray([p["box"] for p in pred], dtype=float)
    gb = np.asarray([x["box"] for x in gt], dtype=float)
    l1 = np.abs(pb[:, None, :] - gb[None, :, :]).sum(-1)
    g = giou_matrix(pb, gb)
    cost = l1 - (pc[:, None] == gc[None, :]).astype(float) - g
    r, c = linear_sum_assignment(cost)
    gv = g[r, c]
    rec_tp = np.where(gv < 0.5, 0.0, np.where(gv > 0.5, 1.0, gv)).sum()
    prec = np.clip(gv, 0, 1).sum() / len(pred)
    return (prec + rec_tp / len(gt)) / 2


def detection_prf(rec, thr=0.5):
    bad = []
    pred, gt = parse_objects(rec["response"], bad=bad), ref_objects(rec["reference"])
    if not pred or not gt:
        return 1.0 if not pred and not bad and not gt else 0.0
    m, _ = iou_matrix([p["box"] for p in pred], [g["box"] for g in gt])
    same = np.array([[p["label"] == g["label"] for g in gt] for p in pred])
    work = np.where(same, m, -1.0)
    tp = 0
    while True:
        k = int(np.argmax(work))
        i, j = divmod(k, work.shape[1])
        if work[i, j] < thr:
            break
        tp += 1
        work[i, :] = -1
        work[:, j] = -1
    p, r = tp / (len(pred) + len(bad)), tp / len(gt)
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


# ------------------------------------------- pycocotools, one image, bbox

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREA_RNG = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]


def bb_iou(d, g, crowd):
    """maskApi.c bbIou on xywh."""
    out = [[0.0] * len(g) for _ in d]
    for i, (dx, dy, dw, dh) in enumerate(d):
        da = dw * dh
        for j, (gx, gy, gw, gh) in enumerate(g):
            iw = min(dx + dw, gx + gw) - max(dx, gx)
            if iw <= 0:
                continue
            ih = min(dy + dh, gy + gh) - max(dy, gy)
            if ih <= 0:
                continue
            inter = iw * ih
            u = da if crowd[j] else da + gw * gh - inter
            out[i][j] = inter / u
    return out


def evaluate_img(gts, dts, a_rng, max_det):
    if not gts and not dts:
        return None
    for g in gts:
        g["_ignore"] = 1 if (g["iscrowd"] or g["area"] < a_rng[0] or g["area"] > a_rng[1]) else 0
    gtind = np.argsort([g["_ignore"] for g in gts], kind="mergesort")
    gt = [gts[i] for i in gtind]
    dtind = np.argsort([-d["score"] for d in dts], kind="mergesort")
    dt = [dts[i] for i in dtind[0:max_det]]
    iscrowd = [int(o["iscrowd"]) for o in gt]
    ious = np.asarray(bb_iou([d["bbox"] for d in dt], [g["bbox"] for g in gt], iscrowd)).reshape(len(dt), len(gt))
    T, G, D = len(IOU_THRS), len(gt), len(dt)
    gtm = np.zeros((T, G))
    dtm = np.zeros((T, D))
    gt_ig = np.array([g["_ignore"] for g in gt])
    dt_ig = np.zeros((T, D))
    for tind, t in enumerate(IOU_THRS):
        for dind, d in enumerate(dt):
            best = min([t, 1 - 1e-10])
            m = -1
            for gind, g in enumerate(gt):
                if gtm[tind, gind] > 0 and not iscrowd[gind]:
                    continue
                if m > -1 and gt_ig[m] == 0 and gt_ig[gind] == 1:
                    break
                if ious[dind, gind] < best:
                    continue
                best = ious[dind, gind]
                m = gind
            if m == -1:
                continue
            dt_ig[tind, dind] = gt_ig[m]
            dtm[tind, dind] = gt[m]["id"]
            gtm[tind, m] = d["id"]
    a = np.array([d["area"] < a_rng[0] or d["area"] > a_rng[1] for d in dt]).reshape((1, len(dt)))
    dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
    return {"dtMatches": dtm, "dtScores": [d["score"] for d in dt], "gtIgnore": gt_ig, "dtIgnore": dt_ig}


def coco_stats0(gt_objs, dt_objs):
    """stats[0] (AP@[.5:.95]) of pycocotools for one image, bbox."""
    cats = {}
    for g in gt_objs:
        cats.setdefault(g["label"], len(cats) + 1)
    gts, dts = {}, {}
    for i, g in enumerate(gt_objs):
        x1, y1, x2, y2 = g["box"]
        gts.setdefault(cats[g["label"]], []).append(
            {"bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0, "id": i + 1})
    for i, d in enumerate(dt_objs):
        if d["label"] not in cats:
            continue
        x1, y1, x2, y2 = d["box"]
        dts.setdefault(cats[d["label"]], []).append(
            {"bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "score": 1.0, "id": i + 1})
    K = len(cats)
    T, R = len(IOU_THRS), len(REC_THRS)
    precision = -np.ones((T, R, K))
    for k, cat in enumerate(sorted(cats.values())):
        e = evaluate_img(gts.get(cat, []), dts.get(cat, []), AREA_RNG[0], MAX_DETS[-1])
        if e is None:
            continue
        dt_scores = np.array(e["dtScores"][0:100])
        inds = np.argsort(-dt_scores, kind="mergesort")
        dtm = e["dtMatches"][:, 0:100][:, inds]
        dt_ig = e["dtIgnore"][:, 0:100][:, inds]
        npig = np.count_nonzero(e["gtIgnore"] == 0)
        if npig == 0:
            continue
        tps = np.logical_and(dtm, np.logical_not(dt_ig))
        fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
        tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
        fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
        for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
            nd = len(tp)
            rc = tp / npig
            pr = (tp / (fp + tp + np.spacing(1))).tolist()
            q = [0.0] * R
            for i in range(nd - 1, 0, -1):
                if pr[i] > pr[i - 1]:
                    pr[i - 1] = pr[i]
            ri = np.searchsorted(rc, REC_THRS, side="left")
            for j, pi in enumerate(ri):
                if pi >= nd:
                    break
                q[j] = pr[pi]
            precision[t, :, k] = np.array(q)
    s = precision[precision > -1]
    return float(np.mean(s)) if len(s) else -1.0


def coco_map(rec):
    pred, gt = parse_objects(rec["response"]), ref_objects(rec["reference"])
    if not gt or not pred:
        return 1.0 if not gt and not pred else 0.0
    return max(0.0, coco_stats0(gt, pred))


CASES = [
    ("grounding_iou", grounding_iou, True),
    ("coco_map", coco_map, False),
    ("detection_vlm_r1", detection_vlm_r1, False),
    ("detection_visual_rft", detection_visual_rft, False),
    ("detection_hungarian", detection_hungarian, False),
    ("detection_prf", detection_prf, False),
]


def main():
    lines = open(sys.argv[1]).read().splitlines()
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    det = [l for l in lines if '"width"' in l]
    gr = [l for l in lines if '"width"' not in l]
    for name, fn, grounding in CASES:
        data = [json.loads(l) for l in (gr if grounding else det)]
        mean = sum(fn(r) for r in data) / len(data)
        done, t0 = 0, time.process_time()  # CPU time, as the C side
        while True:
            for r in data:
                fn(r)
            done += len(data)
            t = time.process_time() - t0
            if t >= secs:
                break
        print(name, done / t, mean, flush=True)


if __name__ == "__main__":
    main()
