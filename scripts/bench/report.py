#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise `make bench` guest logs: CSV, table and one SVG per family.

    report.py --kver KVER --out DIR RESULTS.LOG...

Reads the "@R", "@NA" and "@I" lines that selftests/guest/bench.sh prints
(see there), and writes into DIR:

    results.csv   kver, clock, family, workload, param, kind, n, median,
                  min, max, spread_pct (half the min-max range, in % of the
                  median), unit
    table.txt     the table printed on stdout
    table.md      the same in Markdown
    FAMILY.svg    a plot per workload family

Only the standard library: the host need not have matplotlib.
"""

import argparse
import csv
import html
import math
import os
import re
import statistics
import sys

KINDS = ("strata", "overlay", "raw")
COLOURS = {"strata": "#1f77b4", "overlay": "#d62728", "raw": "#7f7f7f"}
# Families plotted as lines over the parameter (a layer count).
LINE_FAMILIES = {"stat", "readdir"}
FAMILY_ORDER = ("stat", "readdir", "read", "write", "copyup", "chmod", "churn",
                "untar", "mem")
# "lower is better" for every unit bench.sh emits.
# Families bench.sh measures once, whatever the repetitions.
ONCE_FAMILIES = {"mem"}


SIZES = {"": 1, "k": 1e3, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def param_key(p):
    """Numeric order, sizes by their bytes: 4KiB < 64MiB < 1GiB."""
    m = re.fullmatch(r"(\d+)(\w*)", p)
    if m and m.group(2) in SIZES:
        return (0, int(m.group(1)) * SIZES[m.group(2)], p)
    m = re.match(r"(\d+)", p)
    return (0, int(m.group(1)), p) if m else (1, 0, p)


def parse(paths):
    samples = {}    # (family, workload, param, kind) -> [values]
    units = {}
    clocks = {}     # (family, workload) -> clock
    na = {}         # key -> reason
    info = []
    reps = 0
    for path in paths:
        clock = "wall"
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError as e:
            print(f"report: {e}", file=sys.stderr)
            continue
        for line in lines:
            line = line.strip("\r")
            m = re.match(r"@I kernel \S+, clock (\S+), (\d+) repetitions", line)
            if m:
                clock = m.group(1)
                reps = max(reps, int(m.group(2)))
            if line.startswith("@I "):
                info.append(line[3:])
            f = line.split()
            if f[:1] == ["@R"] and len(f) == 8:
                _, fam, wl, par, kind, _rep, val, unit = f
                try:
                    v = float(val)
                except ValueError:
                    continue
                key = (fam, wl, par, kind)
                samples.setdefault(key, []).append(v)
                units[key] = unit
                clocks[(fam, wl)] = clock
            elif f[:1] == ["@NA"] and len(f) >= 6:
                key = tuple(f[1:5])
                na[key] = " ".join(f[5:])
                clocks.setdefault((f[1], f[2]), clock)
    return samples, units, clocks, na, info, reps


def summarise(samples):
    out = {}
    for key, vals in samples.items():
        med = statistics.median(vals)
        lo, hi = min(vals), max(vals)
        spread = 50.0 * (hi - lo) / med if med else 0.0
        out[key] = (len(vals), med, lo, hi, spread)
    return out


def fmt_value(v, unit, clock):
    """A median with a readable unit; icount nanoseconds are instructions."""
    if unit in ("ns", "ns/op"):
        suffix = "/op" if unit == "ns/op" else ""
        if clock == "icount":
            for div, name in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")):
                if v >= div or div == 1:
                    return f"{v / div:.3g}{name} insn{suffix}"
        for div, name in ((1e9, "s"), (1e6, "ms"), (1e3, "us"), (1, "ns")):
            if v >= div or div == 1:
                return f"{v / div:.3g} {name}{suffix}"
    if unit == "bytes" or unit == "bytes/name":
        suffix = "/name" if unit == "bytes/name" else ""
        if abs(v) >= 1 << 30:
            return f"{v / (1 << 30):.3g} GiB{suffix}"
        if abs(v) >= 1 << 20:
            return f"{v / (1 << 20):.3g} MiB{suffix}"
        if abs(v) >= 1 << 10:
            return f"{v / (1 << 10):.3g} KiB{suffix}"
        return f"{v:.0f} B{suffix}"
    if v == int(v):
        return f"{int(v)} {unit}"
    return f"{v:.3g} {unit}"


def ratio(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return None if a != 0 else 1.0
    return a / b


def footnotes(summary, na, reps):
    """Marks for the table: n/a reasons and rows of fewer repetitions.

    Returns (na_mark: reason -> mark, few: the (family, workload, param)
    of fewer repetitions, their mark, notes).  The overlayfs layer cap,
    first, keeps its mark "¹"."""
    marks = iter("¹²³⁴⁵⁶⁷⁸⁹")
    na_mark, notes = {}, []
    cap = [r for r in na.values() if "500" in r]
    if cap:
        na_mark[cap[0]] = next(marks)
        notes.append("¹ overlayfs takes at most 500 lower layers.")
    for reason in sorted(set(na.values()) - set(na_mark)):
        na_mark[reason] = next(marks)
        notes.append(f"{na_mark[reason]} n/a: {reason}.")
    # Measured fewer times than the run's repetitions (mem is measured
    # once by design).
    few = {k[:3] for k, s in summary.items()
           if s[0] < reps and k[0] not in ONCE_FAMILIES}
    if few:
        ns = sorted({s[0] for k, s in summary.items() if k[:3] in few})
        notes.append(f"{next(marks)} {'/'.join(map(str, ns))} "
                     f"repetition(s) only (the big sizes; bench.sh's @I lines).")
        few_mark = notes[-1][0]
    else:
        few_mark = ""
    return na_mark, few, few_mark, notes


def rows_of(summary, units, clocks, na, marks):
    na_mark, few, few_mark, _ = marks
    keys = {(k[0], k[1], k[2]) for k in list(summary) + list(na)}

    def order(k):
        fam = FAMILY_ORDER.index(k[0]) if k[0] in FAMILY_ORDER else 99
        return (fam, k[0], k[1], param_key(k[2]))
    rows = []
    for fam, wl, par in sorted(keys, key=order):
        clock = clocks.get((fam, wl), "wall")
        cells, meds = [], {}
        unit = None
        for kind in KINDS:
            key = (fam, wl, par, kind)
            if key in summary:
                n, med, lo, hi, spread = summary[key]
                unit = units[key]
                meds[kind] = med
                s = fmt_value(med, unit, clock)
                if n > 1:
                    s += f" ±{spread:.0f}%" if spread >= 1 else f" ±{spread:.1f}%"
                cells.append(s)
            elif key in na:
                cells.append("n/a" + na_mark[na[key]])
            else:
                cells.append("-")
        so = ratio(meds.get("strata"), meds.get("overlay"))
        sr = ratio(meds.get("strata"), meds.get("raw"))
        if (fam, wl, par) in few:
            par += few_mark
        rows.append([f"{fam} {wl}", par] + cells +
                    [f"{so:.2f}" if so is not None else "-",
                     f"{sr:.2f}" if sr is not None else "-", clock])
    return rows


HEADER = ["workload", "param", "strata", "overlay", "raw",
          "strata/overlay", "strata/raw", "clock"]


def table_txt(rows):
    widths = [max(len(r[i]) for r in rows + [HEADER]) for i in range(len(HEADER))]
    out = []
    line = "  ".join(h.ljust(w) for h, w in zip(HEADER, widths))
    out.append(line.rstrip())
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(out) + "\n"


def table_md(rows):
    out = ["| " + " | ".join(HEADER) + " |",
           "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ SVG
def nice_ticks(lo, hi, log):
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        return [10.0 ** e for e in range(a, b + 1)]
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 5, 10) if s * mag >= raw), default=raw)
    t = math.floor(lo / step) * step
    ticks = [t]
    while ticks[-1] < hi:
        ticks.append(ticks[-1] + step)
    return ticks


def short(v):
    for div, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{name}"
    return f"{v:g}"


class Panel:
    """One chart: x categories or numeric x, kinds as series."""
    W, H = 460, 300
    L, R, T, B = 64, 12, 34, 56

    def __init__(self, title, ylabel):
        self.title, self.ylabel = title, ylabel
        self.parts = []

    def frame(self, ticks, ymap, tick_label):
        p = self.parts
        x0, x1 = self.L, self.W - self.R
        p.append(f'<text x="{self.W / 2}" y="18" text-anchor="middle" '
                 f'font-weight="bold">{html.escape(self.title)}</text>')
        for t in ticks:
            y = ymap(t)
            p.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd"/>')
            p.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="10">{tick_label(t)}</text>')
        p.append(f'<text transform="translate(12,{(self.T + self.H - self.B) / 2}) '
                 f'rotate(-90)" text-anchor="middle" font-size="11">'
                 f'{html.escape(self.ylabel)}</text>')
        p.append(f'<rect x="{x0}" y="{self.T}" width="{x1 - x0}" '
                 f'height="{self.H - self.B - self.T}" fill="none" stroke="#444"/>')

    def yscale(self, values):
        vals = [v for v in values if v is not None]
        pos = [v for v in vals if v > 0]
        log = bool(pos) and len(pos) == len(vals) and max(pos) / min(pos) > 30
        if log:
            lo, hi = min(pos), max(pos)
            ticks = nice_ticks(lo, hi, True)
            a, b = math.log10(ticks[0]), math.log10(ticks[-1])
            if a == b:
                b = a + 1

            def ymap(v):
                f = (math.log10(max(v, ticks[0])) - a) / (b - a)
                return self.H - self.B - f * (self.H - self.B - self.T)
        else:
            lo = min(vals + [0.0])
            hi = max(vals + [0.0]) or 1.0
            ticks = nice_ticks(lo, hi * 1.05, False)
            a, b = ticks[0], ticks[-1]
            if a == b:
                b = a + 1

            def ymap(v):
                f = (v - a) / (b - a)
                return self.H - self.B - f * (self.H - self.B - self.T)
        return ticks, ymap, log

    def lines(self, xs, series, errs):
        """xs: numeric x values; series: kind -> list (None = missing)."""
        allv = [v for s in series.values() for v in s if v is not None]
        allv += [e for s in errs.values() for pair in s if pair for e in pair]
        ticks, ymap, _ = self.yscale(allv)
        self.frame(ticks, ymap, short)
        x0, x1 = self.L + 14, self.W - self.R - 14
        lx = [math.log2(x) if x > 0 else 0 for x in xs]
        span = (max(lx) - min(lx)) or 1

        def xmap(i):
            return x0 + (lx[i] - min(lx)) / span * (x1 - x0)
        for i, x in enumerate(xs):
            self.parts.append(f'<text x="{xmap(i):.1f}" y="{self.H - self.B + 14}" '
                              f'text-anchor="middle" font-size="10">{x:g}</text>')
        for kind, vals in series.items():
            pts = [(xmap(i), ymap(v)) for i, v in enumerate(vals) if v is not None]
            if not pts:
                continue
            c = COLOURS[kind]
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            self.parts.append(f'<polyline points="{d}" fill="none" stroke="{c}" '
                              f'stroke-width="2"/>')
            for i, v in enumerate(vals):
                if v is None:
                    continue
                e = errs[kind][i]
                if e:
                    self.parts.append(
                        f'<line x1="{xmap(i):.1f}" x2="{xmap(i):.1f}" '
                        f'y1="{ymap(e[0]):.1f}" y2="{ymap(e[1]):.1f}" stroke="{c}"/>')
                self.parts.append(f'<circle cx="{xmap(i):.1f}" cy="{ymap(v):.1f}" '
                                  f'r="3" fill="{c}"/>')

    def bars(self, cats, series, errs):
        allv = [v for s in series.values() for v in s if v is not None]
        allv += [e for s in errs.values() for pair in s if pair for e in pair]
        ticks, ymap, log = self.yscale(allv)
        self.frame(ticks, ymap, short)
        x0, x1 = self.L, self.W - self.R
        gw = (x1 - x0) / max(len(cats), 1)
        kinds = [k for k in KINDS if k in series]
        bw = gw * 0.8 / max(len(kinds), 1)
        base = ymap(ticks[0]) if log else ymap(0.0)
        for i, cat in enumerate(cats):
            cx = x0 + gw * (i + 0.5)
            self.parts.append(f'<text x="{cx:.1f}" y="{self.H - self.B + 14}" '
                              f'text-anchor="middle" font-size="10">'
                              f'{html.escape(cat)}</text>')
            for j, kind in enumerate(kinds):
                v = series[kind][i]
                bx = x0 + gw * i + gw * 0.1 + j * bw
                if v is None:
                    self.parts.append(f'<text x="{bx + bw / 2:.1f}" y="{base - 4:.1f}" '
                                      f'text-anchor="middle" font-size="9">n/a</text>')
                    continue
                y = ymap(v)
                top, h = min(y, base), abs(base - y)
                self.parts.append(f'<rect x="{bx:.1f}" y="{top:.1f}" width="{bw:.1f}" '
                                  f'height="{max(h, 0.5):.1f}" fill="{COLOURS[kind]}"/>')
                e = errs[kind][i]
                if e:
                    mx = bx + bw / 2
                    self.parts.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" '
                                      f'y1="{ymap(e[0]):.1f}" y2="{ymap(e[1]):.1f}" '
                                      f'stroke="#000"/>')

    def svg(self, dx, dy):
        return (f'<g transform="translate({dx},{dy})">' + "".join(self.parts) + "</g>")


def plot_family(fam, summary, units, clocks, na, kver, path):
    """One panel per workload; a parameter not measured at all (n/a,
    e.g. no room for 1 GiB) keeps its place, its bars marked n/a."""
    wls = sorted({k[1] for k in summary if k[0] == fam})
    if not wls:
        return
    panels = []
    for wl in wls:
        clock = clocks.get((fam, wl), "wall")
        keys = [k for k in summary if k[0] == fam and k[1] == wl]
        params = sorted({k[2] for k in keys} |
                        {k[2] for k in na if k[0] == fam and k[1] == wl},
                        key=param_key)
        unit = units[keys[0]]
        if clock == "icount" and unit.startswith("ns"):
            unit = "instructions" + unit[2:]
        pn = Panel(f"{fam} {wl}", unit + " (median, min-max)")
        series, errs = {}, {}
        for kind in KINDS:
            if not any((fam, wl, p, kind) in summary for p in params):
                continue
            vals, ee = [], []
            for p in params:
                s = summary.get((fam, wl, p, kind))
                vals.append(s[1] if s else None)
                ee.append((s[2], s[3]) if s and s[0] > 1 else None)
            series[kind], errs[kind] = vals, ee
        numeric = all(re.fullmatch(r"\d+", p) for p in params)
        if fam in LINE_FAMILIES and numeric and len(params) > 1:
            pn.lines([float(p) for p in params], series, errs)
        else:
            pn.bars(params, series, errs)
        panels.append(pn)
    cols = min(len(panels), 3)
    rows = math.ceil(len(panels) / cols)
    w, h = cols * Panel.W, rows * Panel.H + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for i, pn in enumerate(panels):
        out.append(pn.svg((i % cols) * Panel.W, (i // cols) * Panel.H))
    ly = rows * Panel.H + 20
    x = 20
    for kind in KINDS:
        out.append(f'<rect x="{x}" y="{ly - 10}" width="12" height="12" '
                   f'fill="{COLOURS[kind]}"/><text x="{x + 16}" y="{ly}">{kind}</text>')
        x += 90
    fclocks = sorted({clocks.get((fam, wl), "wall") for wl in wls})
    note = f"strata bench, {kver}, {'/'.join(fclocks)} clock; lower is better"
    if fam == "stat":
        note += "; overlayfs takes at most 500 lower layers"
    out.append(f'<text x="{x + 10}" y="{ly}" font-size="11">{html.escape(note)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kver", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("logs", nargs="+")
    args = ap.parse_args()

    samples, units, clocks, na, info, reps = parse(args.logs)
    if not samples:
        print("report: no results in " + " ".join(args.logs), file=sys.stderr)
        return 1
    summary = summarise(samples)
    os.makedirs(args.out, exist_ok=True)

    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kver", "clock", "family", "workload", "param", "kind", "n",
                    "median", "min", "max", "spread_pct", "unit"])
        for key in sorted(summary, key=lambda k: (k[0], k[1], param_key(k[2]), k[3])):
            n, med, lo, hi, spread = summary[key]
            w.writerow([args.kver, clocks.get(key[:2], "wall"), *key, n,
                        f"{med:g}", f"{lo:g}", f"{hi:g}", f"{spread:.2f}", units[key]])
        for key, reason in sorted(na.items()):
            w.writerow([args.kver, clocks.get(key[:2], "wall"), *key, 0,
                        "", "", "", "", "n/a: " + reason])

    marks = footnotes(summary, na, reps)
    rows = rows_of(summary, units, clocks, na, marks)
    notes = marks[3]
    notes.append("± is half the min-max range over the repetitions, in % of the "
                 "median; icount times are guest instructions.")
    fails = [i for i in info if i.startswith("FAIL")]
    notes += fails
    txt = table_txt(rows) + "\n".join(notes) + "\n"
    md = table_md(rows) + "\n" + "\n".join(n + "  " for n in notes) + "\n"
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(txt)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(md)
    print(f"== {args.kver}")
    sys.stdout.write(txt)

    for fam in sorted({k[0] for k in summary}):
        plot_family(fam, summary, units, clocks, na, args.kver,
                    os.path.join(args.out, f"{fam}.svg"))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
