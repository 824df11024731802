"""Write the tiny legacy-format (non-zip) PyTorch checkpoint the Rust reader is tested on.

    python scripts/legacy_pth_fixture.py   # needs torch (any 1.6+; 2.15 was used)

Writes crates/workloads/tests/fixtures/legacy_pth/tiny_legacy.pth with
`torch.save(..., _use_new_zipfile_serialization=False)` and tiny_legacy.json with every
tensor's dtype, shape and values as PyTorch sees them. The state dict covers what a reader
can get wrong: f32/f16/i64/u8 storages, a 0-dim tensor, a transposed (non-contiguous) view,
two tensors sharing one storage at different offsets, and an entry that is not a tensor.
"""
import collections
import json
import os

import torch

out = os.path.join(os.path.dirname(__file__), "..", "crates", "workloads", "tests",
                   "fixtures", "legacy_pth")
os.makedirs(out, exist_ok=True)

base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
shared = torch.arange(10, dtype=torch.float32) * 0.5
sd = collections.OrderedDict()
sd["conv.weight"] = base
sd["conv.weight_t"] = base.t()                 # a transposed view of the same storage
sd["half"] = torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16)
sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
sd["bytes"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
sd["shared.a"] = shared[2:5]                   # offset 2 in a storage of 10
sd["shared.b"] = shared[6:].reshape(2, 2)      # offset 6, same storage
sd["note"] = "not a tensor"

path = os.path.join(out, "tiny_legacy.pth")
torch.save(sd, path, _use_new_zipfile_serialization=False)

expected = {}
for k, v in sd.items():
    if isinstance(v, torch.Tensor):
        expected[k] = {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                       "values": v.flatten().tolist()}
with open(os.path.join(out, "tiny_legacy.json"), "w") as f:
    json.dump(expected, f)
    f.write("\n")
# The reader must not need torch: check torch itself reads the file back the same way.
back = torch.load(path, weights_only=True)
assert all(torch.equal(back[k], sd[k]) for k in expected)
print(path, os.path.getsize(path), "bytes")
