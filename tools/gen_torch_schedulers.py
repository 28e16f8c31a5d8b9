#!/usr/bin/env python3
"""Writes tests/fixtures/optim/torch_schedulers.json: the learning rates torch's own
CosineAnnealingLR and LinearLR set, step by step, for the settings trlX configs name, so the
TypeScript schedulers can be compared with them.

Run with a Python that has torch (1.13 here):  /usr/bin/python3 tools/gen_torch_schedulers.py
"""

import json
import pathlib

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "optim" / "torch_schedulers.json"

CASES = [
    # trlX's default_ppo_config(): eta_min equals the lr, so the lr never moves.
    ("cosine_annealing", 3e-5, {"T_max": 1e12, "eta_min": 3e-5}, 6),
    # A schedule that decays, passes T_max and climbs back (torch's restart branch included).
    ("cosine_annealing", 1e-3, {"T_max": 10, "eta_min": 1e-5}, 25),
    ("cosine_annealing", 0.1, {"T_max": 3}, 8),
    # torch's defaults: start_factor 1/3, end_factor 1, total_iters 5.
    ("linear", 2e-3, {}, 8),
    ("linear", 1e-2, {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 4}, 7),
]


def run(name, lr, kwargs, steps):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    cls = CosineAnnealingLR if name == "cosine_annealing" else LinearLR
    sched = cls(opt, **kwargs)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return {"name": name, "lr": lr, "kwargs": kwargs, "lrs": lrs}


def main():
    data = {
        "provenance": f"torch {torch.__version__} torch.optim.lr_scheduler, get_last_lr() after "
        "construction and after each step",
        "cases": [run(*c) for c in CASES],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
