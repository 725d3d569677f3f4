#!/usr/bin/env python3
"""Solve a matching-round instance (matching.md section 7) with OR-Tools' min-cost flow.

Usage: ortools_round.py FILE

Builds the same network as the matcher's exact solver: source -> mentee (capacity 1) ->
mentor (cost -score*priority) -> sink (capacity = free slots), plus a zero-cost arc from
every mentee straight to the sink so a mentee may stay unmatched. Costs are scaled to
integers exactly as the matcher does (round(score * priority * 1e6)). Prints one JSON line
shaped like the matcher's: objective, matched, elapsed_ms (the solve alone), solver.
"""

import json
import sys
import time

from ortools.graph.python import min_cost_flow

SCALE = 1_000_000


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        instance = json.load(f)
    mentees = instance["mentees"]
    mentors = instance["mentors"]
    edges = instance["edges"]
    n, m = len(mentees), len(mentors)
    source, sink = n + m, n + m + 1

    tails, heads, caps, costs = [], [], [], []

    def arc(tail, head, cap, cost):
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(cost)

    for i in range(n):
        arc(source, i, 1, 0)
        arc(i, sink, 1, 0)
    first_edge = len(tails)
    for e in edges:
        weight = round(e["score"] * mentees[e["mentee"]]["priority"] * SCALE)
        arc(e["mentee"], n + e["mentor"], 1, -weight)
    for j, mentor in enumerate(mentors):
        arc(n + j, sink, mentor["capacity"], 0)

    started = time.perf_counter()
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = [0] * (n + m + 2)
    supplies[source] = n
    supplies[sink] = -n
    flow.set_nodes_supplies(list(range(n + m + 2)), supplies)
    status = flow.solve()
    elapsed_ms = (time.perf_counter() - started) * 1e3
    if status != flow.OPTIMAL:
        print(f"min-cost flow failed with status {status}", file=sys.stderr)
        return 1

    objective = 0.0
    matched = 0
    for k, e in enumerate(edges):
        if flow.flow(arcs[first_edge + k]) > 0:
            matched += 1
            objective += e["score"] * mentees[e["mentee"]]["priority"]
    print(json.dumps({
        "objective": objective,
        "matched": matched,
        "elapsed_ms": elapsed_ms,
        "solver": "ortools",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
