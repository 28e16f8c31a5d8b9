/**
 * A restricted unpickler: a small stack machine for the pickle opcodes `torch.save` emits
 * (protocol 2, plus the protocol 4 framing and short forms), resolving globals ONLY through an
 * allow-list the caller supplies. Nothing in the stream can run code: an unlisted global
 * (`os.system`, `builtins.eval`, ...) or an object-building opcode outside the list stops
 * decoding with an {@link UnsafePickleError} before anything further is read.
 *
 * Python values map to: None → null, bool → boolean, int/float → number (LONG values beyond
 * 2^53 lose precision), str → string, bytes → Uint8Array, tuple → frozen array, list → array,
 * dict → Map.
 *
 * @module
 */

/** A global the allow-list lets a stream call through REDUCE. */
export interface PickleCallable {
  /** Fully qualified name, e.g. `torch._utils._rebuild_tensor_v2`. */
  readonly qualifiedName: string;
  /** Build the value for `callable(*args)`. */
  call(args: readonly unknown[]): unknown;
}

/** Refusal to decode a stream that names a global outside the allow-list or an unsafe opcode. */
export class UnsafePickleError extends Error {
  /** The refused `module.name` (or the opcode, for an opcode refusal). */
  readonly what: string;
  /** The file or stream the pickle came from. */
  readonly source: string;

  /**
   * Describe a refusal.
   *
   * @param what The refused global or opcode.
   * @param source The file or stream.
   * @param message Full explanation.
   */
  constructor(what: string, source: string, message: string) {
    super(message);
    this.name = "UnsafePickleError";
    this.what = what;
    this.source = source;
  }
}

/** Options for {@link unpickle}. */
export interface UnpickleOptions {
  /** The only globals a stream may reference, keyed by `module.name`. */
  globals: ReadonlyMap<string, unknown>;
  /** Resolve a persistent id (BINPERSID); absent means persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Name of the source for messages, e.g. `pytorch_model.bin (archive/data.pkl)`. */
  source?: string;
}

function isCallable(value: unknown): value is PickleCallable {
  return typeof value === "object" && value !== null &&
    typeof (value as PickleCallable).call === "function" &&
    typeof (value as PickleCallable).qualifiedName === "string";
}

/** The longest LONG4 integer decoded (a checkpoint's sizes and offsets need at most 8). */
const MAX_LONG_BYTES = 64;

function readLong(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return Number(value);
}

/**
 * Decode a pickle stream with an allow-list of globals.
 *
 * @param bytes The pickle.
 * @param options Allowed globals, persistent-id loader, source name.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const source = options.source ?? "pickle";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const latin1 = new TextDecoder("latin1");
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  function fail(message: string): never {
    throw new Error(`${source}: pickle byte ${pos}: ${message}`);
  }
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`stream ends inside an opcode argument (needs ${n} bytes)`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => take(1)[0];
  const u16 = () => (need(2), pos += 2, view.getUint16(pos - 2, true));
  const u32 = () => (need(4), pos += 4, view.getUint32(pos - 4, true));
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const u64 = () => (need(8), pos += 8, Number(view.getBigUint64(pos - 8, true)));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated text line");
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = metastack.pop();
    if (previous === undefined) fail("MARK expected but none is open");
    stack = previous!;
    return items;
  };
  const findGlobal = (module: string, name: string): unknown => {
    const qualified = `${module}.${name}`;
    if (!options.globals.has(qualified)) {
      throw new UnsafePickleError(
        qualified,
        source,
        `${source}: refusing to load: the pickle references the global "${qualified}", which is ` +
          `not a tensor-rebuilding function. Only ${[...options.globals.keys()].join(", ")} ` +
          `are allowed. Nothing was executed. If the file is not from a source you trust, ` +
          `delete it; a safetensors checkpoint avoids pickle altogether.`,
      );
    }
    return options.globals.get(qualified);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) fail("SETITEM(S) target is not a dict");
    if (items.length % 2 !== 0) fail("SETITEMS needs key/value pairs");
    for (let i = 0; i < items.length; i += 2) {
      (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
    }
  };
  const appendItems = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list) || Object.isFrozen(list)) fail("APPEND(S) target is not a list");
    (list as unknown[]).push(...items);
  };

  while (pos < bytes.length) {
    const opcodeAt = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("pickle protocol above 5");
        break;
      case 0x95: // FRAME: a length prefix only; the opcodes follow inline.
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length !== 0) fail("STOP with an unbalanced stack");
        return stack[0];
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(readLong(take(u8())));
        break;
      case 0x8b: { // LONG4
        // A state dict's integers fit in 8 bytes; a longer one is junk (and slow to decode).
        const length = u32();
        if (length > MAX_LONG_BYTES) {
          fail(`LONG4 of ${length} bytes (integers beyond ${MAX_LONG_BYTES} bytes are refused)`);
        }
        stack.push(readLong(take(length)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x74: { // TUPLE
        // popMark swaps `stack`, so take the items before touching it.
        const items = Object.freeze(popMark());
        stack.push(items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x6c: { // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x64: { // DICT
        const dict = new Map();
        const items = popMark();
        setItems(dict, items);
        stack.push(dict);
        break;
      }
      case 0x61: { // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const index = op === 0x68 ? u8() : u32();
        if (!memo.has(index)) fail(`memo slot ${index} is empty`);
        stack.push(memo.get(index));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!isCallable(callable)) fail("REDUCE on a value that is not an allowed callable");
        if (!Array.isArray(args)) fail("REDUCE arguments are not a tuple");
        stack.push((callable as PickleCallable).call(args as unknown[]));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        // Instance state (e.g. a state_dict's `_metadata`) carries nothing we read; only
        // plain containers may receive it, so BUILD cannot reach arbitrary setters.
        if (!(target instanceof Map)) fail("BUILD on a value that is not a dict");
        void state;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail("persistent ids are not allowed in this stream");
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default: {
        const hex = `0x${op.toString(16).padStart(2, "0")}`;
        const char = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : "";
        throw new UnsafePickleError(
          `opcode ${hex}`,
          source,
          `${source}: refusing to load: pickle opcode ${hex}${char} at byte ${opcodeAt} is not ` +
            `one that torch.save emits for tensors. Nothing was executed.`,
        );
      }
    }
  }
  return fail("stream ends without STOP");
}
