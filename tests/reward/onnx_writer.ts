/**
 * A minimal ONNX writer for test models: enough of the protobuf encoding (varints,
 * length-delimited fields, fixed32 floats) to emit a ModelProto with one graph of nodes,
 * initializers stored as raw little-endian bytes, and typed inputs and outputs whose dimensions
 * are numbers or symbolic names. Field numbers follow onnx.proto (IR version 8, opset 13).
 */

import {
  bytesField,
  floatField,
  intField,
  stringField,
} from "../../core/backends/cpu/fast/protobuf.ts";

/** Element types the writer stores; the value is TensorProto.DataType. */
export const ElemType = { float: 1, int64: 7 } as const;

/** A constant tensor of the graph. */
export interface OnnxInitializer {
  /** Name the nodes refer to. */
  name: string;
  /** Element type. */
  type: keyof typeof ElemType;
  /** Dimensions (empty for a scalar). */
  dims: readonly number[];
  /** Values in row-major order. */
  values: readonly number[];
}

/** A graph input or output: a tensor with a type and a shape. */
export interface OnnxValue {
  /** Tensor name. */
  name: string;
  /** Element type. */
  type: keyof typeof ElemType;
  /** Dimensions: a number is fixed, a string is a symbolic (free) dimension. */
  shape: readonly (number | string)[];
}

/** An attribute value: an integer, a float (written as such when `float` is set), or integers. */
export type OnnxAttribute = number | readonly number[] | { float: number };

/** One operator application. */
export interface OnnxNode {
  /** Operator name, e.g. `MatMul`. */
  op: string;
  /** Input tensor names. */
  inputs: readonly string[];
  /** Output tensor names. */
  outputs: readonly string[];
  /** Attributes by name. */
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A whole model. */
export interface OnnxGraph {
  /** Graph name. */
  name: string;
  /** Nodes in topological order. */
  nodes: readonly OnnxNode[];
  /** Constant tensors. */
  initializers: readonly OnnxInitializer[];
  /** Graph inputs. */
  inputs: readonly OnnxValue[];
  /** Graph outputs. */
  outputs: readonly OnnxValue[];
}

function rawData(type: keyof typeof ElemType, values: readonly number[]): Uint8Array {
  const width = type === "float" ? 4 : 8;
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (type === "float") view.setFloat32(i * 4, v, true);
    else {
      if (!Number.isInteger(v)) throw new Error(`int64 initializer value ${v} is not an integer`);
      view.setBigInt64(i * 8, BigInt(v), true);
    }
  });
  return bytes;
}

function tensorProto(t: OnnxInitializer): number[] {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.values.length) {
    throw new Error(
      `initializer ${t.name}: dims [${t.dims}] hold ${count} values, got ${t.values.length}`,
    );
  }
  return [
    ...t.dims.flatMap((d) => intField(1, d)),
    ...intField(2, ElemType[t.type]),
    ...stringField(8, t.name),
    ...bytesField(9, rawData(t.type, t.values)),
  ];
}

function valueInfo(v: OnnxValue): number[] {
  const dims = v.shape.flatMap((d) =>
    bytesField(1, typeof d === "number" ? intField(1, d) : stringField(2, d))
  );
  const tensorType = [...intField(1, ElemType[v.type]), ...bytesField(2, dims)];
  return [...stringField(1, v.name), ...bytesField(2, bytesField(1, tensorType))];
}

// AttributeProto.type: FLOAT = 1, INT = 2, INTS = 7.
function attribute(name: string, value: OnnxAttribute): number[] {
  const head = stringField(1, name);
  if (typeof value === "number") return [...head, ...intField(3, value), ...intField(20, 2)];
  if ("float" in value) return [...head, ...floatField(2, value.float), ...intField(20, 1)];
  return [...head, ...value.flatMap((v) => intField(8, v)), ...intField(20, 7)];
}

function nodeProto(n: OnnxNode, index: number): number[] {
  return [
    ...n.inputs.flatMap((name) => stringField(1, name)),
    ...n.outputs.flatMap((name) => stringField(2, name)),
    ...stringField(3, `${n.op}_${index}`),
    ...stringField(4, n.op),
    ...Object.entries(n.attributes ?? {}).flatMap(([k, v]) => bytesField(5, attribute(k, v))),
  ];
}

/**
 * Serialise a graph as an ONNX model (IR version 8, default-domain opset 13).
 *
 * @param graph Nodes, initializers, inputs and outputs.
 */
export function onnxModel(graph: OnnxGraph): Uint8Array {
  const body = [
    ...graph.nodes.flatMap((n, i) => bytesField(1, nodeProto(n, i))),
    ...stringField(2, graph.name),
    ...graph.initializers.flatMap((t) => bytesField(5, tensorProto(t))),
    ...graph.inputs.flatMap((v) => bytesField(11, valueInfo(v))),
    ...graph.outputs.flatMap((v) => bytesField(12, valueInfo(v))),
  ];
  return new Uint8Array([
    ...intField(1, 8),
    ...stringField(2, "tether-tests"),
    ...bytesField(7, body),
    ...bytesField(8, intField(2, 13)),
  ]);
}
