#!/usr/bin/env python3
"""Writes tests/fixtures/optim/torch_rmsprop.json: the parameters and state torch's own
RMSprop leaves after each of several steps on fixed parameters and gradients, for its defaults
and for settings that turn on weight decay, momentum and the centered variant, so Tether's
optim.RMSprop can be compared with them.

Computed in float64 from inputs rounded to 4 decimals; one step's gradient holds zeros, so the
eps path is covered.

Run with a Python that has torch (1.13 here):  /usr/bin/python3 tools/gen_rmsprop_fixture.py
"""

import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "optim" / "torch_rmsprop.json"

STEPS = 4

CASES = [
    # torch's defaults: lr 1e-2, alpha 0.99, eps 1e-8, no decay, no momentum, not centered.
    ("defaults", {}),
    # transformers' optim="rmsprop" passes only lr (TRL 0.7.4's dpo.py: 1e-3).
    ("trainer", {"lr": 1e-3}),
    ("momentum_weight_decay", {"lr": 3e-3, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1,
                               "momentum": 0.9}),
    ("centered", {"lr": 1e-2, "alpha": 0.95, "centered": True, "weight_decay": 0.05}),
    ("centered_momentum", {"lr": 5e-3, "alpha": 0.8, "eps": 1e-4, "centered": True,
                           "momentum": 0.5}),
]


def rounded(gen, shape):
    return torch.round(torch.randn(shape, generator=gen, dtype=torch.float64) * 1e4) / 1e4


def run(gen, kwargs):
    shape = (2, 3)
    param = rounded(gen, shape)
    grads = [rounded(gen, shape) for _ in range(STEPS)]
    grads[1][0, 1] = 0.0
    grads[1][1, 2] = 0.0
    p = torch.nn.Parameter(param.clone())
    opt = torch.optim.RMSprop([p], **kwargs)
    steps, states = [], []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        steps.append(p.detach().flatten().tolist())
        st = opt.state[p]
        states.append({
            "square_avg": st["square_avg"].flatten().tolist(),
            **({"momentum_buffer": st["momentum_buffer"].flatten().tolist()}
               if "momentum_buffer" in st else {}),
            **({"grad_avg": st["grad_avg"].flatten().tolist()} if "grad_avg" in st else {}),
        })
    group = {k: v for k, v in opt.param_groups[0].items()
             if k in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")}
    return {
        "kwargs": kwargs,
        "hyper": group,
        "param": {"shape": list(shape), "values": param.flatten().tolist()},
        "grads": [g.flatten().tolist() for g in grads],
        "steps": steps,
        "state": states,
    }


def main():
    torch.set_default_dtype(torch.float64)
    gen = torch.Generator().manual_seed(20231120)
    data = {
        "provenance": f"torch {torch.__version__} torch.optim.RMSprop (single-tensor), float64; "
        "param after each step and the state buffers",
        "cases": {name: run(gen, kwargs) for name, kwargs in CASES},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
