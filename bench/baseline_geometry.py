#!/usr/bin/env python3
"""Python baselines for bench_geometry: the same inputs (same LCG), scored
the way reward code in Python usually does it, then the C figures from the
bench binary and the ratio.

  maze: json.loads of each record, grid split into rows, BFS with
        collections.deque, moves read from <answer>, walk, ratio
        shortest/len (pure Python);
  point_in_polygon: even-odd crossing test for 1000 points against a
        64-vertex star, vectorised over points with numpy (loop over
        edges), and the same test in pure Python.

  python3 bench/baseline_geometry.py [--c build/bench_geometry] [--records 2000]

Needs python3-numpy (Debian). One core: the C bench runs single-threaded.
"""
import argparse
import collections
import json
import math
import re
import subprocess
import time

import numpy as np

SIDE = 64


class Lcg:
    def __init__(self):
        self.s = 12345

    def __call__(self):
        self.s = (self.s * 1103515245 + 12345) & 0xFFFFFFFF
        return self.s >> 16


def make_record(rnd):
    rows = []
    for r in range(SIDE):
        row = []
        for c in range(SIDE):
            ch = '#' if rnd() % 100 < 28 else '.'
            if r == 0 or c == SIDE - 1:
                ch = '.'
            if r == 0 and c == 0:
                ch = 'S'
            if r == SIDE - 1 and c == SIDE - 1:
                ch = 'G'
            row.append(ch)
        rows.append(''.join(row))
    resp = '<answer>' + 'R' * (SIDE - 1) + 'D' * (SIDE - 1) + '</answer>'
    return json.dumps({"reference": '\n'.join(rows), "response": resp})


ANSWER = re.compile(r'<answer>(.*?)</answer>', re.S)
DELTA = {'U': (-1, 0), 'D': (1, 0), 'L': (0, -1), 'R': (0, 1)}


def maze_reward(line):
    rec = json.loads(line)
    grid = rec["reference"].split('\n')
    h, w = len(grid), len(grid[0])
    start = goal = None
    for r, row in enumerate(grid):
        c = row.find('S')
        if c >= 0:
            start = (r, c)
        c = row.find('G')
        if c >= 0:
            goal = (r, c)
    dist = {start: 0}
    q = collections.deque([start])
    best = -1
    while q:
        u = q.popleft()
        if u == goal:
            best = dist[u]
            break
        for dr, dc in DELTA.values():
            v = (u[0] + dr, u[1] + dc)
            if 0 <= v[0] < h and 0 <= v[1] < w and grid[v[0]][v[1]] != '#' and v not in dist:
                dist[v] = dist[u] + 1
                q.append(v)
    m = ANSWER.search(rec["response"])
    moves = [ch for ch in (m.group(1) if m else rec["response"]) if ch in DELTA]
    r, c = start
    for ch in moves:
        dr, dc = DELTA[ch]
        r, c = r + dr, c + dc
        if not (0 <= r < h and 0 <= c < w) or grid[r][c] == '#':
            return 0.0
    if (r, c) != goal:
        return 0.0
    return best / len(moves) if moves else 1.0


def star_polygon():
    nv = 64
    xs, ys = [], []
    for i in range(nv):
        ang = 2 * math.pi * i / nv
        rad = 40.0 if i % 2 else 100.0
        xs.append(rad * math.cos(ang))
        ys.append(rad * math.sin(ang))
    return np.array(xs), np.array(ys)


def pip_numpy(px, py, vx, vy):
    inside = np.zeros(px.shape, dtype=bool)
    n = len(vx)
    for i in range(n):
        x1, y1 = vx[i], vy[i]
        x2, y2 = vx[(i + 1) % n], vy[(i + 1) % n]
        cond = (y1 <= py) != (y2 <= py)
        xint = x1 + (py - y1) * (x2 - x1) / ((y2 - y1) if y2 != y1 else 1.0)
        inside ^= cond & (px < xint)
    return inside


def pip_python(x, y, vx, vy):
    inside = False
    n = len(vx)
    j = n - 1
    for i in range(n):
        if (vy[i] <= y) != (vy[j] <= y):
            if x < vx[i] + (y - vy[i]) * (vx[j] - vx[i]) / (vy[j] - vy[i]):
                inside = not inside
        j = i
    return inside


def best_of(fn, passes):
    best = float('inf')
    out = None
    for _ in range(passes):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--c', default='build/bench_geometry')
    ap.add_argument('--records', type=int, default=2000)
    ap.add_argument('--passes', type=int, default=3)
    a = ap.parse_args()

    rnd = Lcg()
    recs = [make_record(rnd) for _ in range(a.records)]
    t, rewards = best_of(lambda: [maze_reward(x) for x in recs], a.passes)
    py_maze = a.records / t
    print(f"python maze end to end: {t / a.records * 1e6:.1f} us/record, "
          f"mean reward {sum(rewards) / len(rewards):.3f}")

    vx, vy = star_polygon()
    pts = [((rnd() % 20001) / 100.0 - 100.0, (rnd() % 20001) / 100.0 - 100.0)
           for _ in range(1000)]
    px = np.array([p[0] for p in pts])
    py = np.array([p[1] for p in pts])
    reps = 20
    t, ins = best_of(lambda: [pip_numpy(px, py, vx, vy) for _ in range(reps)], a.passes)
    np_pip = reps * 1000 / t
    lvx, lvy = list(vx), list(vy)
    t2, ins2 = best_of(lambda: [pip_python(x, y, lvx, lvy) for x, y in pts], a.passes)
    py_pip = 1000 / t2
    print(f"python point_in_polygon: numpy {int(ins[0].sum())} inside, "
          f"pure {sum(ins2)} inside of 1000")

    out = subprocess.run([a.c, str(a.records), '3'], capture_output=True, text=True,
                         check=True).stdout
    print(out, end='')
    c = dict(line.split() for line in out.splitlines()
             if line.endswith(tuple('0123456789')) and line.count(' ') == 1)
    c_maze = float(c['maze_pairs_per_s'])
    c_pip = float(c['pip_pairs_per_s'])
    print()
    print("| benchmark | C pairs/s | Python pairs/s | ratio |")
    print("|---|---|---|---|")
    print(f"| maze {SIDE}x{SIDE}, end to end | {c_maze:,.0f} | {py_maze:,.0f} (pure Python) "
          f"| {c_maze / py_maze:.0f}x |")
    print(f"| point_in_polygon, 64 vertices | {c_pip:,.0f} | {np_pip:,.0f} (numpy) "
          f"| {c_pip / np_pip:.1f}x |")
    print(f"| point_in_polygon, 64 vertices | {c_pip:,.0f} | {py_pip:,.0f} (pure Python) "
          f"| {c_pip / py_pip:.0f}x |")


if __name__ == '__main__':
    main()
