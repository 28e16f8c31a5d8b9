// Run by fast_cpu.test.ts in its own process. With --addon-first, onnxruntime-node's addon creates
// the process's onnxruntime environment first, as a transformers.js model would, and the matmul
// route's sessions must work in it; without it the route makes the environment itself. Products
// must be right either way.
import ort from "onnxruntime-node";
import { matmulModel } from "../../core/backends/cpu/fast/onnx_model.ts";
import { ortMatmul } from "../../core/backends/cpu/fast/ort_matmul.ts";

let addon: number[] | null = null;
if (Deno.args.includes("--addon-first")) {
  const first = await ort.InferenceSession.create(matmulModel(false, false));
  const two = new ort.Tensor("float32", Float32Array.of(1, 2, 3, 4), [2, 2]);
  addon = [...(await first.run({ A: two, B: two })).Y.data as Float32Array];
}

const a = Float32Array.of(1, 2, 3, 4), out = new Float32Array(4);
const results: number[][] = [];
for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
  ortMatmul(a, a, out, [2, 2], [2, 2], [2, 2], transA, transB);
  results.push([...out]);
}
console.log(JSON.stringify({ addon, results }));
