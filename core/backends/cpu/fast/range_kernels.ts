/**
 * Every range kernel of the f32 `cpu` backend, loaded together: the helper threads import this
 * module so they know each kernel the main thread may hand them.
 *
 * @module
 */

import "./range_elementwise.ts";
import "./range_rows.ts";
import "./range_layout.ts";
import "./range_attention.ts";
import "./range_attention_heads.ts";

export { findRangeKernel, type RangeArg, type RangeKernel } from "./range_registry.ts";
