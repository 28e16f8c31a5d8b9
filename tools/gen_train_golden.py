"""Writes tests/fixtures/train_golden.json: reference numbers from PyTorch for a training step of a
small MLP, for AdamW / Adam / SGD updates, for clip_grad_norm_ and for learning-rate schedules.

Run with the system Python that has torch 1.13:  /usr/bin/python3 tools/gen_train_golden.py

Everything is computed in float64 from inputs rounded to 4 decimals, so the TypeScript tests can
hold the f64 backend to ~1e-10 and the f32 backend to ~1e-4 relative.
"""

import json
import math
import pathlib

import torch

torch.set_default_dtype(torch.float64)
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "train_golden.json"


def rounded(gen, *shape, scale=1.0):
    x = torch.randn(*shape, generator=gen) * scale
    return torch.round(x * 1e4) / 1e4


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def entry(t):
    return {"shape": list(t.shape), "values": flat(t)}


def mlp_step(gen):
    n_in, hidden, n_out, batch = 5, 7, 3, 4
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden),
        torch.nn.GELU(approximate="tanh"),
        torch.nn.Linear(hidden, n_out),
    )
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(rounded(gen, *p.shape, scale=0.5))
    initial = {name: entry(p) for name, p in model.named_parameters()}
    x = rounded(gen, batch, n_in)
    targets = torch.tensor([2, 0, 1, 2])
    hyper = {"lr": 0.01, "betas": [0.9, 0.98], "eps": 1e-6, "weight_decay": 0.05}
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=hyper["lr"],
        betas=tuple(hyper["betas"]),
        eps=hyper["eps"],
        weight_decay=hyper["weight_decay"],
    )
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, targets)
    loss.backward()
    grads = {name: entry(p.grad) for name, p in model.named_parameters()}
    opt.step()
    after = {name: entry(p) for name, p in model.named_parameters()}
    with torch.no_grad():
        loss_after = torch.nn.functional.cross_entropy(model(x), targets)
    return {
        "sizes": {"in": n_in, "hidden": hidden, "out": n_out, "batch": batch},
        "activation": "gelu_tanh",
        "x": entry(x),
        "targets": [int(t) for t in targets],
        "params": initial,
        "logits": entry(logits),
        "loss": float(loss),
        "grads": grads,
        "adamw": hyper,
        "params_after": after,
        "loss_after": float(loss_after),
    }


def run_optimizer(make, param0, grads):
    p = param0.clone().requires_grad_(True)
    opt = make([p])
    steps = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        steps.append(flat(p))
    state = {k: flat(v) for k, v in opt.state[p].items() if torch.is_tensor(v) and v.dim() > 0}
    return steps, state


def optimizer_cases(gen):
    shape = (3, 4)
    param0 = rounded(gen, *shape)
    grads = [rounded(gen, *shape, scale=0.3) for _ in range(3)]
    common = {"param": entry(param0), "grads": [flat(g) for g in grads]}
    cases = {}

    adamw = {"lr": 0.01, "betas": [0.8, 0.95], "eps": 1e-3, "weight_decay": 0.1}
    steps, state = run_optimizer(
        lambda ps: torch.optim.AdamW(
            ps, lr=adamw["lr"], betas=tuple(adamw["betas"]), eps=adamw["eps"],
            weight_decay=adamw["weight_decay"]),
        param0, grads)
    cases["adamw"] = {**common, "hyper": adamw, "steps": steps,
                      "exp_avg": state["exp_avg"], "exp_avg_sq": state["exp_avg_sq"]}

    adam = {"lr": 0.02, "betas": [0.85, 0.99], "eps": 1e-7, "weight_decay": 0.05}
    steps, state = run_optimizer(
        lambda ps: torch.optim.Adam(
            ps, lr=adam["lr"], betas=tuple(adam["betas"]), eps=adam["eps"],
            weight_decay=adam["weight_decay"]),
        param0, grads)
    cases["adam"] = {**common, "hyper": adam, "steps": steps,
                     "exp_avg": state["exp_avg"], "exp_avg_sq": state["exp_avg_sq"]}

    sgd_configs = {
        "sgd_nesterov": {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": True,
                         "weight_decay": 0.01},
        "sgd_dampening": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "nesterov": False,
                          "weight_decay": 0.0},
        "sgd_plain": {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "nesterov": False,
                      "weight_decay": 0.02},
    }
    for name, h in sgd_configs.items():
        steps, state = run_optimizer(
            lambda ps, h=h: torch.optim.SGD(
                ps, lr=h["lr"], momentum=h["momentum"], dampening=h["dampening"],
                nesterov=h["nesterov"], weight_decay=h["weight_decay"]),
            param0, grads)
        case = {**common, "hyper": h, "steps": steps}
        if "momentum_buffer" in state:
            case["momentum_buffer"] = state["momentum_buffer"]
        cases[name] = case
    return cases


def clip_cases(gen):
    grads = [rounded(gen, 3, 4), rounded(gen, 5)]
    cases = []
    for max_norm, norm_type in [(1.0, 2.0), (0.5, math.inf), (100.0, 1.0), (2.0, 3.0)]:
        ps = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        cases.append({
            "max_norm": max_norm,
            "norm_type": "inf" if norm_type == math.inf else norm_type,
            "total_norm": float(total),
            "clipped": [flat(p.grad) for p in ps],
        })
    return {"grads": [entry(g) for g in grads], "cases": cases}


# transformers' schedule multipliers (transformers/optimization.py), driven by torch's LambdaLR.
def linear_with_warmup(warmup, total):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def cosine_with_warmup(warmup, total, num_cycles=0.5):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))
    return f


def constant_with_warmup(warmup):
    def f(step):
        if step < warmup:
            return float(step) / float(max(1.0, warmup))
        return 1.0
    return f


def schedule_cases():
    specs = [
        ("linear", {"warmup": 3, "total": 10}, linear_with_warmup(3, 10)),
        ("cosine", {"warmup": 2, "total": 10, "num_cycles": 0.5}, cosine_with_warmup(2, 10)),
        ("cosine", {"warmup": 0, "total": 8, "num_cycles": 1.5}, cosine_with_warmup(0, 8, 1.5)),
        ("constant_with_warmup", {"warmup": 4}, constant_with_warmup(4)),
    ]
    cases = []
    for kind, args, fn in specs:
        base_lrs = [0.1, 0.003]
        groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in base_lrs]
        opt = torch.optim.SGD(groups, lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
        lrs = [list(sched.get_last_lr())]
        for _ in range(12):
            opt.step()
            sched.step()
            lrs.append(list(sched.get_last_lr()))
        cases.append({"kind": kind, "args": args, "base_lrs": base_lrs, "lrs": lrs})
    return cases


def main():
    gen = torch.Generator().manual_seed(1234)
    golden = {
        "generator": "tools/gen_train_golden.py",
        "torch": torch.__version__,
        "mlp_step": mlp_step(gen),
        "optimizers": optimizer_cases(gen),
        "clip_grad_norm": clip_cases(gen),
        "schedules": schedule_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
