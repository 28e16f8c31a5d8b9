// Run by fast_cpu.test.ts without --allow-ffi: a matmul large enough for the onnxruntime route
// must warn once, fall back to WebAssembly and still be right.
import { matmul, ones } from "../../core/mod.ts";

const y = matmul(ones([300, 300]), ones([300, 300]));
const z = matmul(ones([200, 300]), ones([300, 200]));
const v = y.toArraySync(), w = z.toArraySync();
const right = v.every((x) => x === 300) && w.every((x) => x === 300);
console.log(right ? `ok ${v[0]} ${w[0]}` : `wrong ${v[0]} ${w[0]}`);
