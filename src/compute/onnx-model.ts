/**
 * A minimal ONNX ModelProto encoder. The graphs we run (Gemm, TopK, a logistic-regression
 * loss) are a handful of nodes, so hand-encoding the protobuf is ~100 lines and avoids a
 * protobuf dependency. Field numbers are from onnx/onnx.proto (IR version 8, opset 17).
 */

/** ONNX TensorProto.DataType values we use. */
export const ELEM_FLOAT = 1;
export const ELEM_INT64 = 7;
export const ELEM_DOUBLE = 11;

export type AttrValue = number | { readonly float: number } | readonly number[];

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integers encode as INT, `{ float }` as FLOAT, arrays as INTS. */
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface ValueSpec {
  readonly name: string;
  readonly elemType: number;
  /** A number is a fixed size, a string a named dynamic dimension. */
  readonly dims: readonly (number | string)[];
}

export interface Int64Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: readonly Int64Initializer[];
  /** Float32 weights (e.g. a fixed MLP written to a file for onnx-activations tests and benches). */
  readonly floatInitializers?: readonly FloatInitializer[];
}

export interface FloatInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

class Writer {
  private readonly bytes: number[] = [];

  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`onnx-model: varint ${v} unsupported`);
    let x = v;
    while (x >= 0x80) {
      this.bytes.push((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    this.bytes.push(x);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  float(field: number, v: number): this {
    const buf = new DataView(new ArrayBuffer(4));
    buf.setFloat32(0, v, true);
    this.tag(field, 5);
    for (let i = 0; i < 4; i++) this.bytes.push(buf.getUint8(i));
    return this;
  }

  bytesField(field: number, b: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytesField(field, inner.bytes);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeAttr(w: Writer, name: string, value: AttrValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    // Negative attributes would need 10-byte two's-complement varints; our graphs never use them.
    w.int(3, value).int(20, 2);
  } else if (Array.isArray(value)) {
    for (const v of value as readonly number[]) w.int(8, v);
    w.int(20, 7);
  } else {
    w.float(2, (value as { float: number }).float).int(20, 1);
  }
}

function writeValueInfo(w: Writer, v: ValueSpec): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

/** Encode a single-graph ONNX model (IR 8, default domain opset 17). */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'trainguard');
  w.message(7, (g) => {
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const i of node.inputs) n.string(1, i);
        for (const o of node.outputs) n.string(2, o);
        n.string(4, node.op);
        for (const [k, v] of Object.entries(node.attrs ?? {})) n.message(5, (a) => writeAttr(a, k, v));
      });
    }
    g.string(2, graph.name);
    for (const init of graph.initializers ?? []) {
      g.message(5, (t) => {
        for (const d of init.dims) t.int(1, d);
        t.int(2, ELEM_INT64);
        t.string(8, init.name);
        const raw = new DataView(new ArrayBuffer(init.values.length * 8));
        init.values.forEach((v, i) => raw.setBigInt64(i * 8, BigInt(v), true));
        t.bytesField(9, new Uint8Array(raw.buffer));
      });
    }
    for (const init of graph.floatInitializers ?? []) {
      g.message(5, (t) => {
        for (const d of init.dims) t.int(1, d);
        t.int(2, ELEM_FLOAT);
        t.string(8, init.name);
        // raw_data is little-endian; copy so a subarray view or a big-endian host cannot leak other bytes.
        const raw = new DataView(new ArrayBuffer(init.values.length * 4));
        init.values.forEach((v, i) => raw.setFloat32(i * 4, v, true));
        t.bytesField(9, new Uint8Array(raw.buffer));
      });
    }
    for (const i of graph.inputs) g.message(11, (v) => writeValueInfo(v, i));
    for (const o of graph.outputs) g.message(12, (v) => writeValueInfo(v, o));
  });
  w.message(8, (op) => op.string(1, '').int(2, 17));
  return w.finish();
}
