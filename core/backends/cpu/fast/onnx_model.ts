/**
 * Bytes of the one-node ONNX models the onnxruntime matmul route runs, written with a minimal
 * protobuf encoder (varints and length-delimited fields are all these messages need). Inputs and
 * output are declared without a shape, so one session serves every rank and size: `MatMul`
 * broadcasts batch axes, and `FusedMatMul` (onnxruntime's com.microsoft domain) is the same
 * product with the last two axes of either operand transposed, which MLAS reads without a copy.
 */

import { bytesField, intField, stringField } from "./protobuf.ts";

/** ValueInfoProto {name, type: TypeProto {tensor_type: {elem_type: FLOAT}}} with no shape. */
function floatTensorOfAnyShape(name: string): number[] {
  const tensorType = intField(1, 1); // elem_type = TensorProto.FLOAT
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/** AttributeProto {name, i, type = INT}. */
function intAttribute(name: string, value: number): number[] {
  return [...stringField(1, name), ...intField(3, value), ...intField(20, 2)];
}

const ONNX_IR_VERSION = 8;
const ONNX_OPSET = 13;
const MS_DOMAIN = "com.microsoft";

/** A model computing Y = op(A) @ op(B) for inputs named A, B and output Y. */
export function matmulModel(transA: boolean, transB: boolean): Uint8Array {
  const fused = transA || transB;
  const node = [
    ...stringField(1, "A"),
    ...stringField(1, "B"),
    ...stringField(2, "Y"),
    ...stringField(4, fused ? "FusedMatMul" : "MatMul"),
    ...(fused
      ? [
        ...stringField(7, MS_DOMAIN),
        ...bytesField(5, intAttribute("transA", transA ? 1 : 0)),
        ...bytesField(5, intAttribute("transB", transB ? 1 : 0)),
      ]
      : []),
  ];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, "tether_matmul"),
    ...bytesField(11, floatTensorOfAnyShape("A")),
    ...bytesField(11, floatTensorOfAnyShape("B")),
    ...bytesField(12, floatTensorOfAnyShape("Y")),
  ];
  const opsets = [
    ...bytesField(8, intField(2, ONNX_OPSET)),
    ...(fused ? bytesField(8, [...stringField(1, MS_DOMAIN), ...intField(2, 1)]) : []),
  ];
  return new Uint8Array([...intField(1, ONNX_IR_VERSION), ...opsets, ...bytesField(7, graph)]);
}
