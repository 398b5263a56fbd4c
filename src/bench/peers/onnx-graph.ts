// A minimal ONNX model writer: just enough protobuf (ModelProto -> GraphProto -> NodeProto, ValueInfoProto,
// TensorProto initializers, int/float attributes) to hand onnxruntime-web the small graphs of the peers
// study without a model file or a protobuf dependency. Field numbers are those of onnx/onnx.proto.
const enc = new TextEncoder();

class Writer {
  private bytes: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.bytes.push(b);
    } while (x);
    return this;
  }
  private tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.tag(field, 5);
    this.bytes.push(...b);
    return this;
  }
  raw(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.raw(field, enc.encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.raw(field, w.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export type ElemType = 'float32' | 'int64';
const ELEM: Record<ElemType, number> = { float32: 1, int64: 7 };

export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: number[];
}

export interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  values: number[];
}

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, { int: number } | { float: number }>;
}

export interface Graph {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Initializer[];
  nodes: GraphNode[];
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.msg(1, new Writer().int(1, d));
  const tensor = new Writer().int(1, ELEM[v.type]).msg(2, shape);
  return new Writer().str(1, v.name).msg(2, new Writer().msg(1, tensor));
}

function tensorProto(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, ELEM[t.type]).str(8, t.name);
  const raw = t.type === 'float32' ? new Uint8Array(new Float32Array(t.values).buffer) : new Uint8Array(new BigInt64Array(t.values.map(BigInt)).buffer);
  return w.raw(9, raw);
}

function nodeProto(n: GraphNode, i: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.str(1, x);
  for (const x of n.outputs) w.str(2, x);
  w.str(3, `${n.op.toLowerCase()}_${i}`).str(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) {
    const attr = new Writer().str(1, name);
    if ('int' in a) attr.int(3, a.int).int(20, 2);
    else attr.float(2, a.float).int(20, 1);
    w.msg(5, attr);
  }
  return w;
}

/** Serialise a graph as an ONNX model (IR 8, default-domain opset 17). */
export function onnxModel(g: Graph): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.msg(1, nodeProto(n, i)));
  graph.str(2, 'peer');
  for (const t of g.initializers ?? []) graph.msg(5, tensorProto(t));
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  return new Writer()
    .int(1, 8)
    .str(2, 'llm-kernel-lab')
    .msg(8, new Writer().str(1, '').int(2, 17))
    .msg(7, graph)
    .finish();
}
