// The op suite on the f64 reference backend: inputs, arithmetic and readback are all f64, so it is
// held to 1e-9 against PyTorch float64 (the fixture keeps 14 significant digits). Anything computed
// in f32 along the way fails this bound by orders of magnitude.
import { defineKernelCoverage, defineOpSuite } from "./op_suite.ts";
import { readF64 } from "./gradcheck.ts";

defineOpSuite("cpu64", { tolerance: 1e-9, read: readF64 });
defineKernelCoverage("cpu64", { tolerance: 1e-9, read: readF64 });
