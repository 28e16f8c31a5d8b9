// The op suite on the f32 CPU backend, against PyTorch float64 goldens (tolerance 1e-4).
import { defineKernelCoverage, defineOpSuite } from "./op_suite.ts";

defineOpSuite("cpu");
defineKernelCoverage("cpu");
