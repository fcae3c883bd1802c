"""Print results.jsonl as a table: one row per configuration name, one column per case."""
import json
import pathlib
import sys

rows = [json.loads(line) for line in open(pathlib.Path(__file__).with_name("results.jsonl"))]
names, cases, cell = [], [], {}
for r in rows:
    if r["name"] not in names:
        names.append(r["name"])
    if r["case"] not in cases:
        cases.append(r["case"])
    cell[r["name"], r["case"]] = r
pick = sys.argv[1:] or names
print("| config | " + " | ".join(cases) + " | overrides |")
print("|---|" + "---|" * len(cases) + "---|")
for n in pick:
    ov = next(r["overrides"] for r in rows if r["name"] == n)
    cells = []
    for c in cases:
        r = cell.get((n, c))
        cells.append("" if r is None else f"{r['recall']:.3f} ({r['fit_s']:.0f} s)")
    print(f"| {n} | " + " | ".join(cells) + f" | {' '.join(f'{k}={v}' for k, v in ov.items())} |")
