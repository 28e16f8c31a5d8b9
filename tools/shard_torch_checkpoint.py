"""Split a pytorch_model.bin into shards with a pytorch_model.bin.index.json, as transformers'
save_pretrained(max_shard_size=...) lays them out, for the sharded-.bin loading tests.

    /usr/bin/python3 tools/shard_torch_checkpoint.py SRC_DIR DST_DIR [SHARDS]

Copies config.json; tensors go to pytorch_model-0000i-of-0000n.bin in state-dict order, split
into SHARDS (default 2) runs of about equal size.
"""

import json
import shutil
import sys
from pathlib import Path

import torch


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    state = torch.load(src / "pytorch_model.bin", map_location="cpu")
    names = list(state.keys())
    total = sum(t.numel() * t.element_size() for t in state.values())
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "config.json", dst / "config.json")
    weight_map, shard, size, index = {}, {}, 0, 1

    def flush(shard: dict, index: int) -> None:
        name = f"pytorch_model-{index:05d}-of-{n:05d}.bin"
        torch.save({k: v.clone() for k, v in shard.items()}, dst / name)
        for k in shard:
            weight_map[k] = name

    for k in names:
        shard[k] = state[k]
        size += state[k].numel() * state[k].element_size()
        if index < n and size >= total * index / n:
            flush(shard, index)
            shard, index = {}, index + 1
    if shard:
        flush(shard, index)
    (dst / "pytorch_model.bin.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
