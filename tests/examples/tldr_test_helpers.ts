// Helpers the TL;DR example tests share: a scratch folder per test and a word-level tokenizer.

/** Runs `fn` in a fresh temporary folder and removes it afterwards. */
export async function inTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A word tokenizer: one id per space-separated word (ids from a growing table), EOS = 0. */
export function wordTokenizer() {
  const ids = new Map<string, number>([["<eos>", 0]]);
  const words: string[] = ["<eos>"];
  return {
    eosTokenId: 0,
    padTokenId: 0,
    encode(text: string) {
      return text.split(" ").filter(Boolean).map((w) => {
        if (!ids.has(w)) {
          ids.set(w, words.length);
          words.push(w);
        }
        return ids.get(w)!;
      });
    },
    decode(list: number[], opts: { skipSpecialTokens?: boolean } = {}) {
      return list.filter((i) => !(opts.skipSpecialTokens && i === 0)).map((i) => words[i]).join(
        " ",
      );
    },
  };
}
